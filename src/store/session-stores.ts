import type session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { ForwardingStore, storeHas, type Clock } from 'vf-login-bridge';
import type { Database } from './database';
import { withDeadline } from './deadline';
import { DatabaseSessionStore } from './session-store';
import { DatabaseUnavailableError, SessionStoreUnavailableError, isDatabaseUnavailable } from './unavailable';

export type RedisClient = ReturnType<typeof createClient>;

/** Connection attempts at start-up before giving up (about 1 s of retries). */
const STARTUP_CONNECT_TRIES = 4;

/** The express-session store the site runs on, with what /readyz, shutdown and reconciliation need of it. */
export interface SessionStoreHandle {
  readonly store: session.Store;
  readonly kind: 'database' | 'redis';
  /** the Redis connection, when sessions live there: rate limits share it */
  readonly redis: RedisClient | undefined;
  /** keys the site writes in Redis start with this: several sites (or test runs) share one Redis */
  readonly redisKeyPrefix: string;
  /** Whether the store still holds this session; rejects when it cannot tell. */
  exists(sid: string): Promise<boolean>;
  /** Deletes expired sessions (the leased prune job runs it); Redis expires its own: 0. */
  prune(): Promise<number>;
  /** Which of these sessions the store still holds, in one round trip; rejects when it cannot tell. */
  existing(sids: readonly string[]): Promise<ReadonlySet<string>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How long a request waits for Redis. A frozen Redis accepts the command and never answers, and
 * node-redis's own command timeout stops counting once a command is written: this deadline is
 * what turns that into a fast 503.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** Start-up gives up on an unreachable Redis after this, naming REDIS_URL. */
export const REDIS_CONNECT_TIMEOUT_MS = 10_000;

export function openDatabaseSessionStore(database: Database, clock: Clock, ttlMs: number): SessionStoreHandle {
  const rows = new DatabaseSessionStore(database.db, clock, ttlMs);
  const store = new BoundedStore(rows, boundDatabaseCall);
  return {
    store,
    kind: 'database',
    redis: undefined,
    redisKeyPrefix: '',
    exists: (sid) => storeHas(store, sid),
    existing: (sids) => boundDatabaseCall(rows.existing(sids)),
    prune: () => boundDatabaseCall(rows.prune()),
    ping: () => database.ping(),
    close: async () => undefined,
  };
}

/** Sessions in Redis: the scale-out path, several site processes behind one balancer. */
export async function openRedisSessionStore(url: string, ttlMs: number, keyPrefix = ''): Promise<SessionStoreHandle> {
  let connected = false;
  // Once connected, a lost connection is retried for ever; the first connection gets a few tries
  // and then fails start-up, instead of waiting silently for a Redis that is not there.
  const reconnectStrategy = (retries: number, cause: Error) =>
    connected || retries < STARTUP_CONNECT_TRIES ? Math.min(100 * 2 ** retries, 2_000) : cause;
  const client: RedisClient = createClient({
    url,
    // While Redis is away a command fails at once instead of queueing until it is back.
    disableOfflineQueue: true,
    commandOptions: { timeout: REDIS_COMMAND_TIMEOUT_MS },
    socket: { connectTimeout: 2_000, reconnectStrategy },
  });
  // Without a listener an 'error' event would crash the process; requests see the errors themselves.
  client.on('error', () => undefined);
  await connectWithin(client);
  connected = true;
  const store = new BoundedStore(new RedisStore({ client, prefix: `${keyPrefix}sess:`, ttl: Math.ceil(ttlMs / 1000), disableTouch: true }), boundRedisCall);
  return {
    store,
    kind: 'redis',
    redis: client,
    redisKeyPrefix: keyPrefix,
    exists: (sid) => storeHas(store, sid),
    existing: (sids) => redisExisting(client, `${keyPrefix}sess:`, sids),
    prune: async () => 0,
    ping: async () => {
      await boundRedisCall(client.ping());
    },
    close: async () => {
      if (client.isOpen) await boundRedisCall(client.close()).catch(() => client.destroy());
    },
  };
}

/** One EXISTS a session, sent together (node-redis pipelines the commands of one tick). */
async function redisExisting(client: RedisClient, prefix: string, sids: readonly string[]): Promise<ReadonlySet<string>> {
  const found = await boundRedisCall(Promise.all(sids.map((sid) => client.exists(prefix + sid))));
  return new Set(sids.filter((_, i) => found[i] === 1));
}

/**
 * The first connection, bounded: a refused connection fails after a few tries, a host that never
 * answers after REDIS_CONNECT_TIMEOUT_MS; start-up then stops with a line naming REDIS_URL
 * (src/startup-errors.ts).
 */
async function connectWithin(client: RedisClient): Promise<void> {
  try {
    await withDeadline(client.connect(), REDIS_CONNECT_TIMEOUT_MS, () => new Error(`no answer within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s`));
  } catch (error) {
    client.destroy();
    throw error;
  }
}

/** Waits for one store call within the store's deadline, turning its failures into a typed error. */
export type BoundCall = <T>(work: Promise<T>) => Promise<T>;

/** The database bounds its own waits (POSTGRES_LIMITS in the bridge's store): only its failure is named here. */
export const boundDatabaseCall: BoundCall = (work) =>
  work.catch((error: unknown) => {
    throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError(error) : error;
  });

/** A Redis call answers within REDIS_COMMAND_TIMEOUT_MS or fails, and every failure is the store's being unavailable. */
export const boundRedisCall: BoundCall = (work) =>
  withDeadline(work, REDIS_COMMAND_TIMEOUT_MS, () => new SessionStoreUnavailableError()).catch((error: unknown) => {
    throw error instanceof SessionStoreUnavailableError ? error : new SessionStoreUnavailableError(error);
  });

/**
 * The session store with every call bounded: each goes through `bound`, which limits its wait and
 * turns its failures into the typed errors the error handler answers with a 503. No expiry is
 * touched here: the site moves expiries by saving, and only when they move by a minute
 * (src/auth/session-lifetime.ts).
 */
export class BoundedStore extends ForwardingStore {
  constructor(
    inner: session.Store,
    private readonly bound: BoundCall,
  ) {
    super(inner);
  }

  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
    settle(this.bound(promised<session.SessionData | null>((done) => this.inner.get(sid, done))), callback);
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    settle(this.bound(promised((done) => this.inner.set(sid, data, done))), callback);
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    settle(this.bound(promised((done) => this.inner.destroy(sid, done))), callback);
  }

  override touch(sid: string, data: session.SessionData, callback?: () => void): void {
    const touch = this.inner.touch?.bind(this.inner);
    if (!touch) return void callback?.();
    // express-session's touch callback takes the error too, though the typings leave it out.
    settle(this.bound(promised((done) => touch(sid, data, done))), callback as ((err?: unknown) => void) | undefined);
  }

}

/** A store call with a callback, as a promise. */
function promised<T = void>(call: (done: (err?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** The promise's outcome, to a store callback. */
function settle<T>(work: Promise<T>, callback: ((err: unknown, value?: T) => void) | undefined): void {
  work.then(
    (value) => callback?.(null, value),
    (error: unknown) => callback?.(error),
  );
}
