import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from 'vf-login-bridge';
import type { EmulatedGrant } from './profiles';

/** An authorization code lives this long (RFC 6749 §4.1.2 recommends at most 10 minutes). */
const CODE_TTL_MS = 10 * 60_000;

interface IssuedCode {
  redirectUri: string;
  codeChallenge: string;
  expiresAt: number;
  used: boolean;
}

export type GrantState = ReturnType<typeof createGrantState>;

/** Refresh tokens and authorization codes of the emulated dialects, and how often each grant was used. */
export function createGrantState(clock: Clock) {
  const refreshTokens = new Map<string, { alive: boolean }>();
  const codes = new Map<string, IssuedCode>();
  const counts: Record<EmulatedGrant, number> = { client_credentials: 0, password: 0, authorization_code: 0, refresh_token: 0 };

  const random = () => randomBytes(24).toString('base64url');

  return {
    countGrant(grant: EmulatedGrant): void {
      counts[grant] += 1;
    },
    grantCounts(): Record<EmulatedGrant, number> {
      return { ...counts };
    },
    issueRefreshToken(): string {
      const token = random();
      refreshTokens.set(token, { alive: true });
      return token;
    },
    /** Rotation: a refresh token works once; the answer carries the next one. */
    useRefreshToken(token: string): boolean {
      const entry = refreshTokens.get(token);
      if (!entry?.alive) return false;
      entry.alive = false;
      return true;
    },
    /** The knob of "the platform revoked the integration": every refresh token dies. */
    revokeRefreshTokens(): void {
      for (const entry of refreshTokens.values()) entry.alive = false;
    },
    issueCode(redirectUri: string, codeChallenge: string): string {
      const code = random();
      codes.set(code, { redirectUri, codeChallenge, expiresAt: clock.now() + CODE_TTL_MS, used: false });
      return code;
    },
    /** RFC 6749 §4.1.3 and RFC 7636 §4.6: once, before expiry, same redirect_uri, verifier matching the S256 challenge. */
    redeemCode(code: string, redirectUri: string | undefined, codeVerifier: string | undefined): string | null {
      const issued = codes.get(code);
      if (!issued || issued.used || clock.now() >= issued.expiresAt) return 'The code is unknown, used or expired';
      issued.used = true;
      if (redirectUri !== issued.redirectUri) return 'redirect_uri does not match the authorization request';
      if (codeVerifier === undefined) return 'code_verifier is missing (PKCE is required)';
      const challenge = createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
      if (challenge !== issued.codeChallenge) return 'code_verifier does not match the code_challenge';
      return null;
    },
  };
}
