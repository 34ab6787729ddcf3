import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createTokenSealer, SealedTokenError } from '../../packages/bridge/src/platform/token-crypto';
import { embedTagOf, login, register } from '../helpers/browser-flow';
import { createTestStores, type TestStores } from '../helpers/backend';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
const HOUR = 3600_000;
/** viima's token lives 10 hours: past this, the next caller refreshes it and writes the row again. */
const PAST_ITS_LIFETIME = 11 * HOUR;

const unknownKeyLines = (t: TestSite) => t.logLines.filter((line) => line.includes('"code":"TOKEN_KEY_UNKNOWN"'));

describe('rotating TOKEN_ENCRYPTION_KEYS on three instances of one database', () => {
  let emulator: TestEmulator;
  let stores: TestStores;
  /** Every instance ever started, closed or not: their log lines are checked at the end. */
  let started: TestSite[];
  let sites: TestSite[];

  beforeEach(async () => {
    // viima: the password grant, and every refresh rotates the refresh token, so the shared row
    // is the only copy: an instance that could not open it would make a second password grant.
    emulator = await startTestEmulator({ profile: 'viima' });
    stores = await createTestStores();
    started = [];
    sites = [];
  });
  afterEach(async () => {
    for (const t of sites) await t.close();
    await emulator.close();
    await stores.drop();
  });

  async function start(keys: Buffer[]): Promise<TestSite> {
    const t = await startTestSite({ profile: 'viima', emulator, stores, tokenEncryptionKeys: keys });
    started.push(t);
    return t;
  }

  /** One instance at a time, as a rolling deploy restarts them. */
  async function restart(i: number, keys: Buffer[]): Promise<void> {
    await sites[i]!.close();
    sites[i] = await start(keys);
  }

  /** Which one key alone opens the shared row. */
  async function sealedUnder(): Promise<'old' | 'new'> {
    const rows = await sql<{ name: string; sealed: string }>`select name, sealed from vf_platform_tokens`.execute(sites[0]!.site.database.db);
    expect(rows.rows).toHaveLength(1);
    const { name, sealed } = rows.rows[0]!;
    const opens = (key: Buffer) => {
      try {
        createTokenSealer([key]).open(sealed, name);
        return true;
      } catch (error) {
        if (error instanceof SealedTokenError) return false;
        throw error;
      }
    };
    const found = (['old', 'new'] as const).filter((which) => opens(which === 'old' ? OLD : NEW));
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  /** The clock moves past the token's lifetime and instance `i` is the one that refreshes and writes. */
  async function refreshOn(i: number): Promise<void> {
    emulator.clock.advance(PAST_ITS_LIFETIME);
    const before = emulator.grantCounts().refresh_token;
    await sites[i]!.site.platform.tokens.getToken();
    expect(emulator.grantCounts().refresh_token).toBe(before + 1);
  }

  /** Each instance hands out the one shared token, and a reader logging in through it gets a live platform session. */
  async function everyInstanceServes(readers: string[]): Promise<void> {
    const tokens = await Promise.all(sites.map((t) => t.site.platform.tokens.getToken()));
    expect(new Set(tokens).size).toBe(1);
    for (const [i, t] of sites.entries()) {
      const agent = t.agent();
      expect((await login(agent, readers[i]!)).status).toBe(303);
      const tag = embedTagOf((await agent.get('/').expect(200)).text);
      expect(tag.sid).toBeTruthy();
      expect(emulator.sessionInfo(tag.sid!)?.alive).toBe(true);
    }
  }

  it('the documented two steps, one instance at a time, never disconnect the site', async () => {
    for (let i = 0; i < 3; i += 1) sites.push(await start([OLD]));
    // Registered once: the rate limit on registrations counts real time, logins that succeed are free.
    const readers: string[] = [];
    for (const t of sites) readers.push((await register(t.agent())).email);
    await everyInstanceServes(readers);
    expect(await sealedUnder()).toBe('old');

    // Step 1: each instance learns the new key, second. It still seals under the old one, which
    // the instances not restarted yet read.
    for (let i = 0; i < 3; i += 1) {
      await restart(i, [OLD, NEW]);
      await refreshOn(i);
      expect(await sealedUnder()).toBe('old');
      await everyInstanceServes(readers);
    }

    // Step 2: each instance puts the new key first. Its writes are sealed under the new key, which
    // every instance knows since step 1; the instances still on [old, new] write under the old
    // key, which the restarted ones still list.
    for (let i = 0; i < 3; i += 1) {
      await restart(i, [NEW, OLD]);
      await refreshOn(i);
      expect(await sealedUnder()).toBe('new');
      await everyInstanceServes(readers);
      if (i < 2) {
        await refreshOn(2);
        expect(await sealedUnder()).toBe('old');
        await everyInstanceServes(readers);
      }
    }

    // A write after step 2 has sealed the row under the new key: the old key can go.
    await refreshOn(1);
    expect(await sealedUnder()).toBe('new');
    for (let i = 0; i < 3; i += 1) {
      await restart(i, [NEW]);
      await everyInstanceServes(readers);
    }

    // Never a second password grant: no instance ever failed to open the shared token.
    expect(emulator.grantCounts().password).toBe(1);
    expect(started.flatMap(unknownKeyLines)).toEqual([]);
  });

  it('an instance given only a key that opens nothing logs it once, and its detailed /readyz names TOKEN_ENCRYPTION_KEYS', async () => {
    sites.push(await start([OLD]));
    const token = await sites[0]!.site.platform.tokens.getToken();
    const stranger = await start([NEW]);
    sites.push(stranger);

    const readyz = async (t: TestSite) => (await t.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200)).body.checks.platform;
    const seen = await readyz(stranger);
    expect(seen).toMatchObject({ ok: false, reason: expect.stringMatching(/key not in TOKEN_ENCRYPTION_KEYS/) });
    expect(await stranger.site.platform.tokens.status()).toMatchObject({ keptTokenUnreadable: 'TOKEN_KEY_UNKNOWN' });
    await readyz(stranger);

    const lines = unknownKeyLines(stranger);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('TOKEN_ENCRYPTION_KEYS');
    // pino's warn
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, code: 'TOKEN_KEY_UNKNOWN' });
    for (const secret of [token, NEW.toString('base64'), NEW.toString('hex'), OLD.toString('base64'), OLD.toString('hex')]) {
      expect(stranger.logLines.join('\n')).not.toContain(secret);
    }
    // The instance with the right key is untouched by its neighbour's mistake.
    expect(await readyz(sites[0]!)).toMatchObject({ ok: true, token: 'cached' });
    expect(unknownKeyLines(sites[0]!)).toEqual([]);
  });
});
