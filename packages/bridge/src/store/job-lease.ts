import type { Kysely } from 'kysely';
import type { BridgeSchema } from './schema';

/**
 * Takes the lease on a background job for `leaseMs` when nobody holds it: one conditional upsert,
 * so of several instances asking at once exactly one gets `true`. A holder that dies simply lets
 * the lease run out; the next instance to ask after that takes it over.
 */
export async function claimJobLease(db: Kysely<BridgeSchema>, name: string, holder: string, now: number, leaseMs: number): Promise<boolean> {
  const claimed = await db
    .insertInto('job_leases')
    .values({ name, holder, lease_until: now + leaseMs })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, lease_until: now + leaseMs })
        .where('job_leases.lease_until', '<=', now),
    )
    .returning('name')
    .executeTakeFirst();
  return claimed !== undefined;
}
