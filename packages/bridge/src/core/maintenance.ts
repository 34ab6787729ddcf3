/**
 * The bridge's housekeeping, run by the leased jobs (src/jobs.ts): forgetting old rows
 * (docs/architecture.md#the-outbox), and ending rows whose host session the session store no
 * longer has.
 */
import { inBatches } from './batches';
import type { BridgeContext } from './context';
import type { HostSessionCheck } from './types';
import { enqueueLogouts } from './outbox-rows';
import { TOMBSTONE_KEEP_MS } from './policy';
import { deleteAbandoned, deleteTombstones, endHostSession, reconcilePage } from './session-rows';

/**
 * Forgets rows of ended host sessions and of host sessions long expired; returns how many. At most
 * pruneBatchSize rows a statement, each batch committed on its own (docs/architecture.md#the-outbox).
 */
export async function pruneSessions(ctx: BridgeContext): Promise<number> {
  const { db, clock, options } = ctx;
  const now = clock.now();
  const limit = options.pruneBatchSize;
  const tombstones = await inBatches(limit, () => deleteTombstones(db, now - TOMBSTONE_KEEP_MS, limit));
  const abandoned = await inBatches(limit, () =>
    db.transaction().execute(async (trx) => {
      const sessions = await deleteAbandoned(trx, now - options.forgetAfterMs, limit);
      // The embed may still be keeping such a platform session alive: it is logged out, not just
      // forgotten, and queued in the transaction that deletes its row, so exactly once.
      await enqueueLogouts(trx, sessions.filter((session): session is string => session !== null), now);
      return sessions.length;
    }),
  );
  return tombstones + abandoned;
}

/** The check as one question a page: a store that answers one id at a time is asked for each at once. */
function existingOf(check: HostSessionCheck): (hostSessionIds: readonly string[]) => Promise<ReadonlySet<string>> {
  if (typeof check !== 'function') return (ids) => check.existing(ids);
  return async (ids) => {
    const found = await Promise.all(ids.map((id) => check(id)));
    return new Set(ids.filter((_, i) => found[i]));
  };
}

/**
 * Ends the rows whose host session the session store no longer has, a page at a time, at most
 * reconcileBatchSize rows a pass; the next pass goes on where this one stopped.
 */
export class Reconciler {
  readonly #ctx: BridgeContext;
  /** Where the next pass goes on from: a host session id, '' for the start. */
  #cursor = '';

  constructor(ctx: BridgeContext) {
    this.#ctx = ctx;
  }

  async pass(check: HostSessionCheck): Promise<{ checked: number; ended: number }> {
    const existing = existingOf(check);
    const { db, clock, logger, options } = this.#ctx;
    const now = clock.now();
    let checked = 0;
    let ended = 0;
    const pageSize = Math.min(200, options.reconcileBatchSize);
    while (checked < options.reconcileBatchSize) {
      const page = await reconcilePage(db, this.#cursor, now - options.reconcileGraceMs, pageSize);
      // Any answer but a sure "no" (an error, a timeout) ends the pass with nothing ended.
      const alive = await existing(page);
      for (const hostSessionId of page) {
        if (alive.has(hostSessionId)) continue;
        if (await endHostSession(db, hostSessionId, now)) ended += 1;
      }
      checked += page.length;
      if (page.length < pageSize) {
        this.#cursor = '';
        break;
      }
      this.#cursor = page[page.length - 1]!;
    }
    if (ended > 0) logger.info({ ended }, 'host sessions gone from the session store: their platform sessions are queued for logout');
    return { checked, ended };
  }
}
