import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { AccountsClient } from '../platform/accounts-client';
import type { CircuitState, PlatformMetrics } from '../platform/metrics';
import type { BridgeSchema } from '../store/schema';
import { resolveOptions, type ResolvedOptions } from './policy';
import { createRowReads, type RowReads } from './session-rows';
import type { BridgeDeps } from './types';

/** What every part of the bridge works with: its dependencies, checked, and its options, resolved. None of it changes. */
export interface BridgeContext {
  readonly db: Kysely<BridgeSchema>;
  readonly accounts: Pick<AccountsClient, 'login' | 'logout'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: PlatformMetrics | undefined;
  readonly circuit: () => CircuitState;
  readonly options: ResolvedOptions;
  /** the page view's reads, compiled once */
  readonly reads: RowReads;
}

export function contextOf(deps: BridgeDeps): BridgeContext {
  const { db, accounts, clock, logger, metrics } = deps;
  if (!db) throw new TypeError('createBridge requires a database');
  if (!accounts || typeof accounts.login !== 'function' || typeof accounts.logout !== 'function') {
    throw new TypeError('createBridge requires an accounts client');
  }
  if (!clock || typeof clock.now !== 'function') throw new TypeError('createBridge requires a clock');
  if (!logger) throw new TypeError('createBridge requires a logger');
  const options = resolveOptions(deps.options);
  const circuit = deps.circuit ?? (() => 'closed' as const);
  return { db, accounts, clock, logger, metrics, circuit, options, reads: createRowReads(db) };
}
