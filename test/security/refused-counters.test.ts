import { sql } from 'kysely';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { createLoginGuard, type LoginAttempt } from '../../src/auth/login-limits';
import { FailClosedCounter, type AttemptCounter, type RateLimits } from '../../src/auth/rate-limits';
import { RateLimitedError } from '../../src/errors';
import { uniqueEmail } from '../helpers/browser-flow';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';
import { proxiedBrowser } from './proxied-browser';

/** The login counters, by the name of their table (`rate_limits_<name>`) or Redis key prefix (src/auth/rate-limits.ts). */
const LOGIN_COUNTERS = ['login_account_client', 'login_ip', 'login_account', 'login_ceiling'] as const;
type CounterName = (typeof LOGIN_COUNTERS)[number];

/** A small per-IP limit, so that one client trips it in a few attempts; the others stay far off. */
const LIMITS = { loginPerAccountClient: 5, loginPerAccount: 10, loginPerIp: 3, loginCeiling: 100, registerPerIp: 1000 };
const FIFTEEN_MINUTES_S = 15 * 60;

/** Every stored count of one counter, by the key the guard gave it (`<email>|ip:<ip>`, `<ip>`, `<email>`). */
async function countsOf(t: TestSite, name: CounterName): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const redis = t.site.sessions.redis;
  if (redis) {
    const prefix = `${t.site.sessions.redisKeyPrefix}${name}:`;
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      for (const key of keys) counts.set(key.slice(prefix.length), Number(await redis.get(key)));
    }
    return counts;
  }
  const rows = await sql<{ key: string; points: number | string }>`select key, points from ${sql.table(`rate_limits_${name}`)}`.execute(t.site.database.db);
  for (const row of rows.rows) counts.set(row.key.slice(`${name}:`.length), Number(row.points));
  return counts;
}

async function allCounts(t: TestSite): Promise<Record<CounterName, Map<string, number>>> {
  const entries = await Promise.all(LOGIN_COUNTERS.map(async (name) => [name, await countsOf(t, name)] as const));
  return Object.fromEntries(entries) as Record<CounterName, Map<string, number>>;
}

describe('a login refused by one limit writes nothing to the others (every backend)', () => {
  let t: TestSite;
  beforeAll(async () => {
    t = await startTestSite({ overrides: { trustProxy: true, rateLimits: LIMITS } });
  });
  afterAll(() => t.close());

  /** An IP whose per-IP limit is spent by failed logins at addresses nobody registered. */
  async function trippedClient(ip: string) {
    const client = proxiedBrowser(t.site.app, ip);
    for (let i = 0; i < LIMITS.loginPerIp; i += 1) expect((await client.login(uniqueEmail('probe'), 'some wrong guess')).status).toBe(401);
    expect((await allCounts(t)).login_ip.get(ip)).toBe(LIMITS.loginPerIp);
    return client;
  }

  it('once the per-IP limit has tripped, 40 logins for 40 new emails are all refused and add no row, key or point anywhere', async () => {
    const ip = '203.0.113.71';
    const client = await trippedClient(ip);
    const before = await allCounts(t);

    for (let i = 0; i < 40; i += 1) {
      const refused = await client.login(uniqueEmail('sprayed'), `spray ${i}`);
      expect(refused.status).toBe(429);
      // The wait is the per-IP counter's: what is left of its 15-minute window.
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(FIFTEEN_MINUTES_S - 60);
      expect(retryAfter).toBeLessThanOrEqual(FIFTEEN_MINUTES_S);
    }

    const after = await allCounts(t);
    for (const name of LOGIN_COUNTERS) expect({ name, counts: [...after[name]] }).toEqual({ name, counts: [...before[name]] });
    expect(after.login_ip.get(ip)).toBe(LIMITS.loginPerIp);
  });

  it('a refused attempt at an account costs its owner nothing: the owner logs in afterwards and the counts are as if it never came', async () => {
    const owner = uniqueEmail('owner');
    expect((await proxiedBrowser(t.site.app, '198.51.100.72').register(owner)).status).toBe(303);
    // The owner on a new browser (no device cookie) mistypes once.
    const ownerIp = '192.0.2.72';
    const ownerBrowser = proxiedBrowser(t.site.app, ownerIp);
    expect((await ownerBrowser.login(owner, 'a typo in it')).status).toBe(401);

    const attackerIp = '203.0.113.72';
    const attacker = await trippedClient(attackerIp);
    for (let i = 0; i < 5; i += 1) expect((await attacker.login(owner, TEST_PASSWORD)).status).toBe(429);
    const refusedAfter = await allCounts(t);
    expect(refusedAfter.login_account_client.has(`${owner}|ip:${attackerIp}`)).toBe(false);
    expect(refusedAfter.login_account.get(owner)).toBe(1);
    expect(refusedAfter.login_ceiling.get(owner)).toBe(1);

    expect((await ownerBrowser.login(owner)).status).toBe(303);
    const loggedIn = await allCounts(t);
    // A success forgets the client's failures and gives the shared counters this attempt's point back.
    expect(loggedIn.login_account_client.has(`${owner}|ip:${ownerIp}`)).toBe(false);
    expect(loggedIn.login_account_client.has(`${owner}|ip:${attackerIp}`)).toBe(false);
    expect(loggedIn.login_account.get(owner)).toBe(1);
    expect(loggedIn.login_ceiling.get(owner)).toBe(1);
    expect(loggedIn.login_ip.get(ownerIp)).toBe(1);
    expect(loggedIn.login_ip.get(attackerIp)).toBe(LIMITS.loginPerIp);
  });
});

