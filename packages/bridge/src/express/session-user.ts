import type { Request } from 'express';
import type { HostUser } from '../core';

/** Where `onLogin` keeps the reader in the app's own session, for the page middleware. */
const SESSION_KEY = 'viafoura';

type SessionHolder = { session?: Record<string, unknown> | undefined };

/** The reader `onLogin` stored in this session, or null: the default `userOf`. */
export function storedUser(req: Request): HostUser | null {
  const value = (req as unknown as SessionHolder).session?.[SESSION_KEY];
  return value && typeof value === 'object' ? (value as HostUser) : null;
}

/** Keeps the reader in the session (only id, name and email: the session is no place for more), or forgets it. */
export function rememberUser(req: Request, user: HostUser | null): void {
  const session = (req as unknown as SessionHolder).session;
  if (!session) return;
  if (user) session[SESSION_KEY] = { id: user.id, name: user.name, email: user.email ?? null };
  else delete session[SESSION_KEY];
}
