import { createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPlatform, type CreatePlatformOptions } from '../src/create-platform';
import { AppError } from '../src/errors';
import type { Logger } from '../src/logger';
import { createTokenSource } from '../src/platform/token';
import { createTokenSealer, SealedTokenError } from '../src/platform/token-crypto';
import { createDatabaseTokenStore, readKept, type TokenRecord } from '../src/platform/token-store';
import type { TokenSettings } from '../src/platform/token-settings';
import { openBridgeDatabase, type BridgeDatabase } from '../src/store/bridge-database';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
const OTHER = randomBytes(32);
const LABEL = 'platform:row';
const PLAIN = '{"accessToken":"secret-access","refreshToken":"secret-refresh"}';
/** An operator-connected grant: its status tells a kept token from none, and nothing here reaches a network. */
const CONNECT_SETTINGS: TokenSettings = {
  grant: 'authorization_code',
  clientAuth: 'basic',
  tokenUrl: 'http://127.0.0.1:9/token',
  authorizeUrl: 'http://127.0.0.1:9/authorize',
  redirectUrl: 'http://127.0.0.1:9/callback',
  clientId: 'c',
  clientSecret: 's',
  refreshTokenIn: 'body',
};

/** Written by the one-key sealer before keys could be rotated (v1), under V1_KEY for V1_LABEL. */
const V1_KEY = Buffer.from('6b1f0c5e9a3d27f48e02b7c1d9a46f35e8c07b2a19d4f6e3a5c8b70d2e9f1a64', 'hex');
const V1_LABEL = 'platform:row';
const V1_SEALED = 'v1.ZvoSX0F+YZbW0QaIrVj+B+4DwTKvwXh4oK/gG95YC3ThrG9Hf/zum+yrjecMPSlPSWGjOVFRACGUZ1fdAzIHBPG5MsVm3C7Lrnl78A==';
const V1_PLAIN = '{"accessToken":"at-written-by-v1","expiresAt":1}';

/** How the one-key release opens a value: an instance still running it during a rolling upgrade reads ours this way. */
function openAsTheOneKeyReleaseDid(sealed: string, key: Buffer, label: string): string {
  const [version, payload] = sealed.split('.', 2);
  if (version !== 'v1' || payload === undefined) throw new Error('unknown sealed token format');
  const raw = Buffer.from(payload, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(label, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof SealedTokenError) return error.code;
    throw error;
  }
  return undefined;
}

