/**
 * Every statement on the queued platform logouts (the outbox, docs/architecture.md#the-outbox): a logout is
 * written here in the transaction that ends its host session, and leaves once it is delivered,
 * pointless or expired.
 */
import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { BridgeSchema, Db } from '../store/schema';
import { keyIn } from './batches';

export async function enqueueLogout(db: Db, session: string, now: number): Promise<void> {
  await db
    .insertInto('pending_logouts')
    .values({ platform_session: session, attempts: 0, next_attempt_at: now, created_at: now, claim_token: null, claimed_until: null })
    .onConflict((oc) => oc.column('platform_session').doNothing())
    .execute();
}

/** Rows of one multi-row insert at most: batches split into powers of two up to this. */
const INSERT_CHUNK = 256;

/**
 * Queues many logouts in the caller's transaction. A batch goes in chunks whose sizes are powers
 * of two, so the statements have a handful of texts, each prepared once (src/store/pg-pool.ts).
 */
export async function enqueueLogouts(db: Db, sessions: readonly string[], now: number): Promise<void> {
  let next = 0;
  while (next < sessions.length) {
    let size = INSERT_CHUNK;
    while (size > sessions.length - next) size /= 2;
    const rows = sessions.slice(next, next + size).map((session) => ({ platform_session: session, attempts: 0, next_attempt_at: now, created_at: now, claim_token: null, claimed_until: null }));
    await db.insertInto('pending_logouts').values(rows).onConflict((oc) => oc.column('platform_session').doNothing()).execute();
    next += size;
  }
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
      : update.where(
          // By key (src/core/batches.ts): PostgreSQL would otherwise join the whole outbox to the batch.
          keyIn(db, 'platform_session', db.selectFrom('pending_logouts').select('platform_session').where('next_attempt_at', '<=', now).where(unclaimed).orderBy('next_attempt_at').limit(which.due)),
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

/** Removes queued logouts, only those this caller's claim still holds. */
export async function deleteClaimedLogouts(db: Kysely<BridgeSchema>, sessions: readonly string[], token: string): Promise<void> {
  if (sessions.length === 0) return;
  await db.deleteFrom('pending_logouts').where('platform_session', 'in', sessions).where('claim_token', '=', token).execute();
}

/**
 * Drops at most `limit` queued logouts created at or before `createdUpTo`, oldest first, by key
 * (the created_at index finds them); returns how many. The condition is checked again on each row
 * deleted, so only expired rows go whatever happened to them since the inner select.
 */
export async function expireLogouts(db: Kysely<BridgeSchema>, createdUpTo: number, limit: number): Promise<number> {
  const expired = await db
    .deleteFrom('pending_logouts')
    .where(keyIn(db, 'platform_session', db.selectFrom('pending_logouts').select('platform_session').where('created_at', '<=', createdUpTo).orderBy('created_at').limit(limit)))
    .where('created_at', '<=', createdUpTo)
    .executeTakeFirst();
  return Number(expired.numDeletedRows);
}

/** Queued logouts, counted up to `cap`: reads at most that many keys however long the outbox is. */
export async function countLogouts(db: Kysely<BridgeSchema>, cap: number): Promise<number> {
  const row = await db
    .selectFrom((eb) => eb.selectFrom('pending_logouts').select('platform_session').limit(cap).as('capped'))
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
