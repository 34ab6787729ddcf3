import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createClient } from 'redis';

/**
 * The stores of the bench's scale-out variant: a PostgreSQL schema of its own on DATABASE_URL and
 * a Redis key prefix of its own on REDIS_URL, as the test suites choose them (BACKEND=postgres-redis),
 * so a bench run never touches another program's tables or keys. Dropped when the bench ends.
 */
export interface ScaleOutStores {
  /** DATABASE_URL with the schema as every connection's search path */
  databaseUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  drop(): Promise<void>;
}

/** Both services, when the environment names them; otherwise why the variant is skipped. */
export function scaleOutServices(env: NodeJS.ProcessEnv = process.env): { databaseUrl: string; redisUrl: string } | { skipped: string } {
  const databaseUrl = env['DATABASE_URL'];
  const redisUrl = env['REDIS_URL'];
  if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) return { skipped: 'DATABASE_URL is not set to a postgres:// URL' };
  if (!redisUrl || !/^rediss?:\/\//.test(redisUrl)) return { skipped: 'REDIS_URL is not set to a redis:// URL' };
  return { databaseUrl, redisUrl };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createScaleOutStores(databaseUrl: string, redisUrl: string): Promise<ScaleOutStores> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  await withClient(databaseUrl, (client) => client.query(`create schema ${schema}`));
  const scoped = new URL(databaseUrl);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  const redisKeyPrefix = `${schema}:`;
  return {
    databaseUrl: scoped.toString(),
    redisUrl,
    redisKeyPrefix,
    drop: async () => {
      await withClient(databaseUrl, (client) => client.query(`drop schema if exists ${schema} cascade`));
      const redis = createClient({ url: redisUrl });
      await redis.connect();
      try {
        for await (const keys of redis.scanIterator({ MATCH: `${redisKeyPrefix}*`, COUNT: 500 })) {
          if (keys.length > 0) await redis.unlink(keys);
        }
      } finally {
        redis.destroy();
      }
    },
  };
}
