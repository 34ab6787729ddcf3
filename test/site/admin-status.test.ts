import type TestAgent from 'supertest/lib/agent';
import { adminAgent } from '../helpers/admin';
import { createUserStore } from '../../src/store/user-store';
import { TEST_API_KEY } from '../helpers/emulator';
import { csrfFor, register } from '../helpers/browser-flow';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

const ADMIN = 'ops-status@example.com';

let t: TestSite;
beforeEach(async () => {
  t = await startTestSite();
});
afterEach(() => t.close());

async function scrape(): Promise<string> {
  return (await t.agent().get('/metrics').set('Authorization', OPS_AUTHORIZATION).expect(200)).text;
}

/** The sum of the samples of `metric` that carry every one of `labels` (`name=value name=value`). */
function sumOf(metrics: string, metric: string, labels: string): number {
  const wanted = labels === '' ? [] : labels.split(' ').map((pair) => pair.replace(/=(.*)$/, '="$1"'));
  let sum = 0;
  for (const line of metrics.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== metric) continue;
    const have = (match[2] ?? '').split(',');
    if (wanted.every((pair) => have.includes(pair))) sum += Number(match[3]);
  }
  return sum;
}

/** Every figure of the page that /metrics also shows: its metric, its labels and the value shown. */
function figuresOf(html: string): Array<{ metric: string; labels: string; value: number }> {
  return [...html.matchAll(/data-metric="([^"]+)" data-labels="([^"]*)"[^>]*>([^<]+)</g)].map((m) => ({ metric: m[1]!, labels: m[2]!, value: Number(m[3]) }));
}

async function logOut(agent: TestAgent): Promise<void> {
  const _csrf = await csrfFor(agent, '/account');
  await agent.post('/logout').type('form').send({ _csrf }).expect(303);
}

/** A new reader logs in and out; waits until /metrics has counted `delivered` logouts the platform took. */
async function readerComesAndGoes(delivered: number): Promise<void> {
  const reader = t.agent();
  await register(reader);
  await logOut(reader);
  await waitFor(async () => new RegExp(`^vf_bridge_logouts_total\\{outcome="ok"\\} ${delivered}$`, 'm').test(await scrape()), `logout ${delivered} delivered`);
}

