/**
 * The library's one entry (`require('vf-login-bridge')` or `import ... from 'vf-login-bridge'`):
 * the Express adapter, and the core beneath it for apps that wire it by hand
 * (docs/architecture.md). `vf-login-bridge/passport` adds passport's login and logout.
 */
export {
  createViafouraBridge,
  embedTagHtml,
  SessionSetupError,
  type SessionSetupCode,
  type HookRouterOptions,
  type ViafouraBridge,
  type ViafouraBridgeOptions,
  type ViafouraLocals,
} from './express/adapter';
export { createPlatform, type CreatePlatformOptions, type Platform, type PlatformOptions } from './create-platform';
export { createBridge, liveHostSessionsOf, PENDING_COUNT_CAP, type Bridge, type BridgeDeps, type BridgeOptions, type HostSessionCheck, type HostUser } from './core';
export {
  createAccountsClient,
  createTokenClient,
  type PlatformSession,
  type TokenSource,
  type TokenStatus,
  type CircuitState,
  type MetricsRegistry,
  type OutcomeKind,
  type OutcomeListener,
  type PlatformOutcome,
} from './platform';
export {
  tokenSettingsProblems,
  viafouraTokenSettings,
  keepsRefreshTokens,
  basicEncodingOf,
  basicEncodingWarning,
  AUTHORIZE_PROMPTS,
  BASIC_ENCODINGS,
  CLIENT_AUTHS,
  REFRESH_TOKEN_PLACES,
  TOKEN_GRANTS,
} from './platform/token-settings';
export type { BasicEncoding, ClientAuth, RefreshTokenIn, TokenGrant, TokenSettings } from './platform/token-settings';
export { createCredentialsCheck, type CredentialsCheck, type CredentialsCheckOptions, type CredentialsCheckResult } from './platform/credentials-check';
export { parseEncryptionKey, SealedTokenError, type SealedTokenCode } from './platform/token-crypto';
export { createBackgroundJobs, DEFAULT_SCHEDULE, type BackgroundJobs, type JobName, type JobSchedule } from './jobs';
export { createHookRoutes, signHook, verifyHookSignature, SIGNATURE_TOLERANCE_SECONDS, type HookDeps } from './hooks';
export { createReplayGuard, standardWebhookHeaders, webhookSecretProblem, WEBHOOK_ID_MAX_LENGTH, WEBHOOK_ID_RETENTION_MS, type ReplayGuard } from './hooks';
export { createBackchannelLogoutRoutes, type BackchannelLogoutDeps, type BackchannelLogoutOptions } from './oidc';
export { openBridgeDatabase, type BridgeDatabase, type OpenBridgeDatabaseOptions } from './store/bridge-database';
export { connectDatabase, toConnection, POSTGRES_LIMITS, type Connection, type ConnectOptions, type QueryRun, type DatabaseSource, type Dialect } from './store/database';
export type { PgPoolHandle, RawClient, SqliteHandle } from './store/handles';
export { inBatches, keyIn } from './core/batches';
export { createIndexOnline, runMigrations, type OnlineIndex, type StepMigration } from './store/migrations';
export { BRIDGE_TABLES, type BridgeSchema, type BridgeSessionsTable, type HookReplaysTable, type JobLeasesTable, type PendingLogoutsTable, type PlatformTokensTable } from './store/schema';
export { DEFAULT_TABLE_PREFIX, TABLE_PREFIX_PATTERN, TablePrefixPlugin } from './store/table-prefix';
export { claimJobLease } from './store/job-lease';
export { DatabaseUnavailableError, isDatabaseUnavailable } from './store/unavailable';
export { AppError, BRIDGE_ERROR_STATUS, PlatformError, RequestError, isAppError, type BridgeErrorCode } from './errors';
export { createAdjustableClock, systemClock, type AdjustableClock, type Clock } from './clock';
export { createConsoleLogger, silentLogger, type LogLevel, type Logger } from './logger';
export {
  BRIDGE_SESSION_COLUMNS,
  bridgeRowFromJoined,
  joinedBridgeColumns,
  type BridgeSessionRow,
  type JoinedBridgeColumns,
} from './store/session-columns';
export { ForwardingStore, LogoutAwareStore, isSessionStore, storeDestroy, storeHas, storeRead } from './express/session-store';
export { viafouraLocals } from './express/embed-tag';
export { compileOnce } from './store/compiled-query';
export { touchCanCreate } from './express/session-store';
