import { sql, type AliasedRawBuilder, type Selectable } from 'kysely';
import type { BridgeSessionsTable } from './schema';

/** A row of the bridge's sessions table, as the bridge reads it. */
export type BridgeSessionRow = Selectable<BridgeSessionsTable>;

/**
 * The bridge session columns, defined once: the bridge's own reads and a host site's joined
 * page-view read both take them from here, so a new column cannot be missed in one of them.
 */
export const BRIDGE_SESSION_COLUMNS = [
  'host_sid',
  'host_user_id',
  'platform_user_id',
  'platform_session',
  'last_activity_at',
  'retry_at',
  'failed_attempts',
  'ended_at',
] as const satisfies ReadonlyArray<keyof BridgeSessionsTable>;

type Unlisted = Exclude<keyof BridgeSessionsTable, (typeof BRIDGE_SESSION_COLUMNS)[number]>;
/** Fails to compile while a column of the table is missing from the list above. */
export const EVERY_COLUMN_LISTED: [Unlisted] extends [never] ? true : never = true;

/** The columns of a left join on the bridge's sessions table: each `bridge_<column>`, null when no row matched. */
export type JoinedBridgeColumns = { [K in keyof BridgeSessionsTable as `bridge_${K}`]: BridgeSessionsTable[K] | null };

/** The select list of such a join, for the table under `alias` (`leftJoin('bridge_sessions as b', ...)`). */
export function joinedBridgeColumns(alias: string): ReadonlyArray<AliasedRawBuilder<unknown, `bridge_${string}`>> {
  return BRIDGE_SESSION_COLUMNS.map((column) => sql.ref(`${alias}.${column}`).as(`bridge_${column}` as const));
}

/** The bridge row a joined read found, or null when the host session has none. */
export function bridgeRowFromJoined(row: JoinedBridgeColumns): BridgeSessionRow | null {
  if (row.bridge_host_sid === null) return null;
  const found: Record<string, unknown> = {};
  for (const column of BRIDGE_SESSION_COLUMNS) found[column] = row[`bridge_${column}`];
  return found as BridgeSessionRow;
}
