import type { Clock } from '../../clock';
import type { TokenRecord } from '../token-store';
import { tokenStateError } from './token-errors';
import { refreshAt } from './token-record';
import type { TokenHealth } from './token-status';

/** Tokens refused with a 401, remembered so that a stale read of the store does not bring one back. */
const REFUSED_TOKENS_KEPT = 16;

/**
 * What this process knows of its token, changed only where something happens (a token adopted, a
 * 401, a failed fetch, a dead end), so that health() is a plain read.
 */
export class TokenState {
  private cached: TokenRecord | null = null;
  private readonly refused = new Set<string>();
  private lastFetchFailed = false;
  private reconnectNeeded: string | undefined;
  private connected: boolean;

  constructor(
    private readonly clock: Clock,
    private readonly marginMs: number | undefined,
    startsConnected: boolean,
  ) {
    this.connected = startsConnected;
  }

  /** Usable and not yet due for a refresh. */
  fresh(record: TokenRecord, now: number): boolean {
    return this.usable(record, now) && now < refreshAt(record, this.marginMs);
  }

  /** Not expired, not refused: good to send while a refresh is on its way. */
  usable(record: TokenRecord, now: number): boolean {
    return !record.reconnectNeeded && !this.refused.has(record.accessToken) && now < record.expiresAt;
  }

  /** The cached token while it is fresh: the path that asks nothing. */
  cachedToken(): string | undefined {
    return this.cached && this.fresh(this.cached, this.clock.now()) ? this.cached.accessToken : undefined;
  }

  adopt(record: TokenRecord): string {
    this.cached = record;
    // Only fresh records and new answers come here: a token handed over anew is good again.
    this.refused.delete(record.accessToken);
    this.connected = true;
    this.reconnectNeeded = undefined;
    this.lastFetchFailed = false;
    return record.accessToken;
  }

  /** A new connect: every token refused before belongs to the old one. */
  reconnected(record: TokenRecord): void {
    this.refused.clear();
    this.adopt(record);
  }

  refuse(token: string): void {
    this.refused.add(token);
    if (this.refused.size > REFUSED_TOKENS_KEPT) this.refused.delete(this.refused.values().next().value!);
    if (this.cached?.accessToken === token) this.cached = null;
  }

  fetchFailed(): void {
    this.lastFetchFailed = true;
  }

  notConnected(): never {
    this.connected = false;
    throw tokenStateError('TOKEN_NOT_CONNECTED');
  }

  deadEnd(record: TokenRecord): never {
    this.cached = null;
    this.reconnectNeeded = record.reconnectNeeded;
    throw tokenStateError('TOKEN_RECONNECT_NEEDED');
  }

  health(): TokenHealth {
    if (this.reconnectNeeded) return 'reconnect_needed';
    if (this.cached && this.clock.now() < this.cached.expiresAt) return 'cached';
    if (!this.connected) return 'not_connected';
    return this.lastFetchFailed ? 'failing' : 'none';
  }
}
