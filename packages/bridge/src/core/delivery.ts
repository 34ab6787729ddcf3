/**
 * Sending queued platform logouts (docs/architecture.md#the-outbox): each row is claimed by one
 * instance, sent, and removed once delivered or pointless; the circuit breaker's state decides
 * how many go at once.
 */
import { outcomeOf } from '../platform/metrics';
import { inBatches } from './batches';
import type { BridgeContext } from './context';
import { claimLogouts, countLogouts, deleteClaimedLogouts, expireLogouts, releaseLogouts, rescheduleLogout } from './outbox-rows';
import { PENDING_COUNT_CAP, claimSize, failureFields, logoutRetryDelay, nothingToLogOut, sendSize } from './policy';

/** Retries queued platform logouts that are due; `remaining` is counted up to PENDING_COUNT_CAP. */
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
  return { delivered, remaining: await countLogouts(ctx.db, PENDING_COUNT_CAP) };
}

/** A logout just queued, sent now unless another instance has already claimed it. */
export async function deliverNow(ctx: BridgeContext, session: string): Promise<void> {
  const { token, sessions } = await claimLogouts(ctx.db, { session }, ctx.clock.now(), ctx.options.deliveryLeaseMs);
  if (sessions.length === 1 && (await sendLogout(ctx, session, token)) !== 'kept') await deleteClaimedLogouts(ctx.db, sessions, token);
}

/**
 * One claimed logout to the platform. 'delivered' and 'dropped' (nothing left to log out) are for
 * the caller to remove from the outbox; 'kept' has been rescheduled for a retry.
 */
async function sendLogout(ctx: BridgeContext, session: string, token: string): Promise<'delivered' | 'dropped' | 'kept'> {
  try {
    await ctx.accounts.logout(session);
  } catch (error) {
    if (nothingToLogOut(error)) {
      ctx.metrics?.logouts.inc({ outcome: 'dropped' });
      ctx.logger.warn(failureFields(error), 'platform logout refused; nothing left to log out');
      return 'dropped';
    }
    const attempts = await rescheduleLogout(ctx.db, session, token, (n) => ctx.clock.now() + logoutRetryDelay(n, ctx.options));
    ctx.metrics?.logouts.inc({ outcome: outcomeOf(error) });
    ctx.logger.warn(failureFields(error, { attempts: attempts ?? 1 }), 'platform logout failed; kept for a retry');
    return 'kept';
  }
  ctx.metrics?.logouts.inc({ outcome: 'ok' });
  return 'delivered';
}

async function expireUndelivered(ctx: BridgeContext, now: number): Promise<void> {
  // With no page rendering it any more, a session left this long has idled out on the
  // platform (docs/platform-protocol.md#idle-expiry: 12 hours without activity), so the outbox does not grow without end.
  // In batches, by the created_at index: every instance runs this before every delivery pass.
  const limit = ctx.options.pruneBatchSize;
  const expiredCount = await inBatches(limit, () => expireLogouts(ctx.db, now - ctx.options.pendingLogoutTtlMs, limit));
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
    const results = await Promise.allSettled(batch.map((session) => sendLogout(ctx, session, token)));
    // One statement for the group: the outbox drains at the platform's pace, not a commit per logout.
    // A logout the platform took is removed even when a neighbour's reschedule failed.
    const done = (r: PromiseSettledResult<string>) => r.status === 'fulfilled' && r.value !== 'kept';
    await deleteClaimedLogouts(ctx.db, batch.filter((_, i) => done(results[i]!)), token);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    delivered += results.filter((r) => r.status === 'fulfilled' && r.value === 'delivered').length;
  }
  // What the circuit kept from being sent goes back for the next run, or for another instance.
  if (next < sessions.length) await releaseLogouts(ctx.db, sessions.slice(next), token);
  return delivered;
}
