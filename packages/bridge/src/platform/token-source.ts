/** Kept for imports by path: the token source lives in token/ (one strategy per grant). */
export { createTokenSource, type TokenHealth, type TokenSource, type TokenSourceOptions, type TokenStatus } from './token';
