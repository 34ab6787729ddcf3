import { createAdjustableClock } from 'vf-login-bridge';
import { createMemoryLogger } from '../../src/logger';
import { createCredentialsCheck } from '../../packages/bridge/src/platform/credentials-check';
import { createTokenSource } from '../../packages/bridge/src/platform/token';
import type { TokenSettings } from '../../packages/bridge/src/platform/token-settings';
import { startTestEmulator, TEST_SITE_ID } from '../helpers/emulator';
import { startOpenIdProvider } from '../helpers/openid-provider';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';
import { startOAuth2ServerPeer } from './oauth2-server-peer';

/**
 * The credentials check at start-up (docs/token-dialects.md, "Credentials at start-up"): one
 * token request in the background; a refusal logged once, naming the settings to fix, and given
 * as the detailed /readyz's reason; a platform that was down is asked again on the backoff.
 */

const RETRY_BASE_MS = 5_000;
let t: TestSite | undefined;
afterEach(async () => {
  await t?.close();
  await t?.emulator.close();
  t = undefined;
});

/** A site on the default (Viafoura) dialect whose API key the emulator does not know. */
async function siteWithKey(apiKey: string): Promise<TestSite> {
  const emulator = await startTestEmulator();
  return startTestSite({
    emulator,
    overrides: { platform: { baseUrl: emulator.url, siteId: TEST_SITE_ID, apiKey, embedSrc: emulator.embedSrc, timeoutMs: 1000 } },
  });
}
const linesNaming = (site: TestSite, text: string) => site.logLines.filter((line) => line.includes(text));
async function platformReadiness(site: TestSite): Promise<Record<string, unknown>> {
  const answer = await site.agent().get('/readyz').set('Authorization', OPS_AUTHORIZATION).expect(200);
  expect(answer.body.ready).toBe(true);
  return answer.body.checks.platform as Record<string, unknown>;
}

describe('a wrong API key', () => {
  it('is one log line naming VF_SITE_ID and VF_API_KEY, and the detailed /readyz says so; the site stays ready', async () => {
    t = await siteWithKey('not-the-key');
    expect(t.emulator.stats().calls.token).toBe(0);
    await t.site.jobs.run('credentials');
    expect(t.emulator.stats().calls.token).toBe(1);
    const lines = linesNaming(t, 'VF_API_KEY');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 50, code: 'TOKEN_INVALID_CLIENT', oauthError: 'invalid_client', msg: 'the platform refused the credentials (invalid_client): check VF_SITE_ID and VF_API_KEY' });
    expect(await platformReadiness(t)).toMatchObject({ ok: false, token: 'failing', reason: 'the platform refused the credentials (invalid_client): check VF_SITE_ID and VF_API_KEY' });

    // Before its backoff is over nothing is asked; after it the platform is asked again, and the line is not repeated.
    await t.site.jobs.run('credentials');
    expect(t.emulator.stats().calls.token).toBe(1);
    t.clock.advance(RETRY_BASE_MS);
    await t.site.jobs.run('credentials');
    expect(t.emulator.stats().calls.token).toBe(2);
    // The wait doubles (the clock also runs, so a second is left as a margin).
    t.clock.advance(2 * RETRY_BASE_MS - 1_000);
    await t.site.jobs.run('credentials');
    expect(t.emulator.stats().calls.token).toBe(2);
    t.clock.advance(1_000);
    await t.site.jobs.run('credentials');
    expect(t.emulator.stats().calls.token).toBe(3);
    expect(linesNaming(t, 'VF_API_KEY')).toHaveLength(1);
  });
});

describe('a healthy platform', () => {
  it('is asked once; the token it gives is the one the first reader uses, and readiness never wavers', async () => {
    t = await startTestSite();
    expect(await platformReadiness(t)).toMatchObject({ ok: true, token: 'none' });
    await t.site.jobs.run('credentials');
    expect(await platformReadiness(t)).toMatchObject({ ok: true, token: 'cached' });
    t.clock.advance(10 * RETRY_BASE_MS);
    await t.site.jobs.run('credentials');
    await t.site.platform.tokens.getToken();
    expect(t.emulator.stats().calls.token).toBe(1);
    expect(t.site.platform.credentials.result()).toEqual({ state: 'ok' });
  });

  it('is checked as soon as the jobs start, without anyone calling', async () => {
    t = await startTestSite();
    t.site.jobs.start();
    await waitFor(() => t!.site.platform.credentials.result().state === 'ok', 'the check to pass');
    expect(t.emulator.stats().calls.token).toBe(1);
    await t.site.jobs.stop();
  });
});

