import { register } from '../helpers/browser-flow';
import { createTestStores, type TestStores } from '../helpers/backend';
import { describeIf, postgresUrl } from '../helpers/services';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { waitFor } from '../helpers/wait-for';

const pg = postgresUrl();

describeIf(Boolean(pg))('PostgreSQL unreachable while the site runs', () => {
  let stores: TestStores;
  let proxy: TcpProxy;
  let t: TestSite;

  beforeAll(async () => {
    stores = await createTestStores('postgres');
    const real = new URL(stores.databaseUrl);
    proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
    const proxied = new URL(stores.databaseUrl);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    // Sessions are in PostgreSQL too: a reader's every request needs it.
    t = await startTestSite({ stores: { ...stores, databaseUrl: proxied.toString(), redis: undefined } });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await stores?.drop();
  });

  it('answers 503 DATABASE_UNAVAILABLE (a page or JSON, no stack), /readyz says so, and recovers by itself', async () => {
    const reader = t.agent();
    await register(reader);
    expect((await reader.get('/api/session').expect(200)).body.user).not.toBeNull();

    proxy.cut();
    const json = await reader.get('/api/session').set('Accept', 'application/json');
    expect(json.status).toBe(503);
    expect(json.body).toEqual({ error: { code: 'DATABASE_UNAVAILABLE', message: expect.stringMatching(/database/) } });
    expect(json.headers['retry-after']).toBe('5');
    const page = await reader.get('/articles/harbour-bridge-reopens');
    expect(page.status).toBe(503);
    expect(page.text).toContain('cannot reach its database');
    expect(page.text).not.toMatch(/\bat \S+ \(|node_modules|ECONNREFUSED/);
    const ready = await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toEqual({ ok: false });
    expect(t.logLines.join('\n')).toContain('"code":"DATABASE_UNAVAILABLE"');

    proxy.restore();
    await waitFor(async () => (await reader.get('/api/session')).status === 200, 'the site to reach its database again');
    expect((await reader.get('/api/session').expect(200)).body.user).not.toBeNull();
    expect((await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION)).status).toBe(200);
  });
});
