import { AppError as BridgeAppError, BRIDGE_ERROR_STATUS } from 'vf-login-bridge';

/**
 * The site's error codes beside the bridge's, one catalogue grouped by area. Code branches on
 * `code`, never on message text; `message` is always safe to show to a client.
 */
export const ERROR_STATUS = {
  ...BRIDGE_ERROR_STATUS,
  // request
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CSRF_INVALID: 403,
  RATE_LIMITED: 429,
  OPS_TOKEN_REQUIRED: 401,
  // host accounts
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  EMAIL_TAKEN: 409,
  PASSWORD_TOO_WEAK: 400,
  CREDENTIALS_CHANGED: 409,
  /** a one-time link that is unknown, used, expired or superseded */
  LINK_INVALID: 400,
  // the site's own stores
  SESSION_STORE_UNAVAILABLE: 503,
  RATE_LIMIT_UNAVAILABLE: 503,
  // operator connect (authorization_code)
  FORBIDDEN: 403,
  CONNECT_STATE_INVALID: 400,
  CONNECT_REFUSED: 400,
  // login at the publisher's OpenID Provider (docs/oidc-login.md)
  OIDC_UNAVAILABLE: 503,
  OIDC_LOGIN_FAILED: 400,
  /** a reader without a password here must have logged in at the provider a moment ago */
  REAUTHENTICATION_REQUIRED: 403,
  // start-up
  CONFIG_INVALID: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends BridgeAppError<ErrorCode> {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, { ...options, status: options?.status ?? ERROR_STATUS[code] });
  }
}

/** A request the client can fix: 4xx with a plain message. */
export class RequestError extends AppError {}

/** Any error with a code: the site's, or one the bridge threw (a hook refusal, a platform failure). */
export type AnyAppError = BridgeAppError<ErrorCode>;

/** The site's errors and the bridge's alike: both are the bridge's AppError. */
export function isAppError(value: unknown): value is AnyAppError {
  return value instanceof BridgeAppError;
}

/** Past a rate limit: 429 with Retry-After. */
export class RateLimitedError extends RequestError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', 'Too many attempts. Please wait a while and try again.');
  }
}

export { PlatformError } from 'vf-login-bridge';
