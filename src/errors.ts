/**
 * One catalogue of error codes, grouped by area. Code branches on `code`, never on message text.
 * `message` is always safe to show to a client: no secret, token or upstream body goes into it.
 */
export const ERROR_STATUS = {
  // request
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  MALFORMED_BODY: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
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
  // logout hook
  HOOK_DISABLED: 401,
  HOOK_SIGNATURE_INVALID: 401,
  HOOK_SIGNATURE_STALE: 401,
  HOOK_REPLAYED: 401,
  // platform (the upstream commenting service); 502/503/504 are only ever seen in logs and /readyz
  PLATFORM_TIMEOUT: 504,
  PLATFORM_UNAVAILABLE: 503,
  PLATFORM_CIRCUIT_OPEN: 503,
  PLATFORM_REJECTED: 502,
  PLATFORM_BAD_RESPONSE: 502,
  TOKEN_INVALID_CLIENT: 502,
  TOKEN_INVALID_GRANT: 502,
  TOKEN_INVALID_SCOPE: 502,
  TOKEN_UNSUPPORTED_GRANT: 502,
  TOKEN_REJECTED: 502,
  // the site's own stores: a moment's outage, answered fast rather than hung
  DATABASE_UNAVAILABLE: 503,
  SESSION_STORE_UNAVAILABLE: 503,
  RATE_LIMIT_UNAVAILABLE: 503,
  TOKEN_NOT_CONNECTED: 503,
  TOKEN_RECONNECT_NEEDED: 503,
  TOKEN_BUSY: 503,
  // operator connect (authorization_code)
  FORBIDDEN: 403,
  CONNECT_STATE_INVALID: 400,
  CONNECT_REFUSED: 400,
  // start-up and everything else
  CONFIG_INVALID: 500,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.status = options?.status ?? ERROR_STATUS[code];
  }
}

/** A request the client can fix: 4xx with a plain message. */
export class RequestError extends AppError {}

/** The upstream platform failed or answered something the bridge cannot use. */
export class PlatformError extends AppError {
  /** The RFC 6749 section 5.2 `error` value, when the token endpoint sent one. */
  readonly oauthError: string | undefined;
  /** The upstream HTTP status, when there was a response. */
  readonly upstreamStatus: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; oauthError?: string; upstreamStatus?: number },
  ) {
    super(code, message, options);
    this.oauthError = options?.oauthError;
    this.upstreamStatus = options?.upstreamStatus;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Past a rate limit: 429 with Retry-After. */
export class RateLimitedError extends RequestError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', 'Too many attempts. Please wait a while and try again.');
  }
}
