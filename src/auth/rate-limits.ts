import {
  RateLimiterPostgres,
  RateLimiterRes,
  RateLimiterRedis,
  RateLimiterSQLite,
  type RateLimiterAbstract,
  type IRateLimiterStoreOptions,
} from 'rate-limiter-flexible';
import type { RateLimitConfig } from '../config';
import { AppError, isAppError } from '../errors';
import { withDeadline } from '../store/deadline';
import type { RawClient } from 'vf-login-bridge';
import type { RedisClient } from '../store/session-stores';

/**
 * Counters of failed logins, registrations and account changes, kept where every site process
 * sees them: Redis when sessions are there, otherwise the site's database. How the login
 * counters combine is in src/auth/login-limits.ts.
 */
export interface RateLimits {
  readonly loginPerAccountClient: AttemptCounter;
  readonly loginPerAccount: AttemptCounter;
  readonly loginPerIp: AttemptCounter;
  readonly loginCeiling: AttemptCounter;
  readonly registerPerIp: AttemptCounter;
  readonly accountChangesPerUser: AttemptCounter;
  readonly accountChangesPerIp: AttemptCounter;
  /** verification and reset mails to one address, per hour */
  readonly mailPerAddress: AttemptCounter;
  /** requests for such mails from one IP, per hour */
  readonly mailPerIp: AttemptCounter;
  /**
   * Deletes counters that expired over an hour ago, from a SQL store (Redis expires its own keys).
   * The prune job calls it, on one instance per period (packages/bridge/src/jobs.ts): the library's own
   * timer would go on firing into a closed database after the site closes.
   */
  prune(): Promise<void>;
}

/** What the site asks of one counter (src/auth/login-limits.ts): the part of a limiter it uses. */
export interface AttemptCounter {
  /** The key's count, read without writing: null when it has none. */
  get(key: string): Promise<RateLimiterRes | null>;
  /** Counts one attempt; rejects with the limiter's RateLimiterRes when that went past the limit. */
  consume(key: string): Promise<RateLimiterRes>;
  /** Gives points back to the key. */
  reward(key: string, points: number): Promise<RateLimiterRes>;
  /** Forgets the key's count. */
  delete(key: string): Promise<boolean>;
}

const FIFTEEN_MINUTES = 15 * 60;
const ONE_HOUR = 60 * 60;

/** A limiter's store that does not answer within this is treated as down. */
const STORE_TIMEOUT_MS = 1_000;

export async function createRateLimits(
  limits: RateLimitConfig,
  store: { raw: RawClient; redis?: RedisClient | undefined; redisKeyPrefix?: string | undefined },
): Promise<RateLimits> {
  /** every limiter made, for prune(): the counters the site uses wrap them */
  const limiters: RateLimiterAbstract[] = [];
  const make = async (keyPrefix: string, points: number, duration: number) => {
    const limiter = await createLimiter(store, {
      keyPrefix: store.redis ? `${store.redisKeyPrefix ?? ''}${keyPrefix}` : keyPrefix,
      points,
      duration,
      tableName: 'rate_limits_' + keyPrefix,
    });
    if (!store.redis) await indexExpiry(store.raw, 'rate_limits_' + keyPrefix);
    limiters.push(limiter);
    return new FailClosedCounter(limiter);
  };
  const perClient = limits.loginPerAccountClient ?? limits.loginPerAccount;
  const ceiling = limits.loginCeiling ?? 2 * limits.loginPerAccount + perClient + 1;
  const [loginPerAccountClient, loginPerAccount, loginPerIp, loginCeiling, registerPerIp, accountChangesPerUser, accountChangesPerIp, mailPerAddress, mailPerIp] = await Promise.all([
    make('login_account_client', perClient, FIFTEEN_MINUTES),
    make('login_account', limits.loginPerAccount, FIFTEEN_MINUTES),
    make('login_ip', limits.loginPerIp, FIFTEEN_MINUTES),
    make('login_ceiling', ceiling, FIFTEEN_MINUTES),
    make('register_ip', limits.registerPerIp, ONE_HOUR),
    make('account_user', limits.accountChangesPerUser ?? 10, ONE_HOUR),
    make('account_ip', limits.accountChangesPerIp ?? 30, ONE_HOUR),
    make('mail_address', limits.mailPerAddress ?? 5, ONE_HOUR),
    make('mail_ip', limits.mailPerIp ?? 30, ONE_HOUR),
  ]);
  const prune = async () => {
    if (store.redis) return;
    // The limiter stamps its counters' expiries with the system time itself, so they are compared with it.
    const hourAgo = Date.now() - ONE_HOUR * 1000;
    for (const limiter of limiters) await pruneCounters(store.raw, (limiter as unknown as SqlLimiter).tableName, hourAgo);
  };
  return { loginPerAccountClient, loginPerAccount, loginPerIp, loginCeiling, registerPerIp, accountChangesPerUser, accountChangesPerIp, mailPerAddress, mailPerIp, prune };
}

