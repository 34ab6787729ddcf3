import { createAdjustableClock, type AdjustableClock } from 'vf-login-bridge';
import { createMemoryLogger } from '../../src/logger';
import { createTokenSource, type TokenSource } from '../../packages/bridge/src/platform/token';
import type { TokenSettings } from '../../packages/bridge/src/platform/token-settings';
import { createUserStore } from '../../src/store/user-store';
import { csrfFor, register } from '../helpers/browser-flow';
import { pkcePair } from '../helpers/connect';
import { startTestEmulator } from '../helpers/emulator';
import { startTestSite, type TestSite } from '../helpers/site';
import type TestAgent from 'supertest/lib/agent';
import { signInAndConsent, startOpenIdProvider, type RunningOpenIdProvider } from '../helpers/openid-provider';

/**
 * The token dialects against oidc-provider, a certified OpenID Provider nobody here wrote:
 * client_credentials with RFC 6749 Basic and a secret holding every character where the
 * encodings differ, a server that grants less scope than asked, and an operator's connect with
 * `offline_access` that keeps refreshing (docs/token-dialects.md).
 */

const SECRET = 'p:s+e%c/r=e t';
const REDIRECT = 'http://127.0.0.1:9/admin/platform/callback';
const HOUR = 3600_000;

let provider: RunningOpenIdProvider;
let clock: AdjustableClock;
let logLines: string[];
let sources: TokenSource[] = [];

beforeAll(async () => {
  provider = await startOpenIdProvider({
    clients: [
      { client_id: 'service', client_secret: SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
      { client_id: 'service-post', client_secret: SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_post' },
      { client_id: 'connect', client_secret: SECRET, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' },
    ],
  });
});
afterAll(() => provider.stop());
beforeEach(() => {
  clock = createAdjustableClock();
});
afterEach(() => {
  for (const s of sources.splice(0)) s.close();
});

function source(settings: Partial<TokenSettings>): TokenSource {
  const memory = createMemoryLogger('debug');
  logLines = memory.lines;
  const created = createTokenSource({
    settings: { grant: 'client_credentials', clientAuth: 'basic', tokenUrl: `${provider.issuer}/token`, refreshTokenIn: 'body', clientId: 'service', clientSecret: SECRET, scope: 'accounts', ...settings },
    clock,
    timeoutMs: 5000,
    logger: memory.logger,
  });
  sources.push(created);
  return created;
}
const scopeWarnings = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry['code'] === 'TOKEN_SCOPE_NOT_GRANTED');

describe('client_credentials against oidc-provider, with the special-character secret', () => {
  it('form-encoded Basic (RFC 6749 §2.3.1), the default outside the Viafoura dialect, gets a token', async () => {
    const tokens = source({});
    expect(await tokens.getToken()).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(tokens.health()).toBe('cached');
  });

  it('raw Basic is refused by a server that follows the RFC', async () => {
    await expect(source({ basicEncoding: 'raw' }).getToken()).rejects.toMatchObject({ code: 'TOKEN_REJECTED', oauthError: 'invalid_request', upstreamStatus: 400 });
  });

  it('the client in the form body (client_secret_post) gets a token too', async () => {
    expect(await source({ clientAuth: 'body', clientId: 'service-post' }).getToken()).toEqual(expect.any(String));
  });

  it('a wrong secret is invalid_client', async () => {
    await expect(source({ clientSecret: `${SECRET}x` }).getToken()).rejects.toMatchObject({ code: 'TOKEN_INVALID_CLIENT' });
  });
});

describe('a server that grants less scope than asked (RFC 6749 §3.3)', () => {
  it('is accepted, with one warning naming the missing scope, however often the token is renewed', async () => {
    const tokens = source({ scope: 'accounts comments' });
    const first = await tokens.getToken();
    clock.advance(HOUR);
    const second = await tokens.getToken();
    expect(second).not.toBe(first);
    const warnings = scopeWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ requested: 'accounts comments', granted: 'accounts', missing: ['comments'], msg: expect.stringContaining('missing: comments') });
  });

  it('says nothing when everything asked was granted', async () => {
    await source({}).getToken();
    expect(scopeWarnings()).toEqual([]);
  });
});

