import { Client } from 'pg';
import { sql, type Kysely, type Transaction, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type UnknownRow } from 'kysely';
import { createAdjustableClock, createBridge, type Bridge, type BridgeSchema } from 'vf-login-bridge';
import { createAccountTokens } from '../../src/accounts/account-tokens';
import { createRateLimits } from '../../src/auth/rate-limits';
import { createMemoryLogger } from '../../src/logger';
import { openDatabase, type Database } from '../../src/store/database';
import { DatabaseSessionStore } from '../../src/store/session-store';
import { openTempDatabase } from '../helpers/temp-database';
import { waitFor } from '../helpers/wait-for';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 10, 2, 9, 0, 0);
/** The bridge's default: a row untouched this long is abandoned. */
const FORGET_AFTER_MS = 7 * DAY + 12 * HOUR;
const BATCH = 3;
const onSqlite = (process.env.BACKEND ?? 'sqlite') === 'sqlite';

/** Rows each DELETE removed, statement by statement, as the database reported them. */
function deleteCounter(): { plugin: KyselyPlugin; deletes: number[] } {
  const deletes: number[] = [];
  const kinds = new WeakMap<object, string>();
  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs) {
      kinds.set(args.queryId, args.node.kind);
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      if (kinds.get(args.queryId) === 'DeleteQueryNode') deletes.push(Number(args.result.numAffectedRows ?? args.result.rows.length));
      return args.result;
    },
  };
  return { plugin, deletes };
}

/** A bridge that never calls the platform: pruning and expiry need none. */
function bridgeOn(db: Kysely<BridgeSchema>, clock: { now(): number }, options: { pruneBatchSize?: number } = {}): Bridge {
  const accounts = {
    login: async () => {
      throw new Error('no platform login in these tests');
    },
    logout: async () => undefined,
  };
  return createBridge({ db, accounts, clock, logger: createMemoryLogger().logger, options: { pruneBatchSize: BATCH, ...options } });
}

