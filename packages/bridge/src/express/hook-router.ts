import express, { type ErrorRequestHandler, type Router } from 'express';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import { isAppError } from '../errors';
import { createHookRoutes, webhookSecretProblem } from '../hooks';
import type { Logger } from '../logger';
import type { BridgeSchema } from '../store/schema';

export interface HookRouterOptions {
  /** 32+ characters: the secret of hooks signed with `X-Hook-Signature` (README.md#the-logout-hook). Unset: that header is refused. */
  secret?: string | undefined;
  /**
   * Standard Webhooks secrets (`whsec_` and base64 of 24 to 64 bytes), one or a list: every one is
   * accepted, so a sender can move to a new secret before the old one is removed (docs/webhooks.md).
   * Unset: the `webhook-*` headers are refused. At least one of `secret` and `webhookSecrets` is required.
   */
  webhookSecrets?: string | readonly string[] | undefined;
}

/** The options checked: a wrong one is a TypeError naming it, at construction. */
function checkHookOptions(options: HookRouterOptions): { secret: string | undefined; webhookSecrets: readonly string[] } {
  if (typeof options !== 'object' || options === null) throw new TypeError('hookRouter requires options ({ secret } or { webhookSecrets })');
  if ('sessionStore' in options) {
    throw new TypeError('hookRouter takes no sessionStore: sessions are destroyed through the one given to createViafouraBridge');
  }
  const { secret, webhookSecrets } = options;
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 32)) throw new TypeError('hookRouter: secret must be at least 32 characters');
  const list = webhookSecrets === undefined ? [] : typeof webhookSecrets === 'string' ? [webhookSecrets] : webhookSecrets;
  if (!Array.isArray(list)) throw new TypeError('hookRouter: webhookSecrets must be a whsec_ secret or a list of them');
  list.forEach((entry: unknown, index) => {
    const problem = webhookSecretProblem(entry);
    if (problem) throw new TypeError(`hookRouter: webhookSecrets[${index}] ${problem}`);
  });
  if (secret === undefined && list.length === 0) throw new TypeError('hookRouter: secret (32+ characters) or webhookSecrets (whsec_...) is required');
  return { secret, webhookSecrets: list };
}

export interface HookRouterDeps {
  /** ends every host and platform session of one user; resolves how many host sessions ended */
  logOutUser(hostUserId: string): Promise<number>;
  clock: Clock;
  logger: Logger;
  db: Kysely<BridgeSchema>;
}

/** A body parser's refusals, under the bridge's codes. */
const PARSER_CODES: Record<number, string> = { 400: 'MALFORMED_BODY', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/** Answers the hook's refusals as `{"error":{"code","message"}}`, never a stack trace. */
const hookErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  if (isAppError(error)) return res.status(error.status).json({ error: { code: error.code, message: error.message } });
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : 500;
  const code = status === 500 ? 'INTERNAL' : (PARSER_CODES[status] ?? 'BAD_REQUEST');
  res.status(status).json({ error: { code, message: status === 500 ? 'Something went wrong.' : 'The request was refused.' } });
};

/** `POST /logout`: the signed hook (X-Hook-Signature or Standard Webhooks) that logs one user out of the site and the platform. */
export function createHookRouter(options: HookRouterOptions, deps: HookRouterDeps): Router {
  const { secret, webhookSecrets } = checkHookOptions(options);
  const routes = createHookRoutes({ secret, webhookSecrets, clock: deps.clock, db: deps.db, logger: deps.logger, logOutUser: deps.logOutUser });
  return express.Router().use(routes, hookErrors);
}
