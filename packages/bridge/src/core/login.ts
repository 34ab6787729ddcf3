/**
 * Logging a host session in to the platform (docs/architecture.md#a-login): at the host's login,
 * when a page view finds the platform session missing or about to idle out, and on a profile change.
 */
import type { PlatformSession } from '../platform/accounts-client';
import { outcomeOf } from '../platform/metrics';
import type { BridgeSessionRow } from '../store/session-columns';
import type { BridgeContext } from './context';
import { deliverNow } from './delivery';
import type { LoginOutcome, LoginQueue } from './login-queue';
import { activityWriteDue, checkUser, failureFields, loginRetryDelay, pageViewLoginReason, pageViewOf, usableSession, type LoginReason } from './policy';
import { claimRow, markLoginFailure, recordLogin, touchActivity } from './session-rows';
import type { HostUser } from './types';

export async function onLogin(ctx: BridgeContext, logins: LoginQueue, hostSessionId: string, user: HostUser): Promise<PlatformSession | null> {
  checkUser(user);
  return (await logins.join(hostSessionId, () => loginToPlatform(ctx, hostSessionId, user, 'login'))).platform;
}

export async function platformSessionFor(
  ctx: BridgeContext,
  logins: LoginQueue,
  hostSessionId: string,
  user: HostUser,
  known?: { row: BridgeSessionRow | null },
): Promise<PlatformSession | null> {
  checkUser(user);
  const row = known ? (known.row ?? undefined) : await ctx.reads.row(hostSessionId);
  const now = ctx.clock.now();
  if (row?.ended_at != null) return null;
  if (row && row.host_user_id === user.id) {
    const { current, due } = pageViewOf(row, user, now, ctx.options);
    if (!due) return current ? present(ctx, row, current, now) : null;
  }
  const reason = pageViewLoginReason(row, user);
  return (await logins.join(hostSessionId, () => loginToPlatform(ctx, hostSessionId, user, reason))).platform;
}

export async function onProfileChange(ctx: BridgeContext, logins: LoginQueue, hostSessionId: string, user: HostUser): Promise<PlatformSession | null> {
  checkUser(user);
  const outcome = await logins.start(hostSessionId, () => loginToPlatform(ctx, hostSessionId, user, 'profile'));
  // The old session showed the old name: log it out now rather than at the next delivery run.
  if (outcome.replaced) await deliverNow(ctx, outcome.replaced);
  return outcome.platform;
}

/** A page's view of the row, writing last_activity_at at most once a minute. */
async function present(ctx: BridgeContext, row: BridgeSessionRow, session: PlatformSession, now: number): Promise<PlatformSession> {
  if (activityWriteDue(row.last_activity_at, now, ctx.options)) await touchActivity(ctx.db, row.host_sid, now);
  return session;
}

async function loginToPlatform(ctx: BridgeContext, hostSessionId: string, user: HostUser, reason: LoginReason): Promise<LoginOutcome> {
  const previous = await claimRow(ctx.db, hostSessionId, user.id, ctx.clock.now());
  if (!previous) return { platform: null, replaced: null };
  // A page view decided on a read made before another login for this session finished (the
  // login it would have joined ended while its read was in flight): that login stands.
  if (reason !== 'login' && reason !== 'profile') {
    const view = pageViewOf(previous, user, ctx.clock.now(), ctx.options);
    if (!view.due) return { platform: view.current, replaced: null };
  }
  let fresh: PlatformSession;
  try {
    fresh = await ctx.accounts.login({ id: user.id, name: user.name, email: user.email ?? null });
  } catch (error) {
    return loginFailed(ctx, previous, user, reason, error);
  }
  ctx.metrics?.logins.inc({ outcome: 'ok' });

  const now = ctx.clock.now();
  const row = { hostSessionId, hostUserId: user.id, previousSession: previous.platform_session };
  const { won, replaced } = await recordLogin(ctx.db, row, fresh, now);
  if (won) return { platform: fresh, replaced };
  return { platform: usableSession(await ctx.reads.row(hostSessionId), user, now, ctx.options), replaced };
}

/** A platform login that failed: counted, logged, and the row set to retry after a growing wait. */
async function loginFailed(ctx: BridgeContext, previous: BridgeSessionRow, user: HostUser, reason: LoginReason, error: unknown): Promise<LoginOutcome> {
  ctx.metrics?.logins.inc({ outcome: outcomeOf(error) });
  const failedAttempts = previous.failed_attempts + 1;
  const retryAt = ctx.clock.now() + loginRetryDelay(failedAttempts, ctx.options);
  ctx.logger.warn(failureFields(error, { reason, failedAttempts }), 'platform login failed; a later page view retries');
  const rowStillLive = await markLoginFailure(ctx.db, { hostSessionId: previous.host_sid, hostUserId: user.id }, { retryAt, failedAttempts });
  // Until the retry succeeds, a session the platform still honours is better than none;
  // unless a logout got there meanwhile (no row was marked), which stands.
  return { platform: rowStillLive ? usableSession(previous, user, ctx.clock.now(), ctx.options) : null, replaced: null };
}