/** Counters as the site makes them, on in-process limiters: the guard's logic without a store. */
function memoryLimits(points: Partial<Record<Exclude<keyof RateLimits, 'prune'>, number>> = {}): RateLimits {
  const counter = (n = 100) => new FailClosedCounter(new RateLimiterMemory({ points: n, duration: FIFTEEN_MINUTES_S }));
  return {
    loginPerAccountClient: counter(points.loginPerAccountClient),
    loginPerAccount: counter(points.loginPerAccount),
    loginPerIp: counter(points.loginPerIp),
    loginCeiling: counter(points.loginCeiling),
    registerPerIp: counter(points.registerPerIp),
    accountChangesPerUser: counter(points.accountChangesPerUser),
    accountChangesPerIp: counter(points.accountChangesPerIp),
    mailPerAddress: counter(points.mailPerAddress),
    mailPerIp: counter(points.mailPerIp),
    prune: async () => undefined,
  };
}

/**
 * A counter whose first read is taken at once but answered only when the test says so: the
 * attempt that made it has read the counters, and another attempt runs in between.
 */
function withHeldFirstRead(inner: AttemptCounter) {
  let reached!: () => void;
  let release!: () => void;
  const readTaken = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const counter: AttemptCounter = {
    consume: (key) => inner.consume(key),
    reward: (key, points) => inner.reward(key, points),
    delete: (key) => inner.delete(key),
    async get(key) {
      const state = await inner.get(key);
      if (!held) {
        held = true;
        reached();
        await released;
      }
      return state;
    },
  };
  return { counter, readTaken, release };
}

const pointsOf = async (counter: AttemptCounter, key: string) => (await counter.get(key))?.consumedPoints ?? 0;

