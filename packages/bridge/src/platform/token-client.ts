/** Kept for imports by path: the default dialect's token client lives in token/token-client.ts. */
export {
  createTokenClient,
  processClientCredentialsResponse,
  TOKEN_PATH,
  type ClientCredentialsToken,
  type TokenClient,
  type TokenClientOptions,
} from './token';
export { basicCredentials } from './token-request';
