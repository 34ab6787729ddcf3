import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type session from 'express-session';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Bridge, HostUser } from '../core';
import type { PlatformSession } from '../platform';
import { viafouraLocals } from './embed-tag';
import { keepPlatformSession, keptPlatformSession } from './session-user';
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
  clock: Clock;
  /** how long a platform session kept in the host session is trusted before the bridge is asked again */
  checkEveryMs: number;
}

/**
 * Sets `res.locals.viafoura` on every request: the embed tag, logged in when the reader is. A
 * request without the session setup the bridge relies on is answered 500 here, never served as
 * if all were well (docs/architecture.md#a-logout).
 */
export function createPageMiddleware(deps: PageMiddlewareDeps): RequestHandler {
  return (req, res, next) => {
    const problem = sessionSetupProblem(req, deps.sessionStore);
    if (problem) return answerSetupProblem(problem, res, deps.logger);
    const user = deps.userOf(req) ?? null;
    if (!user) return render(res, next, deps, null);
    const kept = keptPlatformSession(req, user, deps.clock.now(), deps.checkEveryMs);
    // Most views of a logged-in reader end here, with nothing to wait for.
    if (kept) return render(res, next, deps, kept);
    askBridge(req, user, deps).then((platform) => render(res, next, deps, platform), next);
  };
}

/** The page's locals; a page that holds a reader's platform session may be kept by no shared cache. */
function render(res: Response, next: NextFunction, deps: PageMiddlewareDeps, platform: PlatformSession | null): void {
  if (platform && deps.cacheControl) res.set('Cache-Control', 'private, no-store');
  res.locals.viafoura = viafouraLocals(deps.embedSrc, platform);
  next();
}

/** The bridge's answer (at most once per `checkEveryMs` for a reader), kept in the host session for the next views (session-user.ts). */
async function askBridge(req: Request, user: HostUser, deps: PageMiddlewareDeps): Promise<PlatformSession | null> {
  const now = deps.clock.now();
  const platform = await deps.bridge.platformSessionFor(req.sessionID, user);
  keepPlatformSession(req, user, platform, now);
  return platform;
}
