import type { Request, RequestHandler } from 'express';
import type session from 'express-session';
import type { Logger } from '../logger';
import type { Bridge, HostUser } from '../core';
import { viafouraLocals } from './embed-tag';
import { answerSetupProblem, sessionSetupProblem } from './session-setup';

export interface PageMiddlewareDeps {
  bridge: Pick<Bridge, 'platformSessionFor'>;
  /** the store express-session must be using: the bridge's LogoutAwareStore */
  sessionStore: session.Store;
  logger: Logger;
  embedSrc: string;
  userOf(req: Request): HostUser | null | undefined;
  /** `Cache-Control: private, no-store` on pages that carry a platform session */
  cacheControl: boolean;
}

/**
 * Sets `res.locals.viafoura` on every request: the embed tag, logged in when the reader is. A
 * request without the session setup the bridge relies on is answered 500 here, never served as
 * if all were well (docs/architecture.md#a-logout).
 */
export function createPageMiddleware(deps: PageMiddlewareDeps): RequestHandler {
  return async (req, res, next) => {
    const problem = sessionSetupProblem(req, deps.sessionStore);
    if (problem) return answerSetupProblem(problem, res, deps.logger);
    try {
      const user = deps.userOf(req) ?? null;
      const platform = user ? await deps.bridge.platformSessionFor(req.sessionID, user) : null;
      // The page now holds this reader's platform session: no shared cache may keep it.
      if (platform && deps.cacheControl) res.set('Cache-Control', 'private, no-store');
      res.locals.viafoura = viafouraLocals(deps.embedSrc, platform);
      next();
    } catch (error) {
      next(error);
    }
  };
}
