/**
 * The bridge's error codes, grouped by area. Code branches on `code`, never on message text.
 * `message` is always safe to show to a client: no secret, token or upstream body goes into it.
 * A host site adds its own codes by extending `AppError` (its `status` then comes from the site).
 */
export const BRIDGE_ERROR_STATUS = {
  // request (the logout hook's)
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  MALFORMED_BODY: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // logout hook
  HOOK_DISABLED: 401,
  HOOK_SIGNATURE_INVALID: 401,
  HOOK_SIGNATURE_STALE: 401,
  HOOK_REPLAYED: 401,
  /** a Standard Webhook whose webhook-id another delivery is handling right now: sent again later, it is answered as a duplicate */
  HOOK_IN_PROGRESS: 409,
  /** a parser before the hook router consumed the body it must verify: the app needs a fix */
  HOOK_BODY_CONSUMED: 500,
  // OpenID Connect back-channel logout (docs/oidc-login.md#back-channel-logout)
  LOGOUT_TOKEN_INVALID: 400,
  // platform (the upstream commenting service); 502/503/504 are only ever seen in logs and readiness
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
  TOKEN_NOT_CONNECTED: 503,
  TOKEN_RECONNECT_NEEDED: 503,
  TOKEN_BUSY: 503,
  /** the kept token opens with no key in TOKEN_ENCRYPTION_KEYS; logged and reported, then as if none were kept */
  TOKEN_KEY_UNKNOWN: 503,
  TOKEN_SEAL_DAMAGED: 503,
  // the bridge's database: a moment's outage, answered fast rather than hung
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type BridgeErrorCode = keyof typeof BRIDGE_ERROR_STATUS;

export class AppError<Code extends string = BridgeErrorCode> extends Error {
  readonly code: Code;
  readonly status: number;

  constructor(code: Code, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = this.constructor.name;
    this.code = code;
    this.status = options?.status ?? (BRIDGE_ERROR_STATUS as Record<string, number>)[code] ?? 500;
  }
}

/** A request the client can fix: 4xx with a plain message. */
export class RequestError<Code extends string = BridgeErrorCode> extends AppError<Code> {}

/** The upstream platform failed or answered something the bridge cannot use. */
export class PlatformError extends AppError {
  /** The RFC 6749 section 5.2 `error` value, when the token endpoint sent one. */
  readonly oauthError: string | undefined;
  /** The upstream HTTP status, when there was a response. */
  readonly upstreamStatus: number | undefined;

  constructor(code: BridgeErrorCode, message: string, options?: { cause?: unknown; oauthError?: string; upstreamStatus?: number }) {
    super(code, message, options);
    this.oauthError = options?.oauthError;
    this.upstreamStatus = options?.upstreamStatus;
  }
}

export function isAppError(value: unknown): value is AppError<string> {
  return value instanceof AppError;
}