describe('a platform that is down at start-up', () => {
  it('is asked again on the backoff and the site becomes ready for the platform without a restart', async () => {
    t = await startTestSite();
    t.emulator.faults.failAll({ status: 503 }, 'token');
    await t.site.jobs.run('credentials');
    expect(t.site.platform.credentials.result()).toMatchObject({ state: 'unreachable', code: 'PLATFORM_UNAVAILABLE' });
    expect(await platformReadiness(t)).toMatchObject({ ok: false, token: 'failing' });
    expect((await platformReadiness(t))['reason']).toBeUndefined();

    t.emulator.faults.failAll(null);
    await t.site.jobs.run('credentials');
    expect(t.site.platform.credentials.result().state).toBe('unreachable');
    t.clock.advance(RETRY_BASE_MS);
    await t.site.jobs.run('credentials');
    expect(t.site.platform.credentials.result()).toEqual({ state: 'ok' });
    expect(await platformReadiness(t)).toMatchObject({ ok: true, token: 'cached' });
    expect(linesNaming(t, 'platform credentials not checked yet')).toHaveLength(1);
    expect(linesNaming(t, 'platform credentials accepted')).toHaveLength(1);
  });
});

describe('the settings named for each refusal', () => {
  const clock = createAdjustableClock();

  async function refusalOf(settings: TokenSettings): Promise<{ reason: string; lines: string[] }> {
    const { logger, lines } = createMemoryLogger('debug');
    const tokens = createTokenSource({ settings, clock, timeoutMs: 5000 });
    try {
      const result = await createCredentialsCheck({ tokens, settings, clock, logger }).run();
      if (result.state !== 'refused') throw new Error(`not refused: ${JSON.stringify(result)}`);
      return { reason: result.reason, lines: lines.filter((line) => line.includes(result.reason)) };
    } finally {
      tokens.close();
    }
  }

  it('unauthorized_client (@node-oauth/oauth2-server, a client not allowed the grant): the client and VF_TOKEN_GRANT', async () => {
    const server = await startOAuth2ServerPeer({ client: { id: 'c', secret: 's', grants: ['password'] } });
    try {
      const refusal = await refusalOf({ grant: 'client_credentials', clientAuth: 'body', tokenUrl: server.tokenUrl, refreshTokenIn: 'body', clientId: 'c', clientSecret: 's' });
      expect(refusal.reason).toBe('the platform refused the credentials (unauthorized_client): check VF_CLIENT_ID, VF_CLIENT_SECRET and VF_TOKEN_GRANT');
      expect(refusal.lines).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('invalid_client from oidc-provider for the form-encoded client: VF_CLIENT_ID and VF_CLIENT_SECRET', async () => {
    const provider = await startOpenIdProvider({
      clients: [{ client_id: 'svc', client_secret: 'right', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }],
    });
    try {
      const refusal = await refusalOf({ grant: 'client_credentials', clientAuth: 'basic', tokenUrl: `${provider.issuer}/token`, refreshTokenIn: 'body', clientId: 'svc', clientSecret: 'wrong', scope: 'accounts' });
      expect(refusal.reason).toBe('the platform refused the credentials (invalid_client): check VF_CLIENT_ID and VF_CLIENT_SECRET');
    } finally {
      await provider.stop();
    }
  });

  it('invalid_grant for the password grant (@node-oauth/oauth2-server): VF_USERNAME and VF_PASSWORD', async () => {
    const server = await startOAuth2ServerPeer({ client: { id: 'c', secret: 's' }, user: { username: 'bot', password: 'right' } });
    try {
      const refusal = await refusalOf({ grant: 'password', clientAuth: 'body', tokenUrl: server.tokenUrl, refreshTokenIn: 'body', clientId: 'c', clientSecret: 's', username: 'bot', password: 'wrong' });
      expect(refusal.reason).toBe('the platform refused the credentials (invalid_grant): check VF_USERNAME and VF_PASSWORD');
    } finally {
      await server.close();
    }
  });

  it('invalid_client where the Basic encodings differ and none was chosen: VF_BASIC_ENCODING too', async () => {
    const server = await startOAuth2ServerPeer({ client: { id: 'c', secret: 'a+b/c=' } });
    try {
      const refusal = await refusalOf({ grant: 'client_credentials', clientAuth: 'basic', tokenUrl: server.tokenUrl, refreshTokenIn: 'body', clientId: 'c', clientSecret: 'a+b/c=' });
      expect(refusal.reason).toBe('the platform refused the credentials (invalid_client): check VF_CLIENT_ID, VF_CLIENT_SECRET and VF_BASIC_ENCODING');
    } finally {
      await server.close();
    }
  });

  it('a personal access token is not checked: there is no token endpoint to ask', async () => {
    const settings: TokenSettings = { grant: 'pat', clientAuth: 'basic', tokenUrl: '', refreshTokenIn: 'body', accessToken: 'pat_1' };
    const tokens = createTokenSource({ settings, clock, timeoutMs: 1000 });
    const check = createCredentialsCheck({ tokens, settings, clock, logger: createMemoryLogger().logger });
    expect(await check.run()).toMatchObject({ state: 'skipped' });
  });
});
