import type session from 'express-session';
import { createAdjustableClock } from 'vf-login-bridge';
import { DatabaseSessionStore } from '../../src/store/session-store';
import { openTempDatabase } from '../helpers/temp-database';

const DAY = 24 * 60 * 60_000;

function sessionData(expiresAt: number, extra: Record<string, unknown> = {}): session.SessionData {
  return { cookie: { expires: new Date(expiresAt), originalMaxAge: DAY, httpOnly: true, path: '/' }, ...extra } as session.SessionData;
}

const call = <T>(fn: (done: (err?: unknown, value?: T) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

describe('DatabaseSessionStore', () => {
  let database: Awaited<ReturnType<typeof openTempDatabase>>;
  let store: DatabaseSessionStore;
  const clock = createAdjustableClock();

  const expiresAtOf = async (sid: string) =>
    (await database.db.selectFrom('sessions').select('expires_at').where('sid', '=', sid).executeTakeFirstOrThrow()).expires_at;

  beforeEach(async () => {
    database = await openTempDatabase();
    store = new DatabaseSessionStore(database.db, clock, DAY);
  });
  afterEach(async () => {
    await database.close();
  });

  it('gives a session back until it expires, and prunes it afterwards', async () => {
    await call((done) => store.set('s1', sessionData(clock.now() + DAY, { passport: { user: 7 } }), done));
    expect(await call<session.SessionData | null>((done) => store.get('s1', done))).toMatchObject({ passport: { user: 7 } });

    clock.advance(DAY + 1);
    expect(await call<session.SessionData | null>((done) => store.get('s1', done))).toBeNull();
    expect(await store.prune()).toBe(1);
    expect(await database.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });

  it("keeps the cookie's expiry as the row's: a save moves it, and nothing touches it in between", async () => {
    const start = clock.now();
    await call((done) => store.set('s2', sessionData(start + DAY), done));
    expect(await expiresAtOf('s2')).toBe(start + DAY);
    await call((done) => store.set('s2', sessionData(start + DAY + 61_000), done));
    expect(await expiresAtOf('s2')).toBe(start + DAY + 61_000);
    // Rolling is the site's (src/auth/session-lifetime.ts): express-session has no touch to call.
    expect((store as Partial<session.Store>).touch).toBeUndefined();
  });
});
