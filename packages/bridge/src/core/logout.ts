/**
 * Logging host sessions out (docs/architecture.md#a-logout): each row becomes a tombstone and its
 * platform logout is queued in the same transaction, then sent at once.
 */
import type { BridgeContext } from './context';
import { deliverNow } from './delivery';
import type { LoginQueue } from './login-queue';
import { endHostSession, endUserSessions } from './session-rows';

export async function onLogout(ctx: BridgeContext, logins: LoginQueue, hostSessionId: string): Promise<void> {
  // A login still under way for this session would otherwise land after the logout.
  await logins.settled(hostSessionId);
  const now = ctx.clock.now();
  const session = await endHostSession(ctx.db, hostSessionId, now);
  if (session) await deliverNow(ctx, session);
}

export async function logoutUser(ctx: BridgeContext, hostUserId: string): Promise<{ hostSessionIds: string[] }> {
  if (typeof hostUserId !== 'string' || hostUserId === '') throw new TypeError('logoutUser needs a host user id');
  const now = ctx.clock.now();
  const rows = await endUserSessions(ctx.db, hostUserId, now);
  await Promise.all(rows.flatMap((row) => (row.platform_session ? [deliverNow(ctx, row.platform_session)] : [])));
  return { hostSessionIds: rows.map((row) => row.host_sid) };
}

export function hasEnded(ctx: BridgeContext, hostSessionId: string): Promise<boolean> {
  return ctx.reads.hasEnded(hostSessionId);
}
