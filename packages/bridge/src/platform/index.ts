/**
 * The platform as a client (docs/platform-protocol.md): HTTP, the circuit breaker, the token
 * grants, the accounts calls and their metrics. Knows nothing of the bridge that uses it.
 */
export {
  createAccountsClient,
  processLoginResponse,
  processLogoutResponse,
  type AccountsClient,
  type AccountsClientOptions,
  type PlatformLoginDetails,
  type PlatformSession,
} from './accounts-client';
export {
  createCircuitBreaker,
  type CircuitBreakerOptions,
  type PlatformCircuitBreaker,
  type PlatformGuard,
} from './circuit-breaker';
export { createPlatformMetrics, noMetrics, type CircuitState, type MetricsRegistry, type OutcomeKind, type OutcomeListener, type PlatformEndpoint, type PlatformMetrics, type PlatformOutcome } from './metrics';
export {
  createTokenClient,
  processClientCredentialsResponse,
  type ClientCredentialsToken,
  type TokenClient,
  type TokenClientOptions,
} from './token';
export { createTokenSource, type TokenGrantStrategy, type TokenHealth, type TokenSource, type TokenSourceOptions, type TokenStatus } from './token';
export { processTokenResponse, type TokenAnswer } from './token-reply';
export { createDatabaseTokenStore, createMemoryTokenStore, type TokenRecord, type TokenStore } from './token-store';
export { tokenSettingsProblems, viafouraTokenSettings, type BasicEncoding, type ClientAuth, type TokenGrant, type TokenSettings } from './token-settings';
export { createCredentialsCheck, type CredentialsCheck, type CredentialsCheckResult } from './credentials-check';
export { parseEncryptionKey, SealedTokenError, type SealedTokenCode } from './token-crypto';

