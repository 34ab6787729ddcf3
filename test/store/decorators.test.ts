import type { Request } from 'express';
import session from 'express-session';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { createAdjustableClock } from 'vf-login-bridge';
import { HostSessionStore } from '../../src/auth/host-session';
import { FailClosedCounter } from '../../src/auth/rate-limits';
import { snapshotFor } from '../../src/store/reader-snapshot';
import { DatabaseSessionStore } from '../../src/store/session-store';
import { BoundedStore, REDIS_COMMAND_TIMEOUT_MS, boundDatabaseCall, boundRedisCall } from '../../src/store/session-stores';
import { openTempDatabase } from '../helpers/temp-database';

const DAY = 24 * 60 * 60_000;

function sessionData(extra: Record<string, unknown> = {}): session.SessionData {
  return { cookie: { originalMaxAge: DAY, httpOnly: true, path: '/' }, ...extra } as session.SessionData;
}

const call = <T>(fn: (done: (err?: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

/** A store whose every call fails with `error`. */
class FailingStore extends session.Store {
  constructor(private readonly error: Error) {
    super();
  }
  override get(_sid: string, callback: (err: unknown) => void): void {
    callback(this.error);
  }
  override set(_sid: string, _data: session.SessionData, callback?: (err?: unknown) => void): void {
    callback?.(this.error);
  }
  override destroy(_sid: string, callback?: (err?: unknown) => void): void {
    callback?.(this.error);
  }
}

/** A store that takes every call and never answers: a frozen Redis. */
class FrozenStore extends session.Store {
  override get(): void {}
  override set(): void {}
  override destroy(): void {}
}

/** A store that records what reaches it. */
class RecordingStore extends session.MemoryStore {
  readonly saved: string[] = [];
  touches = 0;
  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    this.saved.push(sid);
    super.set(sid, data, callback);
  }
  override touch(_sid: string, _data: session.SessionData, callback?: () => void): void {
    this.touches += 1;
    callback?.();
  }
}

describe('BoundedStore', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('answers with what the store beneath answers', async () => {
    const store = new BoundedStore(new session.MemoryStore(), boundRedisCall);
    await call((done) => store.set('s1', sessionData({ startedAt: 1 }), done));
    expect(await call((done) => store.get('s1', done))).toMatchObject({ startedAt: 1 });
    await call((done) => store.destroy('s1', done));
    expect(await call((done) => store.get('s1', done))).toBeFalsy();
  });

  it(`gives up on a Redis that does not answer within ${REDIS_COMMAND_TIMEOUT_MS} ms: SESSION_STORE_UNAVAILABLE`, async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const store = new BoundedStore(new FrozenStore(), boundRedisCall);
    const read = call((done) => store.get('s1', done));
    const save = call((done) => store.set('s1', sessionData(), done));
    jest.advanceTimersByTime(REDIS_COMMAND_TIMEOUT_MS);
    await expect(read).rejects.toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE', status: 503 });
    await expect(save).rejects.toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE', status: 503 });
  });

  it('names any Redis failure SESSION_STORE_UNAVAILABLE and keeps what it was', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const store = new BoundedStore(new FailingStore(refused), boundRedisCall);
    await expect(call((done) => store.destroy('s1', done))).rejects.toMatchObject({ code: 'SESSION_STORE_UNAVAILABLE', cause: refused });
  });

  it('names a database that cannot be reached DATABASE_UNAVAILABLE, and passes any other failure on as it is', async () => {
    const down = new Error('Connection terminated unexpectedly');
    await expect(call((done) => new BoundedStore(new FailingStore(down), boundDatabaseCall).get('s1', done))).rejects.toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      cause: down,
    });
    const bug = new TypeError('not a session');
    await expect(call((done) => new BoundedStore(new FailingStore(bug), boundDatabaseCall).get('s1', done))).rejects.toBe(bug);
  });

  it('touches nothing beneath a store that has no touch', async () => {
    const store = new BoundedStore(new FrozenStore(), boundRedisCall);
    await expect(new Promise<void>((resolve) => store.touch('s1', sessionData(), resolve))).resolves.toBeUndefined();
  });
});

