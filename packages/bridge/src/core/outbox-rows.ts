/**
 * Every statement on the queued platform logouts (the outbox, docs/architecture.md#the-outbox): a logout is
 * written here in the transaction that ends its host session, and leaves once it is delivered,
 * pointless or expired.
 */
import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { BridgeSchema } from '../store/schema';
import type { Db } from './context';

export async function enqueueLogout(db: Db, session: string, now: number): Promise<void> {
  await db
    .insertInto('pending_logouts')
    .values({ platform_session: session, attempts: 0, next_attempt_at: now, created_at: now, claim_token: null, claimed_until: null })
    .onConflict((oc) => oc.column('platform_session').doNothing())
    .execute();
}

/**
 * Claims queued logouts for this caller: rows that are due (or just the ones named) and that
 * no other instance holds. One conditional UPDATE: of several instances claiming at once, each
 * row goes to exactly one, because the claim condition is checked again on the row it writes.
 */
export async function claimLogouts(
  db: Kysely<BridgeSchema>,
  which: { due: number } | { session: string },
  now: number,
  leaseMs: number,
): Promise<{ token: string; sessions: string[] }> {
  const token = randomUUID();
  const unclaimed = (eb: ExpressionBuilder<BridgeSchema, 'pending_logouts'>) =>
    eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]);
  let update = db
    .updateTable('pending_logouts')
    .set({ claim_token: token, claimed_until: now + leaseMs })
    .where(unclaimed);
  update =
    'session' in which
      ? update.where('platform_session', '=', which.session)
      : update.where('platform_session', 'in', (eb) =>
          eb
            .selectFrom('pending_logouts')
            .select('platform_session')
            .where('next_attempt_at', '<=', now)
            .where(unclaimed)
            .orderBy('next_attempt_at')
            .limit(which.due),
        );
  const rows = await update.returning('platform_session').execute();
  return { token, sessions: rows.map((row) => row.platform_session) };
}

/** Hands claimed rows back untouched. */
export async function releaseLogouts(db: Kysely<BridgeSchema>, sessions: string[], token: string): Promise<void> {
  await db
    .updateTable('pending_logouts')
    .set({ claim_token: null, claimed_until: null })
    .where('platform_session', 'in', sessions)
    .where('claim_token', '=', token)
    .execute();
}

/**
 * A claimed logout that failed: one more attempt counted, its next one set by `nextAttemptAt`,
 * and the claim given up. Returns the attempts so far, or undefined when the row is no longer ours.
 */
export async function rescheduleLogout(
  db: Kysely<BridgeSchema>,
  session: string,
  token: string,
  nextAttemptAt: (attempts: number) => number,
): Promise<number | undefined> {
  const row = await db.selectFrom('pending_logouts').select('attempts').where('platform_session', '=', session).where('claim_token', '=', token).executeTakeFirst();
  if (!row) return undefined;
  const attempts = row.attempts + 1;
  await db
    .updateTable('pending_logouts')
    .set({ attempts, next_attempt_at: nextAttemptAt(attempts), claim_token: null, claimed_until: null })
    .where('platform_session', '=', session)
    .where('claim_token', '=', token)
    .execute();
  return attempts;
}

/** Removes a queued logout, only while this caller's claim still holds it. */
export async function deleteClaimedLogout(db: Kysely<BridgeSchema>, session: string, token: string): Promise<void> {
  await db.deleteFrom('pending_logouts').where('platform_session', '=', session).where('claim_token', '=', token).execute();
}

/** Drops queued logouts created at or before `createdUpTo`; returns how many. */
export async function expireLogouts(db: Kysely<BridgeSchema>, createdUpTo: number): Promise<number> {
  const expired = await db.deleteFrom('pending_logouts').where('created_at', '<=', createdUpTo).executeTakeFirst();
  return Number(expired.numDeletedRows);
}

export async function countLogouts(db: Kysely<BridgeSchema>): Promise<number> {
  const row = await db.selectFrom('pending_logouts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
