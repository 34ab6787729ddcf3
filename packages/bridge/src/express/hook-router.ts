import express, { type ErrorRequestHandler, type Router } from 'express';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import { isAppError } from '../errors';
import { createHookRoutes } from '../hooks';
import type { Logger } from '../logger';
import type { BridgeSchema } from '../store/schema';

export interface HookRouterOptions {
  /** Required, 32+ characters: the secret `POST /logout` hooks are signed with (README.md#the-logout-hook). */
  secret: string;
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

/** `POST /logout`: the signed hook that logs one user out of the site and the platform. */
export function createHookRouter(options: HookRouterOptions, deps: HookRouterDeps): Router {
  if (typeof options?.secret !== 'string' || options.secret.length < 32) throw new TypeError('hookRouter: secret must be at least 32 characters');
  if ('sessionStore' in options) {
    throw new TypeError('hookRouter takes no sessionStore: sessions are destroyed through the one given to createViafouraBridge');
  }
  const routes = createHookRoutes({ secret: options.secret, clock: deps.clock, db: deps.db, logger: deps.logger, logOutUser: deps.logOutUser });
  return express.Router().use(routes, hookErrors);
}
