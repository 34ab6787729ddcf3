/**
 * Sending queued platform logouts (docs/architecture.md#the-outbox): each row is claimed by one
 * instance, sent, and removed once delivered or pointless; the circuit breaker's state decides
 * how many go at once.
 */
import { outcomeOf } from '../platform/metrics';
import type { BridgeContext } from './context';
import { claimLogouts, countLogouts, deleteClaimedLogout, expireLogouts, releaseLogouts, rescheduleLogout } from './outbox-rows';
import { claimSize, failureFields, logoutRetryDelay, nothingToLogOut, sendSize } from './policy';

/** Retries queued platform logouts that are due. */
export async function deliverPendingLogouts(ctx: BridgeContext): Promise<{ delivered: number; remaining: number }> {
  await expireUndelivered(ctx, ctx.clock.now());
  let delivered = 0;
  // An open circuit would refuse every call: leave the rows on their schedule.
  while (ctx.circuit() !== 'open') {
    // Half-open lets one trial call through: claim one, not a batch the breaker would refuse.
    const wanted = claimSize(ctx.circuit(), ctx.options.deliveryBatchSize);
    const { token, sessions } = await claimLogouts(ctx.db, { due: wanted }, ctx.clock.now(), ctx.options.deliveryLeaseMs);
    if (sessions.length === 0) break;
    delivered += await sendClaimed(ctx, sessions, token);
    if (sessions.length < wanted) break;
  }
  return { delivered, remaining: await countLogouts(ctx.db) };
}

/** A logout just queued, sent now unless another instance has already claimed it. */
export async function deliverNow(ctx: BridgeContext, session: string): Promise<void> {
  const { token, sessions } = await claimLogouts(ctx.db, { session }, ctx.clock.now(), ctx.options.deliveryLeaseMs);
  if (sessions.length === 1) await deliverClaimed(ctx, session, token);
}

/** One claimed logout to the platform; the outbox row goes once it is delivered or pointless. */
export async function deliverClaimed(ctx: BridgeContext, session: string, token: string): Promise<'delivered' | 'dropped' | 'kept'> {
  try {
    await ctx.accounts.logout(session);
  } catch (error) {
    if (nothingToLogOut(error)) {
      await deleteClaimedLogout(ctx.db, session, token);
      ctx.metrics?.logouts.inc({ outcome: 'dropped' });
      ctx.logger.warn(failureFields(error), 'platform logout refused; nothing left to log out');
      return 'dropped';
    }
    const attempts = await rescheduleLogout(ctx.db, session, token, (n) => ctx.clock.now() + logoutRetryDelay(n, ctx.options));
    ctx.metrics?.logouts.inc({ outcome: outcomeOf(error) });
    ctx.logger.warn(failureFields(error, { attempts: attempts ?? 1 }), 'platform logout failed; kept for a retry');
    return 'kept';
  }
  await deleteClaimedLogout(ctx.db, session, token);
  ctx.metrics?.logouts.inc({ outcome: 'ok' });
  return 'delivered';
}

async function expireUndelivered(ctx: BridgeContext, now: number): Promise<void> {
  // With no page rendering it any more, a session left this long has idled out on the
  // platform (docs/platform-protocol.md#idle-expiry: 12 hours without activity), so the outbox does not grow without end.
  const expiredCount = await expireLogouts(ctx.db, now - ctx.options.pendingLogoutTtlMs);
  if (expiredCount > 0) {
    ctx.metrics?.logouts.inc({ outcome: 'expired' }, expiredCount);
    ctx.logger.warn({ code: 'PLATFORM_UNAVAILABLE', expired: expiredCount }, 'queued platform logouts expired undelivered');
  }
}

/** Sends claimed logouts in groups the circuit allows; returns how many were delivered. */
async function sendClaimed(ctx: BridgeContext, sessions: string[], token: string): Promise<number> {
  let delivered = 0;
  let next = 0;
  while (next < sessions.length) {
    const state = ctx.circuit();
    if (state === 'open') break;
    const batch = sessions.slice(next, next + sendSize(state));
    next += batch.length;
    const results = await Promise.all(batch.map((session) => deliverClaimed(ctx, session, token)));
    delivered += results.filter((result) => result === 'delivered').length;
  }
  // What the circuit kept from being sent goes back for the next run, or for another instance.
  if (next < sessions.length) await releaseLogouts(ctx.db, sessions.slice(next), token);
  return delivered;
}