describe('sealing keys, newest first', () => {
  it('the first key seals: the value opens under it alone, not under the second alone', () => {
    const sealed = createTokenSealer([NEW, OLD]).seal(PLAIN, LABEL);
    expect(createTokenSealer([NEW]).open(sealed, LABEL)).toBe(PLAIN);
    expect(codeOf(() => createTokenSealer([OLD]).open(sealed, LABEL))).toBe('TOKEN_KEY_UNKNOWN');
  });

  it('any listed key opens, wherever it stands in the list', () => {
    const underOld = createTokenSealer([OLD]).seal(PLAIN, LABEL);
    expect(createTokenSealer([OLD, NEW]).open(underOld, LABEL)).toBe(PLAIN);
    expect(createTokenSealer([NEW, OLD]).open(underOld, LABEL)).toBe(PLAIN);
    expect(createTokenSealer([NEW, OTHER, OLD]).open(underOld, LABEL)).toBe(PLAIN);
  });

  it('a value sealed under a key not in the list throws the typed error, which names the variable and holds no secret', () => {
    const sealed = createTokenSealer([OTHER]).seal(PLAIN, LABEL);
    let caught: unknown;
    try {
      createTokenSealer([NEW, OLD]).open(sealed, LABEL);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SealedTokenError);
    expect(caught).toBeInstanceOf(AppError);
    expect(caught).toMatchObject({ code: 'TOKEN_KEY_UNKNOWN', status: 503, name: 'SealedTokenError' });
    const error = caught as SealedTokenError;
    expect(error.message).toContain('TOKEN_ENCRYPTION_KEYS');
    for (const secret of [sealed, 'secret-access', 'secret-refresh', OTHER.toString('base64'), NEW.toString('hex')]) {
      expect(error.message).not.toContain(secret);
    }
    // The row's name is the additional data: a value copied to another row opens with no key.
    expect(codeOf(() => createTokenSealer([OTHER]).open(sealed, 'platform:another'))).toBe('TOKEN_KEY_UNKNOWN');
  });

  it('a value that is not a sealed token of this version is damaged, not a key problem', () => {
    const sealer = createTokenSealer([NEW]);
    expect(codeOf(() => sealer.open('v2.AAAA', LABEL))).toBe('TOKEN_SEAL_DAMAGED');
    expect(codeOf(() => sealer.open('v1.AAAA', LABEL))).toBe('TOKEN_SEAL_DAMAGED');
    expect(codeOf(() => sealer.open('plain text', LABEL))).toBe('TOKEN_SEAL_DAMAGED');
  });

  it('a v1 value written by the one-key sealer opens with that key at any place in the list', () => {
    expect(createTokenSealer(V1_KEY).open(V1_SEALED, V1_LABEL)).toBe(V1_PLAIN);
    expect(createTokenSealer([NEW, V1_KEY]).open(V1_SEALED, V1_LABEL)).toBe(V1_PLAIN);
    expect(codeOf(() => createTokenSealer([NEW, OLD]).open(V1_SEALED, V1_LABEL))).toBe('TOKEN_KEY_UNKNOWN');
  });

  it('new seals are still v1, which the one-key release opens with the first key', () => {
    const sealed = createTokenSealer([NEW, OLD]).seal(PLAIN, LABEL);
    expect(sealed).toMatch(/^v1\./);
    expect(openAsTheOneKeyReleaseDid(sealed, NEW, LABEL)).toBe(PLAIN);
    expect(() => openAsTheOneKeyReleaseDid(sealed, OLD, LABEL)).toThrow();
  });

  it('refuses an empty list, a key of the wrong size and a key listed twice', () => {
    expect(() => createTokenSealer([])).toThrow(TypeError);
    expect(() => createTokenSealer([NEW, randomBytes(16)])).toThrow(/key 2 must be 32 bytes/);
    expect(() => createTokenSealer([NEW, OLD, Buffer.from(NEW)])).toThrow(/key 3 is the same as key 1/);
  });
});

describe('createPlatform with sealing keys', () => {
  const base = {
    baseUrl: 'http://127.0.0.1:9',
    siteId: 'site',
    apiKey: 'key',
    clock: { now: () => 0 },
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    timeoutMs: 1_000,
  };
  let database: BridgeDatabase;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vf-sealing-'));
    database = await openBridgeDatabase(`sqlite:${path.join(dir, 'bridge.db')}`);
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const options = (extra: Partial<CreatePlatformOptions>): CreatePlatformOptions => ({ ...base, db: database.db, ...extra });

  it.each([
    ['both names', { tokenEncryptionKeys: [NEW], tokenEncryptionKey: OLD }, /not both/],
    ['a short key', { tokenEncryptionKeys: [NEW, randomBytes(31)] }, /tokenEncryptionKeys: key 2 must be 32 bytes/],
    ['a short key under the older name', { tokenEncryptionKey: randomBytes(16) }, /tokenEncryptionKey: key 1 must be 32 bytes/],
    ['a key twice', { tokenEncryptionKeys: [NEW, Buffer.from(NEW)] }, /key 2 is the same as key 1/],
    ['no key at all', { tokenEncryptionKeys: [] }, /at least one key/],
  ])('is a TypeError at construction with %s', (_case, extra, message) => {
    expect(() => createPlatform(options(extra))).toThrow(TypeError);
    expect(() => createPlatform(options(extra))).toThrow(message);
  });

  it('keeps the token under either name: the older one-key name is a list of one, and an unlisted key is logged', async () => {
    const token = { ...CONNECT_SETTINGS };
    const identity = [token.tokenUrl, token.clientId, token.grant].join(' ');
    const kept: TokenRecord = { accessToken: 'secret-access', obtainedAt: 0, expiresAt: 3_600_000, connectedAs: 'ops' };
    await createDatabaseTokenStore({ db: database.db, clock: base.clock, keys: [OLD], identity }).write(kept);

    const warned: object[] = [];
    const logger = { ...base.logger, warn: (fields: object) => void warned.push(fields) };
    for (const extra of [{ tokenEncryptionKey: OLD }, { tokenEncryptionKeys: [NEW, OLD] }, { tokenEncryptionKeys: [NEW] }]) {
      const platform = createPlatform(options({ token, logger, ...extra }));
      const status = await platform.tokens.status();
      await platform.close();
      if (extra.tokenEncryptionKeys?.length === 1) expect(status).toMatchObject({ connected: false, keptTokenUnreadable: 'TOKEN_KEY_UNKNOWN' });
      else {
        expect(status).toMatchObject({ connected: true, connectedAs: 'ops' });
        expect(status.keptTokenUnreadable).toBeUndefined();
      }
    }
    expect(warned).toEqual([expect.objectContaining({ code: 'TOKEN_KEY_UNKNOWN' })]);
  });
});

