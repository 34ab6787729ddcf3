import type session from 'express-session';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import type { Clock } from '../clock';
import type { Database } from './database';
import { DatabaseSessionStore } from './session-store';

export type RedisClient = ReturnType<typeof createClient>;

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
  const client: RedisClient = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy: (n) => Math.min(n * 200, 3000) } });
  // Without a listener an 'error' event would crash the process; the store answers errors per request.
  client.on('error', () => undefined);
  await client.connect();
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
