import { PlatformError } from '../errors';
import type { PlatformGuard } from './circuit-breaker';
import type { PlatformMetrics } from './metrics';
import { createPlatformHttp, parseJsonObject, type PlatformReply } from './platform-http';
import type { TokenClient } from './token';

/** The reader as the platform's login endpoint takes it: the host's own id, never a fixed admin id. */
export interface PlatformLoginDetails {
  id: string;
  name: string;
  email?: string | null | undefined;
}

export interface PlatformSession {
  /** The platform's user_id (a number on the wire), as a decimal string. */
  userId: string;
  session: string;
}

export interface AccountsClientOptions {
  baseUrl: string;
  tokens: Pick<TokenClient, 'getToken' | 'invalidate'>;
  timeoutMs: number;
  metrics?: PlatformMetrics | undefined;
  breaker?: PlatformGuard | undefined;
}

export interface AccountsClient {
  /** Creates the platform user on first login, updates name/email, and opens a new session. */
  login(details: PlatformLoginDetails): Promise<PlatformSession>;
  /** Ends a platform session. */
  logout(session: string): Promise<void>;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

export const LOGIN_PATH = '/rest/v1/accounts/login';
export const LOGOUT_PATH = '/rest/v1/accounts/logout';

// The session goes into a page attribute and back into a form body: printable ASCII, bounded.
const SESSION_SHAPE = /^[\x21-\x7e]{1,512}$/;
const USER_ID_DIGITS = /^[1-9][0-9]{0,30}$/;

/** Thrown for a 401: the bearer token was refused (RFC 6750 §3.1), so a new one may help. */
function isUnauthorized(error: unknown): boolean {
  return error instanceof PlatformError && error.code === 'PLATFORM_REJECTED' && error.upstreamStatus === 401;
}

function refusal(reply: PlatformReply): PlatformError {
  return new PlatformError('PLATFORM_REJECTED', 'The platform refused the call', { upstreamStatus: reply.status });
}

function bad(message: string, upstreamStatus: number): never {
  throw new PlatformError('PLATFORM_BAD_RESPONSE', `Invalid accounts answer: ${message}`, { upstreamStatus });
}

/** `{"user_id": <number>, "session": "<string>"}` checked field by field. */
export function processLoginResponse(reply: PlatformReply): PlatformSession {
  if (reply.status < 200 || reply.status >= 300) throw refusal(reply);
  const body = parseJsonObject(reply.body);
  if (!body) return bad('the login answer is not a JSON object', reply.status);
  const { user_id: userId, session } = body;
  let platformUserId: string;
  if (typeof userId === 'number' && Number.isSafeInteger(userId) && userId > 0) platformUserId = String(userId);
  else if (typeof userId === 'string' && USER_ID_DIGITS.test(userId)) platformUserId = userId;
  else return bad('user_id must be a positive integer', reply.status);
  if (typeof session !== 'string' || !SESSION_SHAPE.test(session)) return bad('session must be a non-empty string', reply.status);
  return { userId: platformUserId, session };
}

export function processLogoutResponse(reply: PlatformReply): void {
  if (reply.status < 200 || reply.status >= 300) throw refusal(reply);
}

function loginForm(details: PlatformLoginDetails): URLSearchParams {
  if (typeof details?.id !== 'string' || details.id === '') throw new TypeError('a platform login needs the host user id');
  if (typeof details.name !== 'string' || details.name.trim() === '') throw new TypeError('a platform login needs a name');
  const form = new URLSearchParams({ id: details.id, name: details.name });
  // The email is optional on the platform (docs/platform-protocol.md#accounts-login): an empty one is left out, not sent blank.
  if (typeof details.email === 'string' && details.email !== '') form.set('email', details.email);
  return form;
}

/**
 * The accounts API (docs/platform-protocol.md#accounts-login) with a bearer token from `tokens`. A 401 gets one new token and
 * one retry; nothing else is retried here, least of all a login that timed out, which may
 * have reached the platform.
 */
export function createAccountsClient(options: AccountsClientOptions): AccountsClient {
  const { tokens } = options;
  if (!tokens || typeof tokens.getToken !== 'function' || typeof tokens.invalidate !== 'function') {
    throw new TypeError('createAccountsClient requires a token client');
  }
  const platform = createPlatformHttp(options);

  async function withToken<T>(call: (authorization: string) => Promise<T>): Promise<T> {
    const token = await tokens.getToken();
    try {
      return await call(`Bearer ${token}`);
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
      // docs/platform-protocol.md#bearer-token-refused: an expired or unknown token gets 401; the platform acted on nothing, so a
      // second try with a new token is safe. A second 401 stays PLATFORM_REJECTED.
      tokens.invalidate(token);
      return call(`Bearer ${await tokens.getToken()}`);
    }
  }

  return {
    async login(details) {
      const form = loginForm(details);
      return withToken((authorization) => platform.postForm('login', LOGIN_PATH, form, authorization, processLoginResponse));
    },
    async logout(session) {
      if (typeof session !== 'string' || session === '') throw new TypeError('logout needs a session');
      const form = new URLSearchParams({ session });
      return withToken((authorization) => platform.postForm('logout', LOGOUT_PATH, form, authorization, processLogoutResponse));
    },
    close() {
      platform.close();
    },
  };
}