describe('the login guard: all counters or none', () => {
  it('an attempt that passed the read but lost the last point to a parallel one gives back every point it took', async () => {
    const limits = memoryLimits({ loginPerIp: 1 });
    const ip = '203.0.113.80';
    const held = withHeldFirstRead(limits.loginPerIp);
    const guard = createLoginGuard({ ...limits, loginPerIp: held.counter });
    const late: LoginAttempt = { account: 'late@example.com', ip };
    const early: LoginAttempt = { account: 'early@example.com', ip };

    const lateAttempt = guard.attemptLogin(late).then(
      () => undefined,
      (error: unknown) => error,
    );
    // While the late attempt holds what it read, the early one takes the IP's last point. (Should
    // the late attempt never read, it is over by now, and the checks below say so.)
    await Promise.race([held.readTaken, lateAttempt]);
    await guard.attemptLogin(early);
    held.release();
    const refusal = await lateAttempt;

    expect(refusal).toBeInstanceOf(RateLimitedError);
    expect((refusal as RateLimitedError).retryAfterSeconds).toBeGreaterThan(FIFTEEN_MINUTES_S - 60);
    expect(await pointsOf(limits.loginPerAccountClient, `${late.account}|ip:${ip}`)).toBe(0);
    expect(await pointsOf(limits.loginPerIp, ip)).toBe(1);
    expect(await pointsOf(limits.loginPerAccount, late.account)).toBe(0);
    expect(await pointsOf(limits.loginCeiling, late.account)).toBe(0);
    // The early attempt keeps its count everywhere.
    expect(await pointsOf(limits.loginPerAccountClient, `${early.account}|ip:${ip}`)).toBe(1);
    expect(await pointsOf(limits.loginCeiling, early.account)).toBe(1);
  });

  it('an attempt past any limit is refused with that counter’s wait, and nothing is written', async () => {
    const limits = memoryLimits({ loginPerAccount: 2 });
    const guard = createLoginGuard(limits);
    const account = 'target@example.com';
    await guard.attemptLogin({ account, ip: '10.0.0.1' });
    await guard.attemptLogin({ account, ip: '10.0.0.2' });

    for (let i = 3; i < 13; i += 1) {
      const refusal = await guard.attemptLogin({ account, ip: `10.0.0.${i}` }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RateLimitedError);
      expect((refusal as RateLimitedError).retryAfterSeconds).toBeGreaterThan(FIFTEEN_MINUTES_S - 60);
      expect(await limits.loginPerIp.get(`10.0.0.${i}`)).toBeNull();
      expect(await limits.loginPerAccountClient.get(`${account}|ip:10.0.0.${i}`)).toBeNull();
    }
    expect(await pointsOf(limits.loginPerAccount, account)).toBe(2);
    expect(await pointsOf(limits.loginCeiling, account)).toBe(2);
  });

  it('an account change refused by the per-IP limit does not count against the user', async () => {
    const limits = memoryLimits({ accountChangesPerIp: 1 });
    const guard = createLoginGuard(limits);
    await guard.changeAccount(1, '10.1.0.1');
    await expect(guard.changeAccount(2, '10.1.0.1')).rejects.toBeInstanceOf(RateLimitedError);
    expect(await limits.accountChangesPerUser.get('2')).toBeNull();
    expect(await pointsOf(limits.accountChangesPerIp, '10.1.0.1')).toBe(1);
  });
});

/** A limiter whose reads fail, or never answer. */
class BrokenReads extends RateLimiterMemory {
  constructor(private readonly failure: Error | 'frozen') {
    super({ points: 1, duration: 60 });
  }
  override get(): Promise<RateLimiterRes | null> {
    return this.failure === 'frozen' ? new Promise(() => undefined) : Promise.reject(this.failure);
  }
}

describe('reading a counter fails closed, like counting', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('a store that fails the read refuses the attempt with RATE_LIMIT_UNAVAILABLE', async () => {
    const down = new Error('SQLITE_IOERR');
    await expect(new FailClosedCounter(new BrokenReads(down)).get('reader')).rejects.toMatchObject({ code: 'RATE_LIMIT_UNAVAILABLE', status: 503, cause: down });
  });

  it('a store that does not answer the read within the deadline refuses it too', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const read = new FailClosedCounter(new BrokenReads('frozen'), 1_000).get('reader');
    jest.advanceTimersByTime(1_000);
    await expect(read).rejects.toMatchObject({ code: 'RATE_LIMIT_UNAVAILABLE', status: 503 });
  });
});
