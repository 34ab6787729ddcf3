import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { csrfFor, register } from '../helpers/browser-flow';
import { sendRaw } from '../helpers/raw-http';
import { OPS_AUTHORIZATION, startTestSite, type TestSite } from '../helpers/site';

const ARTICLE = '/articles/harbour-bridge-reopens';

let t: TestSite;
let server: http.Server;
let port: number;
beforeAll(async () => {
  t = await startTestSite();
  server = http.createServer(t.site.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.close();
});

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's samples of `names`, labels parsed. */
function samplesOf(text: string, names: readonly string[]): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || !names.includes(match[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const pair of match[2]!.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

async function scrape(): Promise<string> {
  return (await t.agent().get('/metrics').set('Authorization', OPS_AUTHORIZATION).expect(200)).text;
}

/** Counted when the answer is done: the next scrape sees it (the answer has reached the client by then). */
function count(text: string, labels: Record<string, string>): number {
  return samplesOf(text, ['http_requests_total'])
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Strings that would only reach a label from the path or query as sent. */
const MARKERS = ['harbour-bridge-reopens', 'secret-query-value', '9876543210', 'passwd', 'script', 'DROP', 'evil', 'xxxxxxxx', '%', '?', '..', 'HOOKS', 'deadbeef'];

describe('request metrics', () => {
  it('count every kind of answer by method, route pattern and status class, and no label holds a path, an id or a query', async () => {
    const before = await scrape();
    const reader = t.agent();
    await register(reader);
    await reader.get('/').expect(200);
    await reader.get(`${ARTICLE}?q=secret-query-value&token=secret-query-value`).expect(200);
    await reader.get('/articles/no-such-article-9876543210').expect(404);
    await reader.get('/nothing/here/9876543210?code=secret-query-value').expect(404);
    await reader.get('/public/site.css').expect(200);
    await reader.get('/public/no-such-file-9876543210.css').expect(404);
    // An id in a route's parameter: the label keeps the pattern.
    const _csrf = await csrfFor(reader, '/account/sessions');
    await reader.post('/account/sessions/deadbeef9876543210/logout').type('form').send({ _csrf });
    await t.agent().put('/login').expect(405);
    await t.agent().post('/login').type('form').send({ email: 'x@example.com', password: 'y' }).expect(403);
    await t.agent().get('/metrics').expect(401);

    // Hostile targets, byte for byte as sent.
    const hostile = [
      { method: 'GET', target: '/../../etc/passwd' },
      { method: 'GET', target: '/%2e%2e/%2e%2e/etc/passwd' },
      { method: 'GET', target: '/articles/%3Cscript%3Ealert(1)%3C%2Fscript%3E' },
      { method: 'GET', target: "/articles/x'%20OR%201=1;DROP%20TABLE%20users" },
      { method: 'GET', target: `/${'x'.repeat(4000)}` },
      { method: 'GET', target: '/articles/%ZZ-evil' },
      { method: 'GET', target: 'http://evil.example/absolute-form?secret-query-value' },
      { method: 'POST', target: '/HOOKS/LOGOUT?evil=1' },
      { method: 'PROPFIND', target: '/evil' },
      { method: 'GET', target: '/?%00=secret-query-value' },
    ];
    for (const request of hostile) {
      const answer = await sendRaw(port, { ...request, headers: [['Connection', 'close']] });
      expect(answer.status).toBeGreaterThanOrEqual(200);
    }

    const after = await scrape();
    const series = samplesOf(after, ['http_requests_total', 'http_request_duration_seconds_bucket', 'http_request_duration_seconds_count', 'http_request_duration_seconds_sum']);
    expect(series.length).toBeGreaterThan(0);
    const routes = new Set<string>();
    for (const s of series) {
      expect(Object.keys(s.labels).filter((k) => k !== 'le').sort()).toEqual(['method', 'route', 'status']);
      expect(s.labels.method).toMatch(/^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|OTHER)$/);
      expect(s.labels.status).toMatch(/^[1-5]xx$/);
      // A pattern of the site's (letters, slashes, dashes and :parameters), or one of the two fixed labels.
      expect(s.labels.route).toMatch(/^(static|unmatched|(\/[a-z:-]*)+)$/);
      for (const marker of MARKERS) expect(s.labels.route).not.toContain(marker);
      routes.add(s.labels.route!);
    }
    // Every distinct path above came to a handful of labels.
    expect(routes.size).toBeLessThan(25);

    const grew = (labels: Record<string, string>) => count(after, labels) - count(before, labels);
    expect(grew({ method: 'GET', route: '/articles/:slug', status: '2xx' })).toBe(1);
    // The unknown slug, and the hostile ones that reached the route.
    expect(grew({ method: 'GET', route: '/articles/:slug', status: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(grew({ method: 'GET', route: 'static', status: '2xx' })).toBe(1);
    expect(grew({ method: 'GET', route: 'static', status: '4xx' })).toBe(1);
    expect(grew({ method: 'GET', route: 'unmatched', status: '4xx' })).toBeGreaterThanOrEqual(3);
    expect(grew({ method: 'POST', route: '/account/sessions/:id/logout' })).toBe(1);
    expect(grew({ method: 'PUT', route: 'unmatched', status: '4xx' })).toBe(1);
    expect(grew({ method: 'POST', route: '/hooks/logout' })).toBe(1);
    expect(grew({ method: 'OTHER', status: '4xx' })).toBe(1);
    expect(grew({ method: 'GET', route: '/metrics', status: '4xx' })).toBe(1);
    // The scrape before this one was counted once it was done.
    expect(grew({ method: 'GET', route: '/metrics', status: '2xx' })).toBe(1);

    // The histogram counts what the counter counts, label set by label set.
    const counts = samplesOf(after, ['http_request_duration_seconds_count']);
    for (const total of samplesOf(after, ['http_requests_total'])) {
      const timed = counts.find((c) => ['method', 'route', 'status'].every((k) => c.labels[k] === total.labels[k]));
      expect(timed?.value).toBe(total.value);
    }
  });
});

describe('request metrics turned off (what the bench compares with)', () => {
  it('count nothing, while the bridge metrics stay', async () => {
    const uncounted = await startTestSite({ overrides: { requestMetrics: false } });
    try {
      await uncounted.agent().get('/').expect(200);
      const text = (await uncounted.agent().get('/metrics').set('Authorization', OPS_AUTHORIZATION).expect(200)).text;
      expect(text).not.toContain('http_request');
      expect(text).toContain('vf_bridge_logins_total');
    } finally {
      await uncounted.close();
    }
  });
});