describe("the operator's connect (authorization code, PKCE) with offline_access", () => {
  const connectSettings = (extra: Partial<TokenSettings>): Partial<TokenSettings> => ({
    grant: 'authorization_code',
    clientId: 'connect',
    authorizeUrl: `${provider.issuer}/auth`,
    redirectUrl: REDIRECT,
    scope: 'accounts offline_access',
    ...extra,
  });

  async function connect(tokens: TokenSource, login: string): Promise<void> {
    const { verifier, challenge } = pkcePair();
    const back = await signInAndConsent(tokens.authorizationUrl('state-0123456789', challenge), login);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('state-0123456789');
    await tokens.connect(back.searchParams.get('code')!, verifier, 'ops@example.com');
  }

  it('with prompt=consent gets a refresh token and keeps refreshing with the rotated one', async () => {
    const tokens = source(connectSettings({ authorizePrompt: 'consent' }));
    const url = new URL(tokens.authorizationUrl('state-0123456789', pkcePair().challenge));
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ scope: 'accounts offline_access', prompt: 'consent', code_challenge_method: 'S256' });

    await connect(tokens, 'operator');
    const first = await tokens.getToken();
    expect(await tokens.status()).toMatchObject({ grant: 'authorization_code', connected: true, connectedAs: 'connected by ops@example.com', renewable: true });
    clock.advance(HOUR);
    const second = await tokens.getToken();
    clock.advance(HOUR);
    const third = await tokens.getToken();
    expect(new Set([first, second, third]).size).toBe(3);
    expect(await tokens.status()).toMatchObject({ connected: true, refreshedAt: expect.any(Number) });
    expect(scopeWarnings()).toEqual([]);
  });

  it('without prompt=consent the provider drops offline_access: connected, one warning naming VF_AUTHORIZE_PROMPT, reconnect when the token ends', async () => {
    const tokens = source(connectSettings({}));
    await connect(tokens, 'operator');
    await tokens.getToken();
    expect(await tokens.status()).toMatchObject({ connected: true, renewable: false });
    const warnings = scopeWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ missing: ['offline_access'], msg: expect.stringContaining('VF_AUTHORIZE_PROMPT=consent') });
    clock.advance(HOUR);
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'TOKEN_RECONNECT_NEEDED' });
    expect(tokens.health()).toBe('reconnect_needed');
  });
});

describe('the connect from /admin/platform against oidc-provider', () => {
  let t: TestSite | undefined;
  afterEach(async () => {
    await t?.close();
    await t?.emulator.close();
    t = undefined;
  });

  /** A site whose platform is the provider's connect client; its operator connected through /admin/platform. */
  async function connectedSite(authorizePrompt: string | undefined): Promise<TestAgent> {
    const emulator = await startTestEmulator();
    const token: TokenSettings = {
      grant: 'authorization_code',
      clientAuth: 'basic',
      tokenUrl: `${provider.issuer}/token`,
      authorizeUrl: `${provider.issuer}/auth`,
      redirectUrl: REDIRECT,
      scope: 'accounts offline_access',
      authorizePrompt,
      clientId: 'connect',
      clientSecret: SECRET,
      refreshTokenIn: 'body',
    };
    t = await startTestSite({
      emulator,
      overrides: { platform: { baseUrl: emulator.url, siteId: 'connect', apiKey: SECRET, embedSrc: emulator.embedSrc, timeoutMs: 5000, token } },
    });
    const admin = t.agent();
    await register(admin, { email: 'ops@example.com', name: 'Operator' });
    await createUserStore(t.site.database.db, t.clock).setRole('ops@example.com', 'admin');
    const _csrf = await csrfFor(admin, '/admin/platform');
    const start = await admin.post('/admin/platform/connect').type('form').send({ _csrf }).expect(303);
    expect(new URL(start.headers['location']!).searchParams.get('prompt')).toBe(authorizePrompt ?? null);
    const back = await signInAndConsent(start.headers['location']!, 'operator');
    await admin.get(back.pathname + back.search).expect(303).expect('Location', '/admin/platform?connected=1');
    return admin;
  }

  it('with VF_AUTHORIZE_PROMPT=consent: the site keeps a refresh token and renews with it', async () => {
    const admin = await connectedSite('consent');
    const page = (await admin.get('/admin/platform').expect(200)).text;
    expect(page).toContain('Connected as connected by ops@example.com');
    expect(page).not.toContain('no refresh token');

    const first = await t!.site.platform.tokens.getToken();
    t!.clock.advance(HOUR);
    expect(await t!.site.platform.tokens.getToken()).not.toBe(first);
    expect((await admin.get('/admin/platform').expect(200)).text).not.toContain('last refresh none yet');
    expect(t!.logLines.filter((line) => line.includes('TOKEN_SCOPE_NOT_GRANTED'))).toEqual([]);
  });

  it('without it: connected, and the page and the log say there is no refresh token and which setting gives one', async () => {
    const admin = await connectedSite(undefined);
    expect((await admin.get('/admin/platform').expect(200)).text).toContain('no refresh token, so connect again before the token expires');
    const warnings = t!.logLines.filter((line) => line.includes('TOKEN_SCOPE_NOT_GRANTED'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('VF_AUTHORIZE_PROMPT=consent');
  });
});
