import { randomBytes } from 'node:crypto';
import type session from 'express-session';
import { createAdjustableClock } from 'vf-login-bridge';
import { openDatabaseSessionStore, openRedisSessionStore, type SessionStoreHandle } from '../../src/store/session-stores';
import { dropRedisPrefix } from '../helpers/backend';
import { describeIf, redisUrl } from '../helpers/services';
import { openTempDatabase } from '../helpers/temp-database';

/** Reconciliation asks the session store about a page of host sessions at once (docs/architecture.md#background-work). */
const DAY = 24 * 60 * 60_000;

const save = (handle: SessionStoreHandle, sid: string, expiresAt: number) =>
  new Promise<void>((resolve, reject) =>
    handle.store.set(sid, { cookie: { expires: new Date(expiresAt), originalMaxAge: DAY, httpOnly: true, path: '/' } } as session.SessionData, (err) => (err ? reject(err) : resolve())),
  );

describe('which of a page of sessions the database store holds', () => {
  const clock = createAdjustableClock();
  let database: Awaited<ReturnType<typeof openTempDatabase>>;
  let handle: SessionStoreHandle;
  beforeEach(async () => {
    database = await openTempDatabase();
    handle = openDatabaseSessionStore(database, clock, DAY);
  });
  afterEach(async () => {
    await handle.close();
    await database.close();
  });

  it('answers with the ids it holds unexpired, in one statement, and with an empty set for no ids', async () => {
    await save(handle, 'live', clock.now() + DAY);
    await save(handle, 'short', clock.now() + 60_000);
    clock.advance(60_000);
    await expect(handle.existing(['live', 'short', 'never-saved'])).resolves.toEqual(new Set(['live']));
    await expect(handle.existing([])).resolves.toEqual(new Set());
  });

  it('answers for 200 ids, a whole reconciliation page, as one question', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `sid-${i}`);
    for (const id of ids.filter((_, i) => i % 2 === 0)) await save(handle, id, clock.now() + DAY);
    const found = await handle.existing(ids);
    expect(found.size).toBe(100);
    expect([...found].every((id) => Number(id.slice(4)) % 2 === 0)).toBe(true);
  });

  it('rejects when the database cannot answer, so nothing is ended', async () => {
    await database.close();
    await expect(handle.existing(['live'])).rejects.toThrow();
  });
});

describeIf(redisUrl() !== undefined)('which of a page of sessions the Redis store holds', () => {
  let handle: SessionStoreHandle;
  const prefix = `t_${randomBytes(6).toString('hex')}:`;
  beforeAll(async () => {
    handle = await openRedisSessionStore(redisUrl()!, DAY, prefix);
  });
  afterAll(async () => {
    await handle.close();
    await dropRedisPrefix(redisUrl()!, prefix);
  });

  it('answers with the ids it holds, the commands of one page sent together', async () => {
    await save(handle, 'live-a', Date.now() + DAY);
    await save(handle, 'live-b', Date.now() + DAY);
    await expect(handle.existing(['live-a', 'gone', 'live-b'])).resolves.toEqual(new Set(['live-a', 'live-b']));
    await handle.redis!.del(`${prefix}sess:live-a`);
    await expect(handle.existing(['live-a', 'live-b'])).resolves.toEqual(new Set(['live-b']));
  });
});
