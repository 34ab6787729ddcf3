import type { Request, Response } from 'express';
import type session from 'express-session';
import { AppError } from '../errors';
import type { Logger } from '../logger';

/** The two ways an app can leave the bridge without the session it relies on. */
export type SessionSetupCode = 'SESSION_MISSING' | 'SESSION_STORE_NOT_BRIDGED';

/**
 * How to fix each: the line logged, and the message of the error thrown by `onLogin`/`onLogout`.
 * Both are the publisher's to fix in code; neither can be fixed by the reader.
 */
const FIXES: Record<SessionSetupCode, string> = {
  SESSION_MISSING: 'the Viafoura bridge needs express-session before it: app.use(session(...)) before the bridge',
  SESSION_STORE_NOT_BRIDGED:
    'the Viafoura bridge needs express-session to use its store: pass store: viafoura.sessionStore to express-session',
};

/**
 * An app whose session middleware is missing, or does not save through the bridge's store: a
 * logged-out session could be saved back by a request already under way
 * (docs/architecture.md#a-logout), so the bridge refuses to go on.
 */
export class SessionSetupError extends AppError<SessionSetupCode> {
  constructor(code: SessionSetupCode) {
    super(code, FIXES[code], { status: 500 });
  }
}

type SessionRequest = { sessionID?: unknown; sessionStore?: unknown };

/** What is wrong with this request's session setup, if anything. */
export function sessionSetupProblem(req: Request, store: session.Store): SessionSetupCode | undefined {
  const { sessionID, sessionStore } = req as unknown as SessionRequest;
  if (typeof sessionID !== 'string' || sessionID === '') return 'SESSION_MISSING';
  // express-session sets req.sessionStore to the store it was given, on every request.
  if (sessionStore !== store) return 'SESSION_STORE_NOT_BRIDGED';
  return undefined;
}

/** The host session id, once the setup is known to be right; throws SessionSetupError otherwise. */
export function checkedSessionId(req: Request, store: session.Store): string {
  const problem = sessionSetupProblem(req, store);
  if (problem) throw new SessionSetupError(problem);
  return (req as unknown as { sessionID: string }).sessionID;
}

/** One error line naming the fix for the operator, and a plain 500 that tells the reader nothing more. */
export function answerSetupProblem(code: SessionSetupCode, res: Response, logger: Logger): void {
  logger.error({ code }, FIXES[code]);
  res.status(500).type('text/plain').send('This page is not available: the site is misconfigured.');
}
