import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { embedTagOf, register } from '../helpers/browser-flow';
import { createTestStores, type Backend, type TestStores } from '../helpers/backend';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator';
import { postgresUrl } from '../helpers/services';
import { startTestSite, type TestSite } from '../helpers/site';

const KEY = randomBytes(32);
const DAY = 24 * 3600_000;
const pg = postgresUrl();

const BACKENDS: Array<[Backend, boolean]> = [
  ['sqlite', true],
  ['postgres', Boolean(pg)],
];

describe.each(BACKENDS)('three instances share one rotating refresh token (%s)', (backend, available) => {
  const maybe = available ? it : it.skip;
  let emulator: TestEmulator;
  let sites: TestSite[] = [];
  let stores: TestStores | undefined;

  beforeEach(async () => {
    // viima: the password grant, and every refresh rotates the refresh token.
    emulator = await startTestEmulator({ profile: 'viima' });
    stores = await createTestStores(backend);
    // One after another: the first one migrates the database.
    for (let i = 0; i < 3; i += 1) sites.push(await startTestSite({ profile: 'viima', emulator, stores, tokenEncryptionKey: KEY }));
  });
  afterEach(async () => {
    for (const t of sites.splice(0)) await t.close();
    await emulator.close();
    await stores?.drop();
  });

  maybe('the first grant is made once, and a refresh after expiry is made by one instance; all end on the new token', async () => {
    const firsts = await Promise.all(sites.map((t) => t.site.platform.tokens.getToken()));
    expect(new Set(firsts).size).toBe(1);
    expect(emulator.grantCounts()).toMatchObject({ password: 1, refresh_token: 0 });

    emulator.clock.advance(2 * DAY);
    // Readers on every instance at once: each needs a token for its platform login.
    const agents = sites.map((t) => t.agent());
    await Promise.all(agents.map((agent) => register(agent)));
    expect(emulator.grantCounts()).toMatchObject({ password: 1, refresh_token: 1 });

    const afters = await Promise.all(sites.map((t) => t.site.platform.tokens.getToken()));
    expect(new Set(afters).size).toBe(1);
    expect(afters[0]).not.toBe(firsts[0]);
    for (const [i, agent] of agents.entries()) {
      const tag = embedTagOf((await agent.get('/').expect(200)).text);
      expect(emulator.sessionInfo(tag.sid!)?.alive).toBe(true);
      expect(sites[i]!.site.platform.tokens.health()).toBe('cached');
    }
  });

  maybe('a 401 on one instance refreshes once for all, and the token is sealed in the database', async () => {
    await Promise.all(sites.map((t) => t.site.platform.tokens.getToken()));
    emulator.faults.expireAllTokens();
    await Promise.all(sites.map((t) => t.site.platform.accounts.login({ id: `u-${t.databaseUrl.length}-${Math.random()}`, name: 'Reader' })));
    expect(emulator.grantCounts()).toMatchObject({ password: 1, refresh_token: 1 });

    const token = await sites[0]!.site.platform.tokens.getToken();
    const rows = await sql<{ sealed: string }>`select sealed from vf_platform_tokens`.execute(sites[0]!.site.database.db);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.sealed).toMatch(/^v1\./);
    expect(rows.rows[0]!.sealed).not.toContain(token);
    expect(rows.rows[0]!.sealed).not.toContain('refresh');
  });
});