describe('/admin/status', () => {
  it('sends a visitor to log in and refuses a reader', async () => {
    await t.agent().get('/admin/status').expect(303).expect('Location', '/login?returnTo=%2Fadmin%2Fstatus');
    const reader = t.agent();
    await register(reader);
    const refused = await reader.get('/admin/status').expect(403);
    expect(refused.text).not.toContain('delivery-chart');
    await reader.post('/admin/status').expect(405);
  });

  it("shows an administrator the platform, the queue by age, the last hour and the counters, each equal to /metrics' figure", async () => {
    const admin = await adminAgent(t, ADMIN);
    // One logout the platform takes; one it refuses, which waits in the queue for a retry.
    await readerComesAndGoes(1);
    const kept = t.agent();
    await register(kept);
    t.emulator.faults.failAll({ status: 500 }, 'logout');
    await logOut(kept);
    await waitFor(async () => /^vf_bridge_pending_logouts 1$/m.test(await scrape()), 'the second logout queued');
    t.clock.advance(2 * 60_000);

    const page = await admin.get('/admin/status').expect(200);
    const metrics = await scrape();
    expect(page.headers['cache-control']).toBe('no-store');

    // Platform: the circuit, and the token the site already holds.
    expect(page.text).toContain('data-state="closed"');
    expect(page.text).toContain('data-health="cached"');
    expect(page.text).toMatch(/id="token-expiry" data-expired="no">\s*<time datetime="\d{4}-/);
    // Shared: the operator's own session is the one live bridge session; the queue by age, and its oldest.
    expect(page.text).toMatch(/id="live-sessions">1</);
    expect(page.text).toMatch(/<th scope="row">1 to 10 minutes<\/th><td class="num">1</);
    expect(page.text).toMatch(/<th scope="row">under 1 minute<\/th><td class="num">0</);
    expect(page.text).toMatch(/the oldest queued <time datetime="[^"]+">[^<]+<\/time>, <span id="oldest-age">2 min<\/span> ago/);
    // The last hour: one delivered and one failed, as a chart with a bar of each, and the failure's code.
    expect(page.text).toContain('<span data-last-hour="delivered">1</span> delivered, <span data-last-hour="failed">1</span> failed');
    expect(page.text).toMatch(/<svg id="delivery-chart" role="img"/);
    expect(page.text).toContain('fill="#1b6e3a"');
    expect(page.text).toContain('fill="#b3261e"');
    // Drawn by the server: nothing in it runs.
    expect(/<svg id="delivery-chart"[\s\S]*?<\/svg>/.exec(page.text)?.[0]).not.toMatch(/<script|\bon[a-z]+=/i);
    expect(page.text).toMatch(/<tr data-code="[a-z_]+"><th scope="row"><code>[a-z_]+<\/code><\/th><td>(logout|call)<\/td>/);

    // Every figure /metrics also has is the same there.
    const figures = figuresOf(page.text);
    expect(figures.map((f) => f.metric)).toEqual(
      expect.arrayContaining(['vf_platform_circuit_state', 'vf_bridge_pending_logouts', 'http_requests_total', 'vf_bridge_logins_total', 'vf_bridge_logouts_total', 'vf_platform_calls_total']),
    );
    expect(figures.find((f) => f.metric === 'vf_bridge_logouts_total' && f.labels === 'outcome=ok')?.value).toBe(1);
    expect(figures.find((f) => f.metric === 'vf_bridge_pending_logouts')?.value).toBe(1);
    for (const figure of figures) {
      // The page's own view was counted once its answer was done, after it had rendered its figures.
      const ownView = figure.metric === 'http_requests_total' && figure.labels === 'status=2xx' ? 1 : 0;
      expect({ ...figure, value: figure.value + ownView }).toEqual({ ...figure, value: sumOf(metrics, figure.metric, figure.labels) });
    }
  });

  it('counts the last hour only: older minutes leave the chart, while the counters keep them', async () => {
    const admin = await adminAgent(t, ADMIN);
    await readerComesAndGoes(1);
    expect((await admin.get('/admin/status').expect(200)).text).toContain('<span data-last-hour="delivered">1</span>');
    t.clock.advance(61 * 60_000);
    const later = await admin.get('/admin/status').expect(200);
    expect(later.text).toContain('<span data-last-hour="delivered">0</span>');
    expect(later.text).toMatch(/data-metric="vf_bridge_logouts_total" data-labels="outcome=ok">1</);
  });

  it('an administrator whose role is taken away is refused on the next view; a query, HEAD or a method override changes nothing', async () => {
    const admin = await adminAgent(t, ADMIN);
    const shown = await admin.get('/admin/status?format=json&route=%2Fsecret').expect(200);
    expect(shown.headers['content-type']).toMatch(/^text\/html/);
    expect(shown.text).not.toContain('%2Fsecret');
    const head = await admin.head('/admin/status').expect(200);
    expect(head.headers['cache-control']).toBe('no-store');
    await admin.post('/admin/status?_method=GET').set('X-HTTP-Method-Override', 'GET').expect(405);
    await createUserStore(t.site.database.db, t.clock).setRole(ADMIN, 'reader');
    const refused = await admin.get('/admin/status').expect(403);
    expect(refused.text).not.toContain('delivery-chart');
  });

  it('shows no secret: neither the access token, the API key nor a platform session', async () => {
    const admin = await adminAgent(t, ADMIN);
    const reader = t.agent();
    await register(reader);
    const session = (await reader.get('/api/session').expect(200)).body as { platform: { sid: string } | null };
    expect(session.platform?.sid).toBeTruthy();
    const page = (await admin.get('/admin/status').expect(200)).text;
    // The token the site holds is the one its login call carried.
    const accessToken = String(t.emulator.lastRequest('login')?.headers.authorization).replace(/^Bearer /, '');
    expect(accessToken.length).toBeGreaterThan(10);
    for (const secret of [TEST_API_KEY, encodeURIComponent(TEST_API_KEY), session.platform!.sid, accessToken]) expect(page).not.toContain(secret);
  });
});
