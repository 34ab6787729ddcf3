import type { Request } from 'express';
import type { HostUser } from '../core';
import type { PlatformSession } from '../platform';

/**
 * What the adapter keeps in the app's own session, under one key: the reader `onLogin` was told
 * of, and the platform session a page view last had from the bridge for them
 * (docs/architecture.md#the-express-adapter). Only id, name and email of the reader: the session
 * is no place for more.
 */
interface ReaderRecord {
  id: string;
  name: string;
  email: string | null;
  platform?: KeptPlatform | undefined;
}

/** The reader's platform session, and when the bridge last answered for it (on the bridge's clock). */
interface KeptPlatform {
  /** the host session it was read for: a regenerated session id never matches */
  sid: string;
  userId: string;
  session: string;
  checkedAt: number;
}

const SESSION_KEY = 'viafoura';

type SessionHolder = { session?: Record<string, unknown> | undefined };

function recordOf(req: Request): ReaderRecord | undefined {
  const value = (req as unknown as SessionHolder).session?.[SESSION_KEY];
  return value && typeof value === 'object' ? (value as ReaderRecord) : undefined;
}

/** The reader `onLogin` stored in this session, or null: the default `userOf`. */
export function storedUser(req: Request): HostUser | null {
  const record = recordOf(req);
  return record ? { id: record.id, name: record.name, email: record.email } : null;
}

/**
 * Keeps the reader in the session with their platform session as the bridge just gave it, or
 * forgets them (`user` null). Modifies the session: express-session saves it.
 */
export function rememberUser(req: Request, user: HostUser | null, platform: PlatformSession | null, now: number): void {
  const session = (req as unknown as SessionHolder).session;
  if (!session) return;
  if (!user) return void delete session[SESSION_KEY];
  const record: ReaderRecord = { id: user.id, name: user.name, email: user.email ?? null };
  session[SESSION_KEY] = record;
  keepPlatformSession(req, user, platform, now);
}

/**
 * The kept platform session, if it is this host session's and this reader's and the bridge
 * answered for it less than `checkEveryMs` ago. The adapter trusts it that long: a logout from
 * anywhere destroys the host session (and this copy) at once, and the bridge's activity write,
 * idle re-login and retries happen on the view that asks again.
 */
export function keptPlatformSession(req: Request, user: HostUser, now: number, checkEveryMs: number): PlatformSession | null {
  const record = recordOf(req);
  const kept = record?.platform;
  if (!kept || record.id !== user.id || kept.sid !== req.sessionID) return null;
  const age = now - kept.checkedAt;
  return age >= 0 && age < checkEveryMs ? { userId: kept.userId, session: kept.session } : null;
}

/** Keeps what the bridge answered for the reader of this session (at most once per check), or forgets it. */
export function keepPlatformSession(req: Request, user: HostUser, platform: PlatformSession | null, now: number): void {
  const record = recordOf(req);
  // The app finds its reader elsewhere (its own userOf) and never told onLogin of this one: nothing to keep it with.
  if (!record || record.id !== user.id) return;
  if (platform) record.platform = { sid: req.sessionID, userId: platform.userId, session: platform.session, checkedAt: now };
  else delete record.platform;
}
