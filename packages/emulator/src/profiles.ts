/**
 * One emulator profile per token dialect (docs/token-dialects.md). The accounts calls and the
 * embed are the same in every profile; only how a client gets its bearer token differs.
 */
export type EmulatorProfile = 'viafoura' | 'viima' | 'veem' | 'viewneo' | 'pat';
export const EMULATOR_PROFILES: readonly EmulatorProfile[] = ['viafoura', 'viima', 'veem', 'viewneo', 'pat'];

/** The password grant's integration user when none is configured (profile viima). */
export const DEFAULT_INTEGRATION_USER = { username: 'integration@example.com', password: 'integration-password' };

export type EmulatedGrant = 'client_credentials' | 'password' | 'authorization_code' | 'refresh_token';

export interface TokenDialect {
  /** The token endpoint's path, exactly: seed 000's ends in '/'. null: no token endpoint (pat). */
  tokenPath: string | null;
  clientAuth: 'basic' | 'body' | 'json';
  /**
   * How Basic credentials are decoded: `raw` compares the bytes `curl --user` sends (seed 003);
   * `form` form-decodes the id and the secret first, as RFC 6749 §2.3.1 has clients encode them
   * (seed 001 says only "base64 encode the client_id:client_secret tuple"; an OAuth 2.0 server
   * reads it the RFC's way). Meaningless where clientAuth is not basic.
   */
  basicEncoding: 'raw' | 'form';
  grants: readonly EmulatedGrant[];
  /** The one scope client_credentials must ask for. */
  scope: string | null;
  /** Seed 001's curl sends `Accept: application/json`; its token endpoint is held to it. */
  requireAcceptJson: boolean;
  refreshTokenIn: 'body' | 'query';
  /** Seeds 000, 001 and 002 hand out refresh tokens; each refresh rotates it. */
  issuesRefreshTokens: boolean;
  tokenType: string;
  ttlSeconds: number;
  /** Scope echoed in the answer, when the seed's answer shows one. */
  answerScope: string | null;
  /** Fields beyond RFC 6749 §5.1 in the answer (seed 001). */
  extraFields: Record<string, string | number>;
  /** The consent page of the three-legged flows. */
  authorizePath: string | null;
}

export const TOKEN_DIALECTS: Record<EmulatorProfile, TokenDialect> = {
  // Seed 003: curl --user SITE_ID:API_KEY -d grant_type=client_credentials -d scope=accounts
  viafoura: {
    tokenPath: '/oauth2/token',
    clientAuth: 'basic',
    basicEncoding: 'raw',
    grants: ['client_credentials'],
    scope: 'accounts',
    requireAcceptJson: false,
    refreshTokenIn: 'body',
    issuesRefreshTokens: false,
    tokenType: 'bearer',
    ttlSeconds: 3600,
    answerScope: 'accounts',
    extraFields: {},
    authorizePath: null,
  },
  // Seed 000: the password grant with client_id/client_secret in the form body; the path ends in '/'.
  viima: {
    tokenPath: '/oauth2/token/',
    clientAuth: 'body',
    basicEncoding: 'form',
    grants: ['password', 'refresh_token'],
    scope: null,
    requireAcceptJson: false,
    refreshTokenIn: 'body',
    issuesRefreshTokens: true,
    tokenType: 'Bearer',
    ttlSeconds: 36000,
    answerScope: 'read write',
    extraFields: {},
    authorizePath: null,
  },
  // Seed 001: Basic, Accept: application/json, scope=all, a year-long token, refresh token in the query.
  veem: {
    tokenPath: '/oauth/token',
    clientAuth: 'basic',
    basicEncoding: 'form',
    grants: ['client_credentials', 'authorization_code', 'refresh_token'],
    scope: 'all',
    requireAcceptJson: true,
    refreshTokenIn: 'query',
    issuesRefreshTokens: true,
    tokenType: 'bearer',
    ttlSeconds: 31535999,
    answerScope: 'all',
    extraFields: { account_id: 1, user_id: 2 },
    authorizePath: '/oauth/authorize',
  },
  // Seed 002: a JSON body with the client inside, token_type "Bearer", fifteen days.
  viewneo: {
    tokenPath: '/oauth/token',
    clientAuth: 'json',
    basicEncoding: 'form',
    grants: ['authorization_code', 'refresh_token'],
    scope: null,
    requireAcceptJson: false,
    refreshTokenIn: 'body',
    issuesRefreshTokens: true,
    tokenType: 'Bearer',
    ttlSeconds: 1296000,
    answerScope: null,
    extraFields: {},
    authorizePath: '/oauth/authorize',
  },
  // Seeds 002 and 004: a personal access token, sent as Bearer; there is no token endpoint.
  pat: {
    tokenPath: null,
    clientAuth: 'basic',
    basicEncoding: 'raw',
    grants: [],
    scope: null,
    requireAcceptJson: false,
    refreshTokenIn: 'body',
    issuesRefreshTokens: false,
    tokenType: 'bearer',
    ttlSeconds: 3600,
    answerScope: null,
    extraFields: {},
    authorizePath: null,
  },
};

export function isEmulatorProfile(value: unknown): value is EmulatorProfile {
  return typeof value === 'string' && (EMULATOR_PROFILES as readonly string[]).includes(value);
}
