import { Router, type Request, type Response } from 'express';
import type { Clock } from 'vf-login-bridge';
import { RequestError } from '../errors';
import type { Render } from '../web/render';
import { wantsJson } from '../web/negotiate';
import type { HostSessions } from '../auth/host-session';
import type { LoginGuard } from '../auth/login-limits';
import type { ReaderSession, ReaderSessions } from './reader-sessions';
import type { SessionIndex } from '../auth/session-index';

export interface SessionRouteDeps {
  readerSessions: ReaderSessions;
  index: SessionIndex;
  hostSessions: HostSessions;
  guard: Pick<LoginGuard, 'changeAccount'>;
  clock: Clock;
  render: Render;
}

/** A public id as the index makes them (16 random bytes, base64url): anything else names no session. */
const PUBLIC_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * The reader's sessions page (ASVS 3.3.4): every live session of theirs, where and when it was
 * used, and a way to end any one of them or all the others, here and on the platform. Sessions
 * are named by their public id; a session id never leaves the server. Both ends count against the
 * account-change limits, since each can cost platform calls.
 */
export function createSessionRoutes(deps: SessionRouteDeps): Router {
  const { readerSessions, index, hostSessions, guard, clock, render } = deps;
  const router = Router();

  router.get('/account/sessions', async (req, res) => {
    const user = req.user;
    if (!user) {
      if (wantsJson(req)) throw new RequestError('UNAUTHENTICATED', 'Log in to see your sessions.');
      return res.redirect(303, '/login?returnTo=%2Faccount%2Fsessions');
    }
    const sessions = await readerSessions.list(user.id, req.sessionID);
    if (wantsJson(req)) return res.json({ sessions: sessions.map(sessionJson) });
    const ended = Number(req.query.ended);
    render(res, 'sessions', {
      title: 'Your sessions',
      sessions: sessions.map((session) => sessionForPage(session, clock.now())),
      ended: Number.isSafeInteger(ended) && ended >= 0 ? ended : null,
    });
  });

  router.post('/account/sessions/logout-others', async (req, res) => {
    const user = req.user;
    if (!user) throw new RequestError('UNAUTHENTICATED', 'Log in to manage your sessions.');
    await guard.changeAccount(user.id, req.ip ?? 'unknown');
    const ended = await hostSessions.logOutUser(String(user.id), { except: req.sessionID });
    answer(req, res, { ok: true, ended }, `/account/sessions?ended=${ended}`);
  });

  router.post('/account/sessions/:id/logout', async (req, res) => {
    const user = req.user;
    if (!user) throw new RequestError('UNAUTHENTICATED', 'Log in to manage your sessions.');
    await guard.changeAccount(user.id, req.ip ?? 'unknown');
    const publicId = String(req.params.id);
    // The same answer for an id that is someone else's and one that is nobody's: the page tells
    // nothing about other readers' sessions.
    const entry = PUBLIC_ID.test(publicId) ? (await index.list(user.id)).find((session) => session.publicId === publicId) : undefined;
    if (!entry) throw new RequestError('NOT_FOUND', 'No such session.');
    if (entry.sid === req.sessionID) {
      // This browser's own: a logout like the header's, and the reader lands logged out.
      await hostSessions.logOut(req);
      return answer(req, res, { ok: true, ended: 1, loggedOut: true }, '/');
    }
    // Already over (expired a moment ago): nothing was ended, and the row is gone from the list all the same.
    const ended = (await hostSessions.logOutSession(user.id, publicId)) ? 1 : 0;
    answer(req, res, { ok: true, ended }, `/account/sessions?ended=${ended}`);
  });

  return router;
}

function answer(req: Request, res: Response, json: object, location: string): void {
  if (wantsJson(req)) res.json(json);
  else res.redirect(303, location);
}

function sessionJson(session: ReaderSession) {
  return {
    id: session.publicId,
    device: session.device,
    network: session.network,
    startedAt: new Date(session.startedAt).toISOString(),
    lastSeenAt: new Date(session.lastSeenAt).toISOString(),
    platformSession: session.platformSession,
    current: session.current,
  };
}

function sessionForPage(session: ReaderSession, now: number) {
  return {
    ...sessionJson(session),
    started: dateTime(session.startedAt),
    lastSeen: ago(now - session.lastSeenAt),
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "4 Dec 2026, 09:05 UTC": the server knows no reader's time zone. */
function dateTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** "about 5 minutes ago": the time a session was last seen moves at most about once a minute. */
function ago(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  const unit = (n: number, what: string) => `about ${n} ${what}${n === 1 ? '' : 's'} ago`;
  if (minutes < 2) return 'about a minute ago';
  if (minutes < 60) return unit(minutes, 'minute');
  if (minutes < 48 * 60) return unit(Math.floor(minutes / 60), 'hour');
  return unit(Math.floor(minutes / (24 * 60)), 'day');
}
