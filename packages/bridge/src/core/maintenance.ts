/**
 * The bridge's housekeeping, run by the leased jobs (src/jobs.ts): forgetting old rows
 * (docs/architecture.md#the-outbox), and ending rows whose host session the session store no
 * longer has.
 */
import type { BridgeContext } from './context';
import { enqueueLogout } from './outbox-rows';
import { TOMBSTONE_KEEP_MS } from './policy';
import { deleteAbandoned, deleteTombstones, endHostSession, reconcilePage } from './session-rows';

/** Forgets rows of ended host sessions and of host sessions long expired; returns how many. */
export async function pruneSessions(ctx: BridgeContext): Promise<number> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const tombstones = await deleteTombstones(trx, now - TOMBSTONE_KEEP_MS);
    // The embed may still be keeping such a platform session alive: it is logged out, not just forgotten.
    const abandoned = await deleteAbandoned(trx, now - ctx.options.forgetAfterMs);
    for (const session of abandoned) if (session) await enqueueLogout(trx, session, now);
    return tombstones + abandoned.length;
  });
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

  async pass(hostSessionExists: (hostSessionId: string) => Promise<boolean>): Promise<{ checked: number; ended: number }> {
    const { db, clock, logger, options } = this.#ctx;
    const now = clock.now();
    let checked = 0;
    let ended = 0;
    const pageSize = Math.min(200, options.reconcileBatchSize);
    while (checked < options.reconcileBatchSize) {
      const page = await reconcilePage(db, this.#cursor, now - options.reconcileGraceMs, pageSize);
      // Any answer but a sure "no" (an error, a timeout) ends the pass with nothing ended.
      const exists = await Promise.all(page.map((hostSessionId) => hostSessionExists(hostSessionId)));
      for (const [i, hostSessionId] of page.entries()) {
        if (exists[i]) continue;
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