describe('HostSessionStore', () => {
  it('drops a save of a session that has ended, and saves any other', async () => {
    const inner = new RecordingStore();
    const store = new HostSessionStore(inner, { hasEnded: async (sid) => sid === 'ended' });
    await call((done) => store.set('ended', sessionData(), done));
    await call((done) => store.set('live', sessionData(), done));
    expect(inner.saved).toEqual(['live']);
  });

  it('answers a touch without asking the bridge or the store: the site moves expiries by saving', async () => {
    const inner = new RecordingStore();
    const asked: string[] = [];
    const store = new HostSessionStore(inner, {
      hasEnded: async (sid) => {
        asked.push(sid);
        return false;
      },
    });
    await new Promise<void>((resolve) => store.touch('live', sessionData(), resolve));
    expect(asked).toEqual([]);
    expect(inner.touches).toBe(0);
  });
});

describe('the session store as express-session gets it', () => {
  it('hands the request the reader and bridge row read with the session, through every decorator', async () => {
    const database = await openTempDatabase();
    const rows = new DatabaseSessionStore(database.db, createAdjustableClock(), DAY);
    try {
      const { id } = await database.db
        .insertInto('users')
        .values({ email: 'reader@example.com', name: 'Reader', password_hash: 'x', created_at: 1, updated_at: 1 })
        .returning('id')
        .executeTakeFirstOrThrow();
      const store = new HostSessionStore(new BoundedStore(rows, boundDatabaseCall), { hasEnded: async () => false });
      await call((done) => store.set('s1', sessionData({ passport: { user: id } }), done));

      const data = await call<session.SessionData | null>((done) => store.get('s1', done));
      const req = { sessionID: 's1' } as Request;
      store.createSession(req, data!);
      expect(snapshotFor(req)).toMatchObject({ sid: 's1', user: { id, email: 'reader@example.com' } });
    } finally {
      await database.close();
    }
  });
});

/** A limiter whose store fails every call. */
class FailingLimiter extends RateLimiterMemory {
  constructor(private readonly error: Error) {
    super({ points: 1, duration: 60 });
  }
  override consume(): Promise<RateLimiterRes> {
    return Promise.reject(this.error);
  }
}

/** A limiter whose store takes the call and never answers. */
class FrozenLimiter extends RateLimiterMemory {
  override consume(): Promise<RateLimiterRes> {
    return new Promise(() => undefined);
  }
}

describe('FailClosedCounter', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it("passes the limiter's own answer through: counted, then over the limit, then forgotten", async () => {
    const counter = new FailClosedCounter(new RateLimiterMemory({ points: 1, duration: 60 }));
    await expect(counter.consume('reader')).resolves.toBeInstanceOf(RateLimiterRes);
    await expect(counter.consume('reader')).rejects.toBeInstanceOf(RateLimiterRes);
    // Both counted points back: the next attempt is within the limit again.
    await counter.reward('reader', 2);
    await expect(counter.consume('reader')).resolves.toBeInstanceOf(RateLimiterRes);
    await expect(counter.consume('reader')).rejects.toBeInstanceOf(RateLimiterRes);
    await counter.delete('reader');
    await expect(counter.consume('reader')).resolves.toBeInstanceOf(RateLimiterRes);
  });

  it('refuses the attempt with RATE_LIMIT_UNAVAILABLE when the store fails', async () => {
    const down = new Error('SQLITE_IOERR');
    await expect(new FailClosedCounter(new FailingLimiter(down)).consume('reader')).rejects.toMatchObject({
      code: 'RATE_LIMIT_UNAVAILABLE',
      status: 503,
      cause: down,
    });
  });

  it('refuses the attempt with RATE_LIMIT_UNAVAILABLE when the store does not answer within its deadline', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const attempt = new FailClosedCounter(new FrozenLimiter({ points: 1, duration: 60 }), 1_000).consume('reader');
    jest.advanceTimersByTime(1_000);
    await expect(attempt).rejects.toMatchObject({ code: 'RATE_LIMIT_UNAVAILABLE', status: 503 });
  });
});
