import { embedTagOf, login, register } from '../helpers/browser-flow';
import { createTestStores, type TestStores } from '../helpers/backend';
import { describeIf, postgresUrl, redisUrl } from '../helpers/services';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';

const pg = postgresUrl();
const redis = redisUrl();

describeIf(Boolean(pg && redis))('scale-out: PostgreSQL for users and bridge data, Redis for sessions', () => {
  let stores: TestStores;
  let t: TestSite;

  beforeAll(async () => {
    // Whatever the run's BACKEND, this suite is about this pair.
    stores = await createTestStores('postgres-redis');
    t = await startTestSite({ stores, overrides: { rateLimits: { loginPerAccount: 10, loginPerIp: 1000, registerPerIp: 1000 } } });
  });
  afterAll(async () => {
    await t?.close();
    await stores?.drop();
  });

  it('runs the whole flow with the same code: register, embed tag, logout, platform session dead', async () => {
    const agent = t.agent();
    const { email } = await register(agent, { name: 'Postgres Reader' });
    const user = await t.site.database.db.selectFrom('users').select(['id', 'name']).where('email', '=', email).executeTakeFirstOrThrow();
    expect(user.name).toBe('Postgres Reader');

    const tag = embedTagOf((await agent.get('/articles/harbour-bridge-reopens').expect(200)).text);
    expect(tag.sid).toBeTruthy();
    expect(t.emulator.sessionInfo(tag.sid!)).toMatchObject({ alive: true, hostId: String(user.id) });

    const token = (await agent.get('/api/session').expect(200)).body.csrfToken as string;
    await agent.post('/logout').set('Accept', 'application/json').set('X-CSRF-Token', token).expect(200);
    expect(t.emulator.sessionInfo(tag.sid!)?.alive).toBe(false);
    expect((await agent.get('/api/session')).body.user).toBeNull();
  });

  it('keeps sessions in Redis: a new app on the same services still knows the reader', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    await login(agent, email);
    const cookie = (await agent.get('/account').expect(200)).request.cookies;
    const second = await t.restart();
    try {
      const res = await second.agent().get('/api/session').set('Cookie', cookie).expect(200);
      expect(res.body.user.email).toBe(email);
    } finally {
      await second.close();
    }
  });

  it('reports both services ready', async () => {
    const res = await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200);
    expect(res.body.checks).toMatchObject({ database: { ok: true }, sessionStore: { ok: true } });
  });
});
