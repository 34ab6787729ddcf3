import type session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { Clock } from 'vf-login-bridge';
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
  const store = guardStore(new DatabaseSessionStore(database.db, clock, ttlMs), (work) =>
    work.catch((error: unknown) => {
      throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError(error) : error;
    }),
  );
  return {
    store,
    kind: 'database',
    redis: undefined,
    redisKeyPrefix: '',
    exists: (sid) => existsIn(store, sid),
    ping: () => database.ping(),
    close: async () => (store as DatabaseSessionStore).close(),
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
  const bounded = <T>(work: Promise<T>) =>
    withDeadline(work, REDIS_COMMAND_TIMEOUT_MS, () => new SessionStoreUnavailableError()).catch((error: unknown) => {
      throw error instanceof SessionStoreUnavailableError ? error : new SessionStoreUnavailableError(error);
    });
  const store = guardStore(new RedisStore({ client, prefix: `${keyPrefix}sess:`, ttl: Math.ceil(ttlMs / 1000), disableTouch: true }), bounded);
  return {
    store,
    kind: 'redis',
    redis: client,
    redisKeyPrefix: keyPrefix,
    exists: (sid) => existsIn(store, sid),
    ping: async () => {
      await bounded(client.ping());
    },
    close: async () => {
      if (client.isOpen) await bounded(client.close()).catch(() => client.destroy());
    },
  };
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

type Callback = (err?: unknown, value?: unknown) => void;

/**
 * Every call into the store goes through `bound`, which bounds its wait and turns its failures
 * into the typed errors the error handler answers with a 503. No store is touched: the site moves
 * expiries by saving, and only when they move by a minute (src/auth/session-lifetime.ts).
 */
function guardStore<S extends session.Store>(store: S, bound: <T>(work: Promise<T>) => Promise<T>): S {
  for (const method of ['get', 'set', 'destroy'] as const) {
    const original = store[method]?.bind(store) as ((...args: unknown[]) => void) | undefined;
    if (!original) continue;
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const callback = (typeof args[args.length - 1] === 'function' ? args.pop() : undefined) as Callback | undefined;
      const work = new Promise<unknown>((resolve, reject) => original(...args, (err: unknown, value: unknown) => (err ? reject(err) : resolve(value))));
      bound(work).then(
        (value) => callback?.(null, value),
        (error: unknown) => callback?.(error),
      );
    };
  }
  return store;
}

function existsIn(store: session.Store, sid: string): Promise<boolean> {
  return new Promise((resolve, reject) => store.get(sid, (err, data) => (err ? reject(err) : resolve(Boolean(data)))));
}