describe('the database token store across a key rotation', () => {
  const NOW = 1_800_000_000_000;
  const clock = { now: () => NOW };
  const record: TokenRecord = { accessToken: 'secret-access', refreshToken: 'secret-refresh', obtainedAt: NOW, expiresAt: NOW + 3_600_000 };
  let database: BridgeDatabase;
  let dir: string;
  let warnings: Array<{ fields: object; message: string | undefined }>;
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields, message) => void warnings.push({ fields, message }),
    error: () => undefined,
  };
  const storeWith = (keys: Buffer[]) => createDatabaseTokenStore({ db: database.db, clock, keys, logger, identity: 'https://platform/token client password' });
  const sealedInRow = async () => (await database.db.selectFrom('platform_tokens').select(['name', 'sealed']).executeTakeFirstOrThrow()) as { name: string; sealed: string };

  beforeEach(async () => {
    warnings = [];
    dir = mkdtempSync(path.join(tmpdir(), 'vf-sealing-'));
    database = await openBridgeDatabase(`sqlite:${path.join(dir, 'bridge.db')}`);
  });
  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a row sealed under an older listed key, and the next write seals it under the first', async () => {
    await storeWith([OLD]).write(record);
    const rotated = storeWith([NEW, OLD]);
    expect(await rotated.read()).toEqual(record);
    // A read leaves the row as it was: only a write seals anew.
    const before = await sealedInRow();
    expect(codeOf(() => createTokenSealer([NEW]).open(before.sealed, before.name))).toBe('TOKEN_KEY_UNKNOWN');

    await rotated.write({ ...record, accessToken: 'secret-access-2' });
    const after = await sealedInRow();
    expect(JSON.parse(createTokenSealer([NEW]).open(after.sealed, after.name))).toMatchObject({ accessToken: 'secret-access-2' });
    expect((await storeWith([NEW]).read())?.accessToken).toBe('secret-access-2');
    expect(warnings).toEqual([]);
  });

  it('a row no listed key opens: the typed error, one warning per distinct sealed value, and the status says so', async () => {
    await storeWith([OTHER]).write(record);
    const store = storeWith([NEW, OLD]);
    await expect(store.read()).rejects.toMatchObject({ code: 'TOKEN_KEY_UNKNOWN' });
    await expect(store.read()).rejects.toBeInstanceOf(SealedTokenError);
    expect(await readKept(store)).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ code: 'TOKEN_KEY_UNKNOWN' });
    expect(warnings[0]!.message).toContain('TOKEN_ENCRYPTION_KEYS');
    const logged = JSON.stringify(warnings);
    for (const secret of ['secret-access', 'secret-refresh', (await sealedInRow()).sealed, OTHER.toString('base64'), OTHER.toString('hex'), NEW.toString('hex')]) {
      expect(logged).not.toContain(secret);
    }

    const source = createTokenSource({ settings: CONNECT_SETTINGS, clock, timeoutMs: 1_000, store });
    expect(await source.status()).toMatchObject({ connected: false, keptTokenUnreadable: 'TOKEN_KEY_UNKNOWN' });
    source.close();
    expect(warnings).toHaveLength(1);

    // Another value under an unknown key (another instance wrote again) is reported in its turn.
    await storeWith([OTHER]).write(record);
    await expect(store.read()).rejects.toMatchObject({ code: 'TOKEN_KEY_UNKNOWN' });
    expect(warnings).toHaveLength(2);
  });

  it('a damaged row is reported as damaged, never as a key problem', async () => {
    await storeWith([NEW]).write(record);
    await database.db.updateTable('platform_tokens').set({ sealed: 'v9.not-ours' }).execute();
    await expect(storeWith([NEW]).read()).rejects.toMatchObject({ code: 'TOKEN_SEAL_DAMAGED' });
    expect(warnings).toEqual([expect.objectContaining({ fields: expect.objectContaining({ code: 'TOKEN_SEAL_DAMAGED' }) })]);
  });
});