describe('pruning and the outbox expiry in bounded batches', () => {
  let database: Database & { url: string };
  let db: Kysely<BridgeSchema>;
  const clock = createAdjustableClock({ now: () => START });

  beforeEach(async () => {
    database = await openTempDatabase();
    db = database.bridge.db;
  });
  afterEach(async () => {
    await database.close();
  });

  const now = () => clock.now();
  const row = (sid: string, lastActivityAt: number, endedAt: number | null, session: string | null) => ({
    host_sid: sid,
    host_user_id: `u-${sid}`,
    platform_user_id: session ? `p-${sid}` : null,
    platform_session: session,
    last_activity_at: lastActivityAt,
    retry_at: null,
    failed_attempts: 0,
    ended_at: endedAt,
  });
  /** `count` abandoned rows, the longest idle first: `a1` is the oldest. */
  const abandoned = (count: number, prefix = 'a') =>
    Array.from({ length: count }, (_, i) => row(`${prefix}${i + 1}`, now() - FORGET_AFTER_MS - (count - i) * 1000, null, `ps-${prefix}${i + 1}`));
  const tombstones = (count: number, prefix = 't') => Array.from({ length: count }, (_, i) => row(`${prefix}${i + 1}`, now() - 3 * HOUR, now() - 2 * HOUR - (count - i) * 1000, null));
  const hostSids = async () => (await db.selectFrom('bridge_sessions').select('host_sid').orderBy('host_sid').execute()).map((r) => r.host_sid);
  const queued = async () => (await db.selectFrom('pending_logouts').select('platform_session').orderBy('platform_session').execute()).map((r) => r.platform_session);

  test('more rows than a batch: every old tombstone and abandoned row goes, at most a batch a statement; recent rows stay; each logout queued once', async () => {
    const live = [row('live1', now() - HOUR, null, 'ps-live1'), row('live2', now() - FORGET_AFTER_MS + HOUR, null, 'ps-live2')];
    const recentTombstone = row('t-recent', now() - HOUR, now() - 10 * 60_000, null);
    // One abandoned row never got a platform session: nothing to log out for it.
    const noSession = row('a0', now() - FORGET_AFTER_MS - DAY, null, null);
    await db.insertInto('bridge_sessions').values([...tombstones(7), ...abandoned(7), noSession, ...live, recentTombstone]).execute();
    const counter = deleteCounter();

    await expect(bridgeOn(db.withPlugin(counter.plugin), clock).pruneSessions()).resolves.toBe(15);

    expect(await hostSids()).toEqual(['live1', 'live2', 't-recent']);
    expect(await queued()).toEqual(abandoned(7).map((r) => r.platform_session).sort());
    // Tombstones 3, 3, 1; abandoned rows 3, 3, 2: each batch a statement of its own.
    expect(counter.deletes).toEqual([3, 3, 1, 3, 3, 2]);
  });

  test('a row a page view touches between two batches is kept, and its platform session is not logged out', async () => {
    await db.insertInto('bridge_sessions').values(abandoned(8)).execute();
    let touched = false;
    // Each abandoned batch commits a transaction of its own; a page view touches a6 after the first.
    const transaction = db.transaction.bind(db);
    const watched = new Proxy(db, {
      get(target, property) {
        if (property === 'transaction') {
          return () => {
            const builder = transaction();
            return {
              execute: async (work: (trx: Transaction<BridgeSchema>) => Promise<unknown>) => {
                const result = await builder.execute(work);
                if (!touched) {
                  touched = true;
                  await db.updateTable('bridge_sessions').set({ last_activity_at: now() }).where('host_sid', '=', 'a6').execute();
                }
                return result;
              },
            };
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });

    await expect(bridgeOn(watched, clock).pruneSessions()).resolves.toBe(7);

    expect(touched).toBe(true);
    expect(await hostSids()).toEqual(['a6']);
    expect(await queued()).toEqual(abandoned(8).filter((r) => r.host_sid !== 'a6').map((r) => r.platform_session).sort());
  });

  test('two instances pruning at once: each row deleted once, each logout queued once', async () => {
    await db.insertInto('bridge_sessions').values([...tombstones(12), ...abandoned(20)]).execute();
    // On PostgreSQL a connection pool of its own, as another process has; one SQLite process has
    // one connection, and its statements interleave with the other instance's between batches.
    const other = onSqlite ? undefined : await openDatabase(database.url);
    try {
      const counters = [deleteCounter(), deleteCounter()];
      const bridges = [bridgeOn(db.withPlugin(counters[0]!.plugin), clock), bridgeOn((other?.bridge.db ?? db).withPlugin(counters[1]!.plugin), clock)];

      const pruned = await Promise.all(bridges.map((bridge) => bridge.pruneSessions()));
      // A batch cut short by the other instance ends a pass early; the next pass takes the rest.
      const after = await bridges[0]!.pruneSessions();

      expect(pruned[0]! + pruned[1]! + after).toBe(32);
      expect(await hostSids()).toEqual([]);
      expect(await queued()).toEqual(abandoned(20).map((r) => r.platform_session).sort());
      // Every delete of both instances together removed each row once.
      const deleted = [...counters[0]!.deletes, ...counters[1]!.deletes];
      expect(deleted.reduce((sum, n) => sum + n, 0)).toBe(32);
      expect(Math.max(...deleted)).toBeLessThanOrEqual(BATCH);
    } finally {
      await other?.close();
    }
  });

  test('queued logouts past their time expire in batches before a delivery pass; the rest stay queued', async () => {
    const ttl = 12 * HOUR;
    const logout = (session: string, createdAt: number) => ({ platform_session: session, attempts: 3, next_attempt_at: now() + HOUR, created_at: createdAt, claim_token: null, claimed_until: null });
    const expired = Array.from({ length: 7 }, (_, i) => logout(`old-${i}`, now() - ttl - i * 1000));
    await db.insertInto('pending_logouts').values([...expired, logout('fresh-1', now() - HOUR), logout('fresh-2', now())]).execute();
    const counter = deleteCounter();

    await expect(bridgeOn(db.withPlugin(counter.plugin), clock).deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 2 });

    expect(await queued()).toEqual(['fresh-1', 'fresh-2']);
    expect(counter.deletes).toEqual([3, 3, 1]);
  });

  test('the queued logouts are counted up to 10,000, not all of them', async () => {
    const rows = Array.from({ length: 10_005 }, (_, i) => ({ platform_session: `q-${i}`, attempts: 0, next_attempt_at: now() + HOUR, created_at: now(), claim_token: null, claimed_until: null }));
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('pending_logouts').values(rows.slice(i, i + 500)).execute();
    const bridge = bridgeOn(db, clock);

    await expect(bridge.status()).resolves.toMatchObject({ pendingLogouts: 10_000 });
    await expect(bridge.deliverPendingLogouts()).resolves.toEqual({ delivered: 0, remaining: 10_000 });
  });

  test('a prune batch size outside 1..5,000, or not whole, is refused at creation', () => {
    for (const pruneBatchSize of [0, -1, 2.5, 5_001, Number.NaN]) expect(() => bridgeOn(db, clock, { pruneBatchSize })).toThrow(TypeError);
  });

  test('the session store prunes expired sessions in batches; live ones stay', async () => {
    const store = new DatabaseSessionStore(database.db, clock, DAY);
    const session = (sid: string, expiresAt: number) => ({ sid, sess: '{}', expires_at: expiresAt, user_id: null });
    const expired = Array.from({ length: 8 }, (_, i) => session(`old-${i}`, now() - i * 1000));
    await database.db.insertInto('sessions').values([...expired, session('live-1', now() + 1000), session('live-2', now() + DAY)]).execute();

    await expect(store.prune(BATCH)).resolves.toBe(8);

    expect((await database.db.selectFrom('sessions').select('sid').orderBy('sid').execute()).map((r) => r.sid)).toEqual(['live-1', 'live-2']);
  });

  test('expired one-time links are pruned in batches of 500 until none is left', async () => {
    const link = (i: number, expiresAt: number) => ({ token_hash: `h-${i}`, user_id: 1, purpose: 'reset_password' as const, email: 'r@example.com', created_at: now() - HOUR, expires_at: expiresAt });
    const rows = Array.from({ length: 1_002 }, (_, i) => link(i, i < 1_001 ? now() - i : now() + HOUR));
    for (let i = 0; i < rows.length; i += 250) await database.db.insertInto('account_tokens').values(rows.slice(i, i + 250)).execute();

    await expect(createAccountTokens(database.db, clock).prune()).resolves.toBe(1_001);

    expect((await database.db.selectFrom('account_tokens').select('token_hash').execute()).map((r) => r.token_hash)).toEqual(['h-1001']);
  });

  test('expired rate-limit counters in the database are pruned in batches of 500 until none is left', async () => {
    const limits = await createRateLimits({ loginPerAccount: 5, loginPerIp: 20, registerPerIp: 5 }, { raw: database.raw });
    // The limiter dates its counters with the system time, and prune() compares with it.
    const wallClock = Date.now();
    const keys = Array.from({ length: 1_001 }, (_, i) => `ip-${i}`);
    for (let i = 0; i < keys.length; i += 250) {
      const values = keys.slice(i, i + 250).map((key, j) => sql`(${key}, 1, ${wallClock - 2 * HOUR - i - j})`);
      await sql`insert into rate_limits_login_ip (key, points, expire) values ${sql.join(values)}`.execute(database.db);
    }
    await sql`insert into rate_limits_login_ip (key, points, expire) values ('ip-live', 1, ${wallClock + HOUR})`.execute(database.db);

    await limits.prune();

    const left = await sql<{ key: string }>`select key from rate_limits_login_ip`.execute(database.db);
    expect(left.rows.map((r) => r.key)).toEqual(['ip-live']);
  });

  const onPostgres = onSqlite ? test.skip : test;

  onPostgres('PostgreSQL: a row a page view touches while the batch deleting it waits on its lock is kept (the condition is checked again)', async () => {
    await db.insertInto('bridge_sessions').values(abandoned(5)).execute();
    const pageView = new Client({ connectionString: database.url });
    await pageView.connect();
    try {
      await pageView.query('begin');
      await pageView.query('update vf_bridge_sessions set last_activity_at = $1 where host_sid = $2', [now(), 'a2']);
      const { rows } = await pageView.query<{ pid: number }>('select pg_backend_pid() as pid');
      const blocker = rows[0]!.pid;
      const pass = bridgeOn(db, clock).pruneSessions();
      await waitFor(async () => {
        const waiting = await pageView.query<{ n: string }>('select count(*) as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [blocker]);
        return Number(waiting.rows[0]!.n) > 0;
      }, 'the prune batch to wait on the page view');
      await pageView.query('commit');

      // a1 and a3 go; a2 stays; the batch came back short, so the pass ends and the next takes the rest.
      await expect(pass).resolves.toBe(2);
      expect(await hostSids()).toEqual(['a2', 'a4', 'a5']);
      await expect(bridgeOn(db, clock).pruneSessions()).resolves.toBe(2);
      expect(await hostSids()).toEqual(['a2']);
      expect(await queued()).not.toContain('ps-a2');
    } finally {
      await pageView.end();
    }
  });
});
