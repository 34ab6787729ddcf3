import type { Clock } from '../clock';
import { PlatformError } from '../errors';
import type { Logger } from '../logger';
import type { TokenSource } from './token';
import { basicEncodingWarning, isViafouraDialect, type TokenSettings } from './token-settings';

/**
 * Where the start-up check of the platform credentials stands (docs/token-dialects.md,
 * "Credentials at start-up"): `pending` until an answer came, `ok` once a token was had,
 * `refused` when the platform turned the credentials down (with the line naming the settings),
 * `unreachable` while the platform did not answer usefully, `skipped` where no token request
 * can tell (a personal access token, a grant an operator has not connected yet).
 */
export type CredentialsCheckResult =
  | { state: 'pending' | 'ok' }
  | { state: 'skipped'; why: string }
  | { state: 'refused'; code: string; oauthError: string | undefined; reason: string }
  | { state: 'unreachable'; code: string; nextAttemptAt: number };

export interface CredentialsCheck {
  /**
   * One token request when one is due, nothing otherwise (settled, waiting out its backoff, or
   * one under way, which it joins). Never rejects. Background jobs call it on a timer.
   */
  run(): Promise<CredentialsCheckResult>;
  result(): CredentialsCheckResult;
}

export interface CredentialsCheckOptions {
  tokens: Pick<TokenSource, 'getToken'>;
  settings: TokenSettings;
  clock: Clock;
  logger: Logger;
  /** The wait after the first failed try, doubled after each next one up to `retryMaxMs`. Default 5 s. */
  retryBaseMs?: number | undefined;
  /** Default 5 minutes. */
  retryMaxMs?: number | undefined;
}

/** RFC 6749 §5.2 answers that no retry fixes: the settings are wrong (or the platform's side of them). */
const REFUSALS = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'invalid_scope']);
/** Grant states a token request cannot get past: readiness reports them on its own. */
const NOTHING_TO_ASK = new Set(['TOKEN_NOT_CONNECTED', 'TOKEN_RECONNECT_NEEDED']);

function oauthErrorOf(error: PlatformError): string | undefined {
  if (error.oauthError !== undefined) return error.oauthError;
  const named: Record<string, string> = { TOKEN_INVALID_CLIENT: 'invalid_client', TOKEN_INVALID_GRANT: 'invalid_grant', TOKEN_INVALID_SCOPE: 'invalid_scope' };
  return named[error.code];
}

/** The settings an operator must look at for one refusal, by the names the site reads them under. */
export function settingsToFix(settings: TokenSettings, oauthError: string): string[] {
  const client = isViafouraDialect(settings) ? ['VF_SITE_ID', 'VF_API_KEY'] : ['VF_CLIENT_ID', 'VF_CLIENT_SECRET'];
  if (oauthError === 'invalid_scope') return ['VF_SCOPE'];
  if (oauthError === 'invalid_grant') return settings.grant === 'password' ? ['VF_USERNAME', 'VF_PASSWORD'] : [...client, 'VF_SCOPE'];
  const encoding = basicEncodingWarning(settings) !== undefined ? ['VF_BASIC_ENCODING'] : [];
  return oauthError === 'unauthorized_client' ? [...client, 'VF_TOKEN_GRANT'] : [...client, ...encoding];
}

function refusalLine(settings: TokenSettings, oauthError: string): string {
  const names = settingsToFix(settings, oauthError);
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
  return `the platform refused the credentials (${oauthError}): check ${list}`;
}

/**
 * One token request at start-up, in the background, so that wrong credentials show in the log
 * and in the detailed /readyz before the first reader logs in. A platform that is down is asked
 * again with a doubling wait on the injected clock; so is one that refused, in case its side is
 * fixed, but the refusal is logged once. The token it gets is the one readers then use.
 */
export function createCredentialsCheck(options: CredentialsCheckOptions): CredentialsCheck {
  const { tokens, settings, clock, logger } = options;
  const baseMs = options.retryBaseMs ?? 5_000;
  const maxMs = options.retryMaxMs ?? 5 * 60_000;
  let result: CredentialsCheckResult = settings.grant === 'pat' ? { state: 'skipped', why: 'a personal access token has no token endpoint' } : { state: 'pending' };
  let failures = 0;
  let nextAttemptAt = 0;
  let loggedRefusal = false;
  let loggedUnreachable = false;
  let under: Promise<CredentialsCheckResult> | undefined;

  function failed(error: unknown): CredentialsCheckResult {
    failures += 1;
    nextAttemptAt = clock.now() + Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
    const code = error instanceof PlatformError ? error.code : 'INTERNAL';
    if (error instanceof PlatformError && NOTHING_TO_ASK.has(code)) return { state: 'skipped', why: error.message };
    const oauthError = error instanceof PlatformError ? oauthErrorOf(error) : undefined;
    if (oauthError !== undefined && REFUSALS.has(oauthError)) {
      const reason = refusalLine(settings, oauthError);
      if (!loggedRefusal) logger.error({ code, oauthError, settings: settingsToFix(settings, oauthError) }, reason);
      loggedRefusal = true;
      return { state: 'refused', code, oauthError, reason };
    }
    if (!loggedUnreachable) logger.warn({ code, retryInMs: nextAttemptAt - clock.now() }, 'platform credentials not checked yet: no usable token answer; trying again');
    loggedUnreachable = true;
    return { state: 'unreachable', code, nextAttemptAt };
  }

  async function attempt(): Promise<CredentialsCheckResult> {
    try {
      await tokens.getToken();
      if (loggedRefusal || loggedUnreachable) logger.info({}, 'platform credentials accepted');
      return { state: 'ok' };
    } catch (error) {
      return failed(error);
    }
  }

  return {
    run() {
      if (under) return under;
      const settled = result.state === 'ok' || result.state === 'skipped';
      if (settled || clock.now() < nextAttemptAt) return Promise.resolve(result);
      under = attempt().then((next) => {
        result = next;
        under = undefined;
        return next;
      });
      return under;
    },
    result: () => result,
  };
}