/** What RateLimiterSQLite and RateLimiterPostgres have and their typings leave out. */
interface SqlLimiter {
  readonly tableName: string;
}

/** Expired counters one statement deletes at most. */
const PRUNE_BATCH = 500;

/**
 * Deletes a counter table's rows that expired before `olderThanMs`, in batches by key through the
 * expiry index, each its own statement: the library's own `clearExpired` deletes them all in one
 * statement that reads the whole table. The table's name is the site's own (`rate_limits_` and a
 * fixed prefix), never a reader's input.
 */
async function pruneCounters(raw: RawClient, table: string, olderThanMs: number): Promise<void> {
  if (raw.dialect === 'sqlite') {
    const batch = raw.client.prepare(`delete from ${table} where key in (select key from ${table} where expire < ? order by expire limit ${PRUNE_BATCH}) and expire < ?`) as {
      run(...values: unknown[]): { changes: number };
    };
    // Between two batches the event loop turns: page views and logins get the write lock.
    while (batch.run(olderThanMs, olderThanMs).changes === PRUNE_BATCH) await new Promise((resolve) => setImmediate(resolve));
    return;
  }
  const client = await raw.client.connect();
  try {
    for (;;) {
      const result = await client.query({
        text: `delete from ${table} where key = any(array(select key from ${table} where expire < $1 order by expire limit ${PRUNE_BATCH})) and expire < $1`,
        values: [olderThanMs],
      });
      if ((result.rowCount ?? 0) < PRUNE_BATCH) return;
    }
  } finally {
    client.release();
  }
}

/**
 * The expiry index the prune reads, made at start-up right after the limiter made its table (the
 * library makes its tables itself, so this cannot be a migration). A counter table holds the last
 * hour or two of keys: the build is quick and its lock short, and it is never asked for again.
 */
async function indexExpiry(raw: RawClient, table: string): Promise<void> {
  const statement = `create index if not exists ${table}_expire on ${table} (expire)`;
  if (raw.dialect === 'sqlite') (raw.client.prepare(statement) as { run(): unknown }).run();
  else {
    const client = await raw.client.connect();
    try {
      await client.query({ text: statement });
    } finally {
      client.release();
    }
  }
}

function createLimiter(
  store: { raw: RawClient; redis?: RedisClient | undefined },
  opts: { keyPrefix: string; points: number; duration: number; tableName: string },
): Promise<RateLimiterAbstract> {
  if (store.redis) {
    return Promise.resolve(new RateLimiterRedis({ ...opts, storeClient: store.redis, useRedisPackage: true }));
  }
  // The SQL stores create their table asynchronously; the callback says when it is there.
  return new Promise((resolve, reject) => {
    const done = (err?: unknown) => (err ? reject(err) : resolve(limiter));
    // The typings lag the library: `storeType: 'better-sqlite3'` is a documented option that
    // IRateLimiterStoreOptions lacks. Expired counters go in RateLimits.prune(), not on the library's timer.
    const base = { ...opts, storeClient: store.raw.client, clearExpiredByTimeout: false } as IRateLimiterStoreOptions;
    const limiter: RateLimiterAbstract =
      store.raw.dialect === 'sqlite'
        ? new RateLimiterSQLite({ ...base, storeType: 'better-sqlite3' } as IRateLimiterStoreOptions, done)
        : new RateLimiterPostgres(base, done);
  });
}

/**
 * A limiter whose store is down or frozen must not wave guesses through: every call is bounded,
 * and a store failure (anything but the limiter's own "over the limit" answer) becomes a 503
 * that refuses the attempt. Counting resumes by itself when the store is back.
 */
export class FailClosedCounter implements AttemptCounter {
  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly timeoutMs = STORE_TIMEOUT_MS,
  ) {}

  get(key: string): Promise<RateLimiterRes | null> {
    return this.bounded(() => this.limiter.get(key));
  }

  consume(key: string): Promise<RateLimiterRes> {
    return this.bounded(() => this.limiter.consume(key));
  }

  reward(key: string, points: number): Promise<RateLimiterRes> {
    return this.bounded(() => this.limiter.reward(key, points));
  }

  delete(key: string): Promise<boolean> {
    return this.bounded(() => this.limiter.delete(key));
  }

  private bounded<T>(call: () => Promise<T>): Promise<T> {
    // A store that throws at once (a closed database) is refused like one that answers with an error.
    const work = Promise.resolve().then(call);
    return withDeadline(work, this.timeoutMs, () => rateLimitUnavailable()).catch((rejection: unknown) => {
      if (rejection instanceof RateLimiterRes || isAppError(rejection)) throw rejection;
      throw rateLimitUnavailable(rejection);
    });
  }
}

function rateLimitUnavailable(cause?: unknown): AppError {
  return new AppError('RATE_LIMIT_UNAVAILABLE', 'Sign-in is briefly unavailable. Please try again in a moment.', { cause });
}
