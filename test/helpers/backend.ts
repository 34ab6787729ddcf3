import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { postgresUrl, redisUrl } from './services';
import { makeTempDir } from './temp-dir';

/**
 * Which stores a suite's sites run on, chosen for the whole run by `BACKEND`:
 * - `sqlite` (the default): users, bridge data and sessions in a temp SQLite file;
 * - `postgres`: all of that in a PostgreSQL schema of the site's own;
 * - `postgres-redis`: PostgreSQL for data, Redis for sessions and rate limits, under a key prefix of the site's own.
 * Every site gets a store no other site, run or program sees, created here and dropped by `drop()`.
 */
export type Backend = 'sqlite' | 'postgres' | 'postgres-redis';

export function currentBackend(): Backend {
  const value = process.env.BACKEND ?? 'sqlite';
  if (value !== 'sqlite' && value !== 'postgres' && value !== 'postgres-redis') {
    throw new Error(`BACKEND must be sqlite, postgres or postgres-redis, not ${value}`);
  }
  return value;
}

/** Why the chosen backend cannot run here, or undefined when it can. */
export function missingServiceFor(backend: Backend): string | undefined {
  if (backend !== 'sqlite' && !postgresUrl()) return 'DATABASE_URL is not set to a postgres:// URL';
  if (backend === 'postgres-redis' && !redisUrl()) return 'REDIS_URL is not set to a redis:// URL';
  return undefined;
}

export interface TestStores {
  backend: Backend;
  databaseUrl: string;
  /** set on postgres-redis: sessions and rate limits go there */
  redis: { url: string; keyPrefix: string } | undefined;
  drop(): Promise<void>;
}

/** A PostgreSQL schema of its own; the URL sets it as the search path of every connection. */
export async function createPostgresSchema(url: string): Promise<{ url: string; schema: string; drop: () => Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: scoped.toString(),
    schema,
    drop: async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Deletes every Redis key under `prefix`. */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const { createClient } = await import('redis');
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
}

/** Fresh stores for one site (and its restarts) on the run's backend. */
export async function createTestStores(backend: Backend = currentBackend()): Promise<TestStores> {
  const missing = missingServiceFor(backend);
  if (missing) throw new Error(`BACKEND=${backend} needs a service that is absent: ${missing}`);
  if (backend === 'sqlite') {
    const temp = makeTempDir();
    return { backend, databaseUrl: `sqlite:${path.join(temp.dir, 'site.db')}`, redis: undefined, drop: async () => temp.remove() };
  }
  const pg = await createPostgresSchema(postgresUrl()!);
  const redis = backend === 'postgres-redis' ? { url: redisUrl()!, keyPrefix: `${pg.schema}:` } : undefined;
  return {
    backend,
    databaseUrl: pg.url,
    redis,
    drop: async () => {
      await pg.drop();
      if (redis) await dropRedisPrefix(redis.url, redis.keyPrefix);
    },
  };
}
