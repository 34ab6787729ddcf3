/** Credentials the bench's emulator and sites share; a key with characters Basic auth must escape. */
export const BENCH_SITE_ID = 'bench-site';
export const BENCH_API_KEY = 'bench+key/with=chars';
export const BENCH_SESSION_SECRET = 'bench-session-secret-0123456789abcdef';
export const BENCH_PASSWORD = 'bench password 123 harbour';
export const ARTICLE_PATH = '/articles/harbour-bridge-reopens';
/** The reader of the bench's minimal publisher app (src/bench/adapter-process.ts), as its login knows them. */
export const BENCH_READER = { id: 'bench-reader-1', name: 'Bench Reader', email: 'reader@bench.example' };
