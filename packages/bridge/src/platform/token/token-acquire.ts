import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../clock';
import { readKept, type TokenRecord, type TokenStore } from '../token-store';
import type { TokenGrantStrategy } from './grant-strategy';
import { tokenStateError } from './token-errors';
import type { TokenState } from './token-state';

/** How often an instance looks whether the lease holder has written the new token. */
const LEASE_POLL_MS = 20;

/** Everything one acquisition works with, passed in: the source owns them. */
export interface AcquireParts {
  store: TokenStore;
  strategy: TokenGrantStrategy;
  state: TokenState;
  clock: Clock;
  /** How long to wait for another instance's refresh before giving up (TOKEN_BUSY). */
  waitMs: number;
}

/**
 * A token from the store when it is fresh, else renewed under the store's lease. With a shared
 * store one instance at a time renews (a rotating refresh token used twice would kill the other
 * copy, docs/token-dialects.md); the others use the old token while it lives, or wait for the new one.
 */
export async function acquireToken(parts: AcquireParts): Promise<string> {
  const { store, strategy, state, clock } = parts;
  const giveUpAt = performance.now() + parts.waitMs;
  for (;;) {
    const known = await readKept(store);
    const now = clock.now();
    if (known && state.fresh(known, now)) return state.adopt(known);
    if (known?.reconnectNeeded) state.deadEnd(known);
    if (!known && !strategy.traits.startsAnew) state.notConnected();
    const token = await renewOnce(parts, known, now);
    if (token !== undefined) return token;
    if (performance.now() > giveUpAt) throw tokenStateError('TOKEN_BUSY');
    await delay(LEASE_POLL_MS);
  }
}

/** One try at the lease; undefined when another instance holds it and no old token serves meanwhile. */
async function renewOnce(parts: AcquireParts, known: TokenRecord | null, readAt: number): Promise<string | undefined> {
  const { store, state, clock } = parts;
  let lease;
  try {
    lease = await store.withLease(() => renewIfDue(parts));
  } catch (error) {
    state.fetchFailed();
    // Inside the safety margin the old token still works: a failed early refresh costs nothing.
    if (known && state.usable(known, clock.now())) return known.accessToken;
    throw error;
  }
  if (lease.held) return lease.value.reconnectNeeded ? state.deadEnd(lease.value) : state.adopt(lease.value);
  return known && state.usable(known, readAt) ? known.accessToken : undefined;
}

/** Under the lease: the grant's next token, written to the store before anyone uses it. */
async function renewIfDue({ store, strategy, state, clock }: AcquireParts): Promise<TokenRecord> {
  // Another instance may have renewed between the read before the lease and the lease.
  const current = await readKept(store);
  if (current && (state.fresh(current, clock.now()) || current.reconnectNeeded)) return current;
  const next = current !== null && strategy.refresh ? await strategy.refresh(current) : await strategy.obtain();
  await store.write(next);
  return next;
}
