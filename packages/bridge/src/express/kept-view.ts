import type { Request } from 'express';
import type { PlatformSession } from '../platform';

/**
 * The reader's platform session as a page view last had it from the bridge, kept in the host
 * session itself (docs/architecture.md#the-express-adapter). The adapter trusts it for at most
 * `checkEveryMs` before asking the bridge again: a logout from anywhere destroys the host session
 * (and with it this copy) at once, and the bridge's once-a-minute activity write, its idle
 * re-login and its retries all still happen, on the view that asks.
 */
interface KeptView {
  /** the host session and reader it was read for: a regenerated session id or another reader never matches */
  sid: string;
  hostUserId: string;
  userId: string;
  session: string;
  /** when the bridge last answered for it, on the bridge's clock */
  checkedAt: number;
}

const KEY = 'viafouraView';

type SessionHolder = { session?: Record<string, unknown> | undefined };

/** The kept platform session, if it is this session's and this reader's and was checked less than `checkEveryMs` ago. */
export function keptPlatformSession(req: Request, sid: string, hostUserId: string, now: number, checkEveryMs: number): PlatformSession | null {
  const kept = (req as unknown as SessionHolder).session?.[KEY] as Partial<KeptView> | undefined;
  if (!kept || kept.sid !== sid || kept.hostUserId !== hostUserId || typeof kept.checkedAt !== 'number') return null;
  if (typeof kept.userId !== 'string' || typeof kept.session !== 'string') return null;
  const age = now - kept.checkedAt;
  return age >= 0 && age < checkEveryMs ? { userId: kept.userId, session: kept.session } : null;
}

/** Keeps what the bridge answered (modifying the session, so at most once per `checkEveryMs`), or forgets it. */
export function keepPlatformSession(req: Request, sid: string, hostUserId: string, platform: PlatformSession | null, now: number): void {
  const session = (req as unknown as SessionHolder).session;
  if (!session) return;
  if (!platform) return forgetPlatformSession(req);
  const kept: KeptView = { sid, hostUserId, userId: platform.userId, session: platform.session, checkedAt: now };
  session[KEY] = kept;
}

/** Forgets the kept platform session: at a logout, or when the bridge has none to show. */
export function forgetPlatformSession(req: Request): void {
  const session = (req as unknown as SessionHolder).session;
  if (session && KEY in session) delete session[KEY];
}
