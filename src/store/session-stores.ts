import type session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { Clock } from '../clock';
import type { Database } from './database';
import { DatabaseSessionStore } from './session-store';

export type RedisClient = ReturnType<typeof createClient>;

/** Connection attempts at start-up before giving up (about 1 s of retries). */
const STARTUP_CONNECT_TRIES = 4;

/** The express-session store the site runs on, with what /readyz and shutdown need of it. */
export interface SessionStoreHandle {
  readonly store: session.Store;
  readonly kind: 'database' | 'redis';
  /** the Redis connection, when sessions live there: rate limits share it */
  readonly redis: RedisClient | undefined;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openDatabaseSessionStore(database: Database, clock: Clock, ttlMs: number): SessionStoreHandle {
  const store = new DatabaseSessionStore(database.db, clock, ttlMs);
  return {
    store,
    kind: 'database',
    redis: undefined,
    ping: () => database.ping(),
    close: async () => store.close(),
  };
}

/** Sessions in Redis: the scale-out path, several site processes behind one balancer. */
export async function openRedisSessionStore(url: string, ttlMs: number, prefix = 'sess:'): Promise<SessionStoreHandle> {
  let connected = false;
  // Once connected, a lost connection is retried for ever; the first connection gets a few tries
  // and then fails start-up, instead of waiting silently for a Redis that is not there.
  const reconnectStrategy = (retries: number, cause: Error) => (connected || retries < STARTUP_CONNECT_TRIES ? Math.min(retries * 200, 3000) : cause);
  const client: RedisClient = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy } });
  // Without a listener an 'error' event would crash the process; the store answers errors per request.
  client.on('error', () => undefined);
  await client.connect();
  connected = true;
  const store = new RedisStore({ client, prefix, ttl: Math.ceil(ttlMs / 1000) });
  return {
    store,
    kind: 'redis',
    redis: client,
    ping: async () => {
      await client.ping();
    },
    close: async () => {
      if (client.isOpen) await client.quit();
    },
  };
}
