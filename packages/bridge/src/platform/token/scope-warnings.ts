import type { Logger } from '../../logger';
import type { TokenAnswer } from '../token-reply';
import type { TokenSettings } from '../token-settings';

/**
 * One warning per distinct set of scopes not granted, for the life of a token source: a narrower
 * grant is accepted (RFC 6749 §3.3, docs/token-dialects.md), but the operator should know which
 * scope is missing, once, not on every renewal.
 */
export function scopeWarnings(settings: TokenSettings, logger: Logger | undefined): (answer: TokenAnswer, requestedScope: string) => void {
  const told = new Set<string>();
  return (answer, requestedScope) => {
    const missing = answer.scopeNotGranted;
    const key = [...missing].sort().join(' ');
    if (!logger || told.has(key)) return;
    told.add(key);
    logger.warn(
      { code: 'TOKEN_SCOPE_NOT_GRANTED', requested: requestedScope, granted: answer.scope ?? null, missing },
      `the platform granted less scope than asked (VF_SCOPE); missing: ${missing.join(' ')}${hintFor(settings, missing)}`,
    );
  };
}

/** An OpenID Connect server keeps `offline_access` only for an authorization request with prompt=consent. */
function hintFor(settings: TokenSettings, missing: readonly string[]): string {
  if (!missing.includes('offline_access') || settings.grant !== 'authorization_code') return '';
  const asksConsent = (settings.authorizePrompt ?? '').split(' ').includes('consent');
  if (!asksConsent) return '. No refresh token came back: an OpenID Connect server needs VF_AUTHORIZE_PROMPT=consent for offline_access';
  return '. No refresh token came back: an operator must connect again when this token expires';
}
