import { PostgresAdapter, sql, type Expression, type RawBuilder } from 'kysely';

/**
 * Runs `batch` again and again until one comes back short of `limit` rows; returns the total. Each
 * batch is a short statement or transaction of its own: between two of them a page view, a login
 * or another instance gets the database, and SQLite's write lock is never held for a whole pass
 * (docs/architecture.md#the-outbox). A batch cut short by a concurrent write ends the pass
 * early; what is left goes in the next one.
 */
export async function inBatches(limit: number, batch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await batch();
    total += done;
    if (done < limit) return total;
  }
}

/**
 * `column` is one of the keys `keys` (a select of at most a batch of them) yields. PostgreSQL gets
 * `= any(array(...))`: the keys are read once and each row found by its primary key, where an
 * `in (...)` may be planned as a join that scans every row matching the condition, a batch costing
 * as much as the whole table. SQLite plans `in (...)` that way already.
 */
export function keyIn(db: { getExecutor(): { readonly adapter: object } }, column: string, keys: Expression<unknown>): RawBuilder<boolean> {
  const adapter = db.getExecutor().adapter;
  const postgres = adapter instanceof PostgresAdapter || adapter.constructor.name === 'PostgresAdapter';
  return postgres ? sql<boolean>`${sql.ref(column)} = any(array(${keys}))` : sql<boolean>`${sql.ref(column)} in (${keys})`;
}
