import type { AdjustableClock, Clock } from 'vf-login-bridge';
import type { Logger } from 'vf-login-bridge';
import type { EmulatedGrant, EmulatorProfile } from './profiles';

export interface EmulatorOptions {
  siteId: string;
  apiKey: string;
  /** Every expiry (tokens, idle sessions) is measured on this clock. Default: systemClock. */
  clock?: Clock;
  /** Lifetime of an access token. Default 3600, as the platform's example answer. */
  tokenTtlSeconds?: number;
  /** A session with no activity for this long is dead. Default 12 hours (docs/platform-protocol.md#idle-expiry). */
  sessionIdleMs?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: the OS picks a free port. */
  port?: number;
  /** Silent when absent. */
  logger?: Logger;
  /** The token dialect (src/profiles.ts). Default 'viafoura', seed 003. */
  profile?: EmulatorProfile;
  /** The integration user of the password grant (profile viima). */
  integrationUser?: { username: string; password: string };
  /** The personal access token the pat profile accepts. Default: the apiKey. */
  personalAccessToken?: string;
  /** How Basic client credentials are decoded (src/client-credentials.ts). Default: the profile's (viafoura raw, veem form). */
  basicEncoding?: 'raw' | 'form';
}

/** The three calls of the platform API (docs/platform-protocol.md). */
export type PlatformEndpoint = 'token' | 'login' | 'logout';
export type FaultEndpoint = PlatformEndpoint | 'any';
/** `'drop'` destroys the socket without answering. */
export type FaultKind = { status: number } | 'drop';

export interface EmulatorFaults {
  /** Added delay before answering; `'any'` (the default) sets all three endpoints. */
  setLatency(ms: number, endpoint?: FaultEndpoint): void;
  /** The next `count` matching requests fail; with `'any'` the count is shared by all endpoints. */
  failNext(count: number, kind: FaultKind, endpoint?: FaultEndpoint): void;
  /** "Platform down" until `failAll(null)`. */
  failAll(kind: FaultKind | null, endpoint?: FaultEndpoint): void;
  /** Every token issued so far becomes unknown, so its next use gets 401. */
  expireAllTokens(): void;
  /** Clears latency, failNext and failAll. */
  reset(): void;
}

export interface EmulatorStats {
  /** Every request to the endpoint, including refused and faulted ones. */
  calls: { token: number; login: number; logout: number };
  tokensIssued: number;
  users: number;
  /** Sessions neither logged out nor idle-expired at clock.now(). */
  liveSessions: number;
}

export interface PlatformUserView {
  userId: number;
  hostId: string;
  name: string;
  email: string | null;
}

export interface RecordedRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** Method and path with query, as received. */
  method?: string;
  url?: string;
}

/** What a test or a benchmark can read off an emulator and how it moves it through time. */
export interface EmulatorInspection {
  /** The clock every expiry uses; moving it moves the emulator through time. */
  clock: AdjustableClock;
  stats(): EmulatorStats;
  sessionInfo(session: string): (PlatformUserView & { alive: boolean }) | null;
  userByHostId(hostId: string): PlatformUserView | null;
  lastRequest(endpoint: PlatformEndpoint): RecordedRequest | null;
  readonly profile: EmulatorProfile;
  /** Successful token answers by grant. */
  grantCounts(): Record<EmulatedGrant, number>;
  /** Every refresh token issued so far stops working: the platform revoked the integration. */
  revokeRefreshTokens(): void;
}

export interface RunningEmulator extends EmulatorInspection {
  /** Base URL without a trailing slash. */
  url: string;
  /** `${url}/embed.js` */
  embedSrc: string;
  faults: EmulatorFaults;
  /** Closes the server and every keep-alive socket. */
  close(): Promise<void>;
}
