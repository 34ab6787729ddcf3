import path from 'node:path';
import { startTestEmulator, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';
import { killAllSiteProcesses, siteProcessEnv, startSiteProcess } from '../helpers/site-process';
import { OPS_AUTHORIZATION, TEST_HOOK_SECRET, TEST_METRICS_TOKEN } from '../helpers/site';
import { makeTempDir } from '../helpers/temp-database';
import { waitFor } from '../helpers/wait-for';

/**
 * `npm start` with an API key the platform refuses: the site listens at once (the check runs in
 * the background, here behind a slow token endpoint), then logs one line naming the settings, and
 * its detailed /readyz gives the reason (docs/token-dialects.md, "Credentials at start-up").
 */

const REFUSAL = 'the platform refused the credentials (invalid_client): check VF_SITE_ID, VF_API_KEY and VF_BASIC_ENCODING';
let emulator: TestEmulator;
let temp: { dir: string; remove: () => void };

beforeEach(async () => {
  emulator = await startTestEmulator();
  temp = makeTempDir('vf-credentials-check-');
});
afterEach(async () => {
  await killAllSiteProcesses();
  await emulator.close();
  temp.remove();
});

it('listens before the token endpoint answers, then logs the refusal once and /readyz gives it', async () => {
  // Slower than start-up takes to print its address, and within VF_TIMEOUT_MS (1 s).
  emulator.faults.setLatency(600, 'token');
  const env = siteProcessEnv({
    dataDir: temp.dir,
    databaseFile: path.join(temp.dir, 'site.db'),
    platform: { url: emulator.url, embedSrc: emulator.embedSrc, siteId: TEST_SITE_ID, apiKey: 'not+the/key' },
    hookSecret: TEST_HOOK_SECRET,
    extra: { METRICS_TOKEN: TEST_METRICS_TOKEN },
  });
  const site = await startSiteProcess({ env, cwd: temp.dir });
  expect(site.output().stdout).not.toContain(REFUSAL);

  await waitFor(() => site.output().stdout.includes(REFUSAL), 'the refusal in the log');
  expect(emulator.stats().calls.token).toBe(1);
  const lines = site.output().stdout.split('\n');
  expect(lines.filter((line) => line.includes(REFUSAL))).toHaveLength(1);
  // The key holds '+' and '/': which Basic encoding applies is said once, at start-up.
  expect(lines.filter((line) => line.includes('VF_BASIC_ENCODING: not set'))).toHaveLength(1);
  const ready = await fetch(`${site.url}/readyz`, { headers: { Authorization: OPS_AUTHORIZATION } });
  expect(ready.status).toBe(200);
  expect(((await ready.json()) as { checks: { platform: unknown } }).checks.platform).toMatchObject({ ok: false, reason: REFUSAL });
});
