import { tokenSettingsForEmulator, type EmulatorProfile } from 'vf-platform-emulator';
import { loadConfig } from '../../src/config';
import { createTokenSource, type TokenSource } from '../../packages/bridge/src/platform/token';
import { basicCredentials } from '../../packages/bridge/src/platform/token-request';
import { basicEncodingOf, viafouraTokenSettings, type BasicEncoding, type TokenSettings } from '../../packages/bridge/src/platform/token-settings';
import { problemsOf } from '../helpers/config';
import { startTestEmulator, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';

/** Every character where the two encodings differ that a generated secret tends to hold, and a space. */
const SECRET = 'p:s+e%c/r=e t';
const decoded = (header: string) => Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');

describe('the two Basic encodings', () => {
  it('form (RFC 6749 §2.3.1) encodes the id and the secret each before joining them; raw sends them as curl --user does', () => {
    expect(decoded(basicCredentials('site:1', SECRET, 'form'))).toBe('site%3A1:p%3As%2Be%25c%2Fr%3De+t');
    expect(decoded(basicCredentials(TEST_SITE_ID, SECRET, 'raw'))).toBe(`${TEST_SITE_ID}:${SECRET}`);
    expect(basicCredentials('plain', 'secret-1_2.3', 'form')).toBe(basicCredentials('plain', 'secret-1_2.3', 'raw'));
  });

  it('defaults to raw for the Viafoura dialect only; a setting wins', () => {
    const viafoura = viafouraTokenSettings('https://api.viafoura.co', 's', 'k');
    const veem = tokenSettingsForEmulator('veem', { url: 'http://127.0.0.1:9', siteId: 's', apiKey: 'k' });
    expect(basicEncodingOf(viafoura)).toBe('raw');
    expect(basicEncodingOf(veem)).toBe('form');
    expect(basicEncodingOf({ ...viafoura, tokenUrl: 'https://idp.example/token' })).toBe('form');
    expect(basicEncodingOf({ ...viafoura, basicEncoding: 'form' })).toBe('form');
    expect(basicEncodingOf({ ...veem, basicEncoding: 'raw' })).toBe('raw');
  });
});

describe('VF_BASIC_ENCODING', () => {
  it('is read into the token settings, and left unset when not given', () => {
    const given = loadConfig({ VF_SITE_ID: 'site', VF_API_KEY: 'key', VF_BASIC_ENCODING: 'form' });
    expect(given.platform.mode === 'remote' && given.platform.token.basicEncoding).toBe('form');
    const unset = loadConfig({ VF_SITE_ID: 'site', VF_API_KEY: 'key' });
    expect(unset.platform.mode === 'remote' && 'basicEncoding' in unset.platform.token).toBe(false);
  });

  it.each([
    [{ VF_SITE_ID: 's', VF_API_KEY: 'k', VF_BASIC_ENCODING: 'utf8' }, 'VF_BASIC_ENCODING'],
    [{ VF_TOKEN_GRANT: 'password', VF_CLIENT_AUTH: 'body', VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: 's', VF_USERNAME: 'u', VF_PASSWORD: 'p', TOKEN_ENCRYPTION_KEYS: 'q3J0c1VfTmlDe8e0ykPp0Hn3Fh8WwB4W1lKxg7Yf2aE=', VF_BASIC_ENCODING: 'form' }, 'VF_BASIC_ENCODING'],
    [{ VF_TOKEN_GRANT: 'pat', VF_ACCESS_TOKEN: 't', VF_BASIC_ENCODING: 'raw' }, 'VF_BASIC_ENCODING'],
    [{ VF_CLIENT_ID: 'a:b', VF_CLIENT_SECRET: 's', VF_BASIC_ENCODING: 'raw' }, 'VF_CLIENT_ID'],
  ])('%j stops start-up with one line naming %s', (env, variable) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${variable}: `));
  });

  it('lets a client id hold ":" once it is form-encoded', () => {
    expect(problemsOf({ VF_CLIENT_ID: 'a:b', VF_CLIENT_SECRET: 's', VF_TOKEN_URL: 'https://idp.example/token', VF_BASIC_ENCODING: 'form' })).toEqual([]);
  });
});

describe('the emulator decodes Basic as its seed says, and the bridge speaks either encoding', () => {
  let emulator: TestEmulator;
  let sources: TokenSource[] = [];
  afterEach(async () => {
    for (const s of sources.splice(0)) s.close();
    await emulator.close();
  });

  function sourceFor(profile: EmulatorProfile, basicEncoding: BasicEncoding): TokenSource {
    const settings: TokenSettings = { ...tokenSettingsForEmulator(profile, { url: emulator.url, siteId: TEST_SITE_ID, apiKey: SECRET }), basicEncoding };
    const source = createTokenSource({ settings, clock: emulator.clock, timeoutMs: 2000 });
    sources.push(source);
    return source;
  }

  it.each([
    ['viafoura', 'raw', "by its seed's default"],
    ['veem', 'form', "by its seed's default"],
    ['viafoura', 'form', 'by the basicEncoding option'],
    ['veem', 'raw', 'by the basicEncoding option'],
  ] as const)('%s decoding %s (%s): the matching encoding gets a token, the other is invalid_client', async (profile, decoding, how) => {
    emulator = await startTestEmulator({ profile, apiKey: SECRET, ...(how === 'by the basicEncoding option' ? { basicEncoding: decoding } : {}) });
    await expect(sourceFor(profile, decoding).getToken()).resolves.toEqual(expect.any(String));
    const other = decoding === 'raw' ? 'form' : 'raw';
    await expect(sourceFor(profile, other).getToken()).rejects.toMatchObject({ code: 'TOKEN_INVALID_CLIENT', oauthError: 'invalid_client' });
    expect(emulator.stats().tokensIssued).toBe(1);
  });
});

describe('the start-up warning when the encoding was left to its default although it matters', () => {
  const warningsOf = (env: Record<string, string>) => loadConfig(env).warnings.filter((line) => line.includes('VF_BASIC_ENCODING'));

  it('is exactly one line naming VF_BASIC_ENCODING, the variables that hold the characters, and the encoding used', () => {
    const viafoura = warningsOf({ VF_SITE_ID: TEST_SITE_ID, VF_API_KEY: SECRET });
    expect(viafoura).toHaveLength(1);
    expect(viafoura[0]).toMatch(/^VF_BASIC_ENCODING: not set, and the VF_SITE_ID or VF_API_KEY holds characters .*raw, as curl --user sends it.*set VF_BASIC_ENCODING=form$/);
    const other = warningsOf({ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: SECRET, VF_TOKEN_URL: 'https://idp.example/token' });
    expect(other).toHaveLength(1);
    expect(other[0]).toMatch(/VF_CLIENT_ID or VF_CLIENT_SECRET .*form-encoded, as RFC 6749 section 2.3.1 asks.*set VF_BASIC_ENCODING=raw$/);
    expect(other[0]).not.toContain(SECRET);
  });

  it('says nothing when the setting is given, when the two encodings agree, or where Basic is not used', () => {
    expect(warningsOf({ VF_SITE_ID: TEST_SITE_ID, VF_API_KEY: SECRET, VF_BASIC_ENCODING: 'raw' })).toEqual([]);
    expect(warningsOf({ VF_SITE_ID: TEST_SITE_ID, VF_API_KEY: 'plain-Key_1.2' })).toEqual([]);
    expect(warningsOf({ VF_CLIENT_ID: 'c', VF_CLIENT_SECRET: SECRET, VF_CLIENT_AUTH: 'body', VF_TOKEN_URL: 'https://idp.example/token' })).toEqual([]);
  });
});
