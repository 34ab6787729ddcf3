/** The platform token: one source, one strategy per grant (docs/token-dialects.md). */
export { createTokenSource, type TokenSource, type TokenSourceOptions } from './token-source';
export type { TokenHealth, TokenStatus } from './token-status';
export type { GrantContext, GrantTraits, TokenGrantStrategy } from './grant-strategy';
export {
  createTokenClient,
  processClientCredentialsResponse,
  TOKEN_PATH,
  type ClientCredentialsToken,
  type TokenClient,
  type TokenClientOptions,
} from './token-client';
