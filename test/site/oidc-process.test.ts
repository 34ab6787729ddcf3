import path from 'node:path';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';
import { OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, startProviderFor } from '../helpers/oidc-site';
import type { RunningOpenIdProvider } from '../helpers/openid-provider';
import { killAllSiteProcesses, siteProcessEnv, startSiteProcess } from '../helpers/site-process';
import { TEST_HOOK_SECRET } from '../helpers/site';
import { makeTempDir } from '../helpers/temp-database';
import { waitFor } from '../helpers/wait-for';

/**
 * The site as `npm start` runs it, with LOGIN=both: openid-client and jose are ES modules only, and
 * a plain Node process loads them through `require` (Node 20.19+), as the built site does.
 */
let emulator: TestEmulator;
let op: RunningOpenIdProvider;
let temp: { dir: string; remove: () => void };

beforeAll(async () => {
  emulator = await startTestEmulator();
  op = await startProviderFor('http://127.0.0.1:3000');
});
afterAll(async () => {
  await op.stop();
  await emulator.close();
});
beforeEach(() => {
  temp = makeTempDir('vf-oidc-process-');
});
afterEach(async () => {
  await killAllSiteProcesses();
  temp.remove();
});

function envFor(issuer: string): Record<string, string> {
  return siteProcessEnv({
    dataDir: temp.dir,
    databaseFile: path.join(temp.dir, 'site.db'),
    platform: { url: emulator.url, embedSrc: emulator.embedSrc, siteId: TEST_SITE_ID, apiKey: TEST_API_KEY },
    hookSecret: TEST_HOOK_SECRET,
    extra: {
      LOG_LEVEL: 'info',
      LOGIN: 'both',
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: OIDC_CLIENT_ID,
      OIDC_CLIENT_SECRET: OIDC_CLIENT_SECRET,
      OIDC_REDIRECT_URL: 'http://127.0.0.1:3000/login/oidc/callback',
      OIDC_PROVIDER_NAME: 'Harbour ID',
    },
  });
}

it('starts, reads the discovery document, and sends readers to the provider with PKCE', async () => {
  const site = await startSiteProcess({ env: envFor(op.issuer), cwd: temp.dir });
  const start = await fetch(`${site.url}/login/oidc`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get('location')!);
  expect(authorize.origin).toBe(op.issuer);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(await (await fetch(`${site.url}/login`)).text()).toContain('Log in with Harbour ID');
  expect(site.output().stdout).not.toContain('OIDC_DISCOVERY_FAILED');
});

it('with the provider unreachable, listens anyway and logs one line that names OIDC_ISSUER', async () => {
  const site = await startSiteProcess({ env: envFor('http://127.0.0.1:9'), cwd: temp.dir });
  await waitFor(() => site.output().stdout.includes('OIDC_DISCOVERY_FAILED'), 'the discovery failure in the log');
  const lines = site.output().stdout.split('\n').filter((line) => line.includes('OIDC_DISCOVERY_FAILED'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('check OIDC_ISSUER');
  expect((await fetch(`${site.url}/login/oidc`, { redirect: 'manual' })).status).toBe(503);
  expect((await fetch(`${site.url}/healthz`)).status).toBe(200);
});
