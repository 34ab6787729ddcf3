/**
 * Reading query plans (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite): whether a statement
 * reads a whole large table, or a whole index of one without a LIMIT to stop it. The bench checks
 * every statement of a page view, a login, the outbox, pruning and reconciliation at 1M readers.
 * A table of a few rows (the job leases, a mail outbox that is sent within seconds) is left to the
 * planner, which rightly reads it whole.
 */

export interface PlanVerdict {
  /** the large tables read whole (or through a whole index with no LIMIT) */
  scans: string[];
  ok: boolean;
}

function sqliteScans(lines: readonly string[], bounded: boolean): string[] {
  // "SCAN t", "SCAN t USING INDEX i", "SCAN t USING COVERING INDEX i"; SEARCH lines use an index's range.
  return lines.flatMap((line) => {
    const match = /^SCAN (\w+)( USING (?:COVERING )?INDEX \w+)?/.exec(line.trim());
    if (!match) return [];
    return match[2] && bounded ? [] : [match[1]!];
  });
}

const depth = (line: string) => line.length - line.trimStart().length;

/** PostgreSQL's "Seq Scan on t", unless the node right above it is a Limit, which stops it early. */
function postgresScans(lines: readonly string[]): string[] {
  return lines.flatMap((line, i) => {
    const table = /Seq Scan on (\w+)/.exec(line)?.[1];
    if (!table) return [];
    const parent = lines.slice(0, i).reverse().find((above) => depth(above) < depth(line) && (/->/.test(above) || above === lines[0]));
    return parent && /^(->\s*)?Limit\b/.test(parent.trim()) ? [] : [table];
  });
}

/** The verdict on one statement's plan, counting only scans of `largeTables`. */
export function judgePlan(dialect: 'sqlite' | 'postgres', sql: string, plan: readonly string[], largeTables: ReadonlySet<string>): PlanVerdict {
  const bounded = /\blimit\b/i.test(sql);
  const scans = (dialect === 'postgres' ? postgresScans(plan) : sqliteScans(plan, bounded)).filter((table) => largeTables.has(table));
  return { scans: [...new Set(scans)], ok: scans.length === 0 };
}
