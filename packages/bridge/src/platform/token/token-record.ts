import type { TokenAnswer } from '../token-reply';
import type { TokenRecord } from '../token-store';

const DEFAULT_MARGIN_MS = 60_000;
/** RFC 6749 §5.1 makes expires_in recommended, not required: without it, one hour, and a 401 sooner (docs/token-dialects.md). */
const LIFETIME_WITHOUT_EXPIRES_IN_MS = 60 * 60_000;

/**
 * The record kept of a token answer. `previous` is the record it renews (a refresh), null for a
 * first grant or a connect; `who` names the token's user when the answer does not.
 */
export function recordOf(answer: TokenAnswer, requestedAt: number, previous: TokenRecord | null, who?: string): TokenRecord {
  const lifetime = answer.expiresInMs ?? LIFETIME_WITHOUT_EXPIRES_IN_MS;
  const named = answer.extra['user_id'] ?? answer.extra['username'] ?? answer.extra['email'];
  return {
    accessToken: answer.accessToken,
    // RFC 6749 §6: a refresh answer may leave the refresh token out; then the old one stays good.
    refreshToken: answer.refreshToken ?? previous?.refreshToken,
    // Counted from when the request left, so the cache never outlives the token.
    obtainedAt: requestedAt,
    expiresAt: requestedAt + lifetime,
    refreshedAt: previous?.refreshedAt,
    connectedAs: named !== undefined ? `user ${named}` : (previous?.connectedAs ?? (who ? who : undefined)),
  };
}

/** The record of a token that no request can renew: an operator must connect again. */
export function reconnectRecord(current: TokenRecord, why: string): TokenRecord {
  return { ...current, refreshToken: undefined, reconnectNeeded: why };
}

/**
 * When a token is due: `marginMs` before it expires, by default 60 s or 10% of its lifetime,
 * whichever is smaller, and never more than half of it (docs/token-dialects.md, "Before expiry").
 */
export function refreshAt(record: TokenRecord, marginMs: number | undefined): number {
  const lifetime = record.expiresAt - record.obtainedAt;
  const margin = Math.min(marginMs ?? Math.min(DEFAULT_MARGIN_MS, lifetime * 0.1), lifetime / 2);
  return record.expiresAt - margin;
}
