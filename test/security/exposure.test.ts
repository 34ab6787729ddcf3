import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { problemsOf } from '../helpers/config';
import { csrfFor, register } from '../helpers/browser-flow';
import { startTestSite, type TestSite } from '../helpers/site';
import { startSiteProcess } from '../helpers/site-process';
import { makeTempDir } from '../helpers/temp-database';
import { fromSource } from '../helpers/ts-source';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789abcdef';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ overrides: { metricsToken: METRICS_TOKEN } });
});
afterAll(() => t.close());

describe('nothing cached (ASVS 8.2.1)', () => {
  it('ASVS 8.2.1: pages with a platform session, a CSRF token or the reader’s email say Cache-Control: no-store', async () => {
    const agent = t.agent();
    await register(agent);
    for (const page of ['/articles/harbour-bridge-reopens', '/account', '/', '/api/session', '/nowhere']) {
      expect([page, (await agent.get(page)).headers['cache-control']]).toEqual([page, 'no-store']);
    }
    for (const page of ['/login', '/register']) {
      expect([page, (await t.agent().get(page)).headers['cache-control']]).toEqual([page, 'no-store']);
    }
    // Static files may be cached: they hold nothing of anyone's.
    expect((await t.agent().get('/public/site.css')).headers['cache-control']).toMatch(/max-age/);
  });
});

describe('operations endpoints are not public (ASVS 14.3.3)', () => {
  it('ASVS 14.3.3: /metrics needs the bearer token', async () => {
    const none = await t.agent().get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.text).not.toMatch(/vf_platform|nodejs_/);
    expect((await t.agent().get('/metrics').set('Authorization', 'Bearer not-the-token')).status).toBe(401);
    const ok = await t.agent().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
    expect(ok.text).toMatch(/^vf_platform_circuit_state /m);
  });

  it('ASVS 14.3.3: /readyz tells a balancer only whether the site is ready; the details need the token', async () => {
    expect((await t.agent().get('/readyz').expect(200)).body).toEqual({ ready: true });
    const detailed = await t.agent().get('/readyz').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
    expect(detailed.body.checks.platform).toMatchObject({ circuit: 'closed' });
  });

  it('ASVS 14.3.3: /healthz is public and says only ok', async () => {
    const res = await t.agent().get('/healthz').expect(200);
    expect(res.text).toBe('ok');
  });

  it('ASVS 14.3.3: with no METRICS_TOKEN set, /metrics answers nobody', async () => {
    const site = await startTestSite({ overrides: { metricsToken: undefined } });
    try {
      expect((await site.agent().get('/metrics')).status).toBe(401);
      expect((await site.agent().get('/metrics').set('Authorization', 'Bearer ')).status).toBe(401);
    } finally {
      await site.close();
    }
  });
});

describe('production never runs the emulator by accident (ASVS 14.1)', () => {
  /** what production needs besides the platform: a session secret, and mail that reaches readers */
  const secret = { SESSION_SECRET: 's'.repeat(40), SMTP_URL: 'smtp://mail.news.example:587', MAIL_FROM: 'news@news.example', PUBLIC_URL: 'https://news.example' };

  it('ASVS 14.1: NODE_ENV=production without platform credentials is refused, naming VF_SITE_ID/VF_API_KEY, unless VF_EMULATOR=true', () => {
    expect(problemsOf({ NODE_ENV: 'production', ...secret })).toEqual([expect.stringMatching(/^VF_SITE_ID\/VF_API_KEY: /)]);
    const asked = loadConfig({ NODE_ENV: 'production', VF_EMULATOR: 'true', ...secret });
    expect(asked.platform.mode).toBe('emulator');
    expect(loadConfig({ NODE_ENV: 'production', VF_SITE_ID: 's', VF_API_KEY: 'k', ...secret }).platform.mode).toBe('remote');
  });

  it('ASVS 14.1: production without TRUST_PROXY starts with a warning about Secure cookies', () => {
    expect(loadConfig({ NODE_ENV: 'production', VF_EMULATOR: 'true', ...secret }).warnings).toEqual([expect.stringMatching(/^TRUST_PROXY is off/)]);
    expect(loadConfig({ NODE_ENV: 'production', VF_EMULATOR: 'true', TRUST_PROXY: 'true', ...secret }).warnings).toEqual([]);
  });

  it('ASVS 14.1: the server stops at start-up with one line', () => {
    const run = spawnSync(process.execPath, fromSource(path.join(__dirname, '..', '..', 'src', 'server.ts')), {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', ...secret },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(78);
    // Production without a terminal logs JSON (README.md#configuration, LOG_FORMAT): the line is a record's msg.
    expect(run.stderr.trim().split('\n').map((line) => JSON.parse(line).msg)).toEqual([expect.stringMatching(/^Configuration error: VF_SITE_ID\/VF_API_KEY: required when NODE_ENV=production/)]);
  });

  it('ASVS 14.1: the bundled emulator (and so its admin API) listens on 127.0.0.1 whatever HOST says', async () => {
    const temp = makeTempDir();
    const site = await startSiteProcess({ env: { HOST: '127.0.0.2', PORT: '0', DATA_DIR: temp.dir, DATABASE_URL: `sqlite:${temp.dir}/site.db` }, cwd: temp.dir });
    try {
      expect(site.url).toMatch(/^http:\/\/127\.0\.0\.2:/);
      expect(site.output().stdout).toMatch(/platform emulator at http:\/\/127\.0\.0\.1:\d+/);
    } finally {
      await site.kill();
      temp.remove();
    }
  });
});

describe('CSRF for logged-in readers is unchanged', () => {
  it('a logged-in form still needs the session’s token, not an anonymous one', async () => {
    const agent = t.agent();
    await register(agent);
    const anonymous = await csrfFor(t.agent(), '/login');
    const res = await agent.post('/account').type('form').send({ _csrf: anonymous, name: 'Someone Else', email: 'x@example.com' });
    expect(res.status).toBe(403);
  });
});

describe('logs (ASVS 7.1.1)', () => {
  it('ASVS 7.1.1: secret-looking query values are redacted at any depth; the request line keeps the rest', async () => {
    const secrets = ['hunter2-in-the-query', 'tok-0123456789', 'nested-pass-42', 'sid-abcdef', 'code-xyz-987', 'sig-in-a-header-key'];
    const target =
      `/login?email=ada%40example.com&password=${secrets[0]}&access_token=${secrets[1]}` +
      `&user%5Bpassword%5D=${secrets[2]}&session.sid=${secrets[3]}&code=${secrets[4]}&X-Hook-Signature=${secrets[5]}`;
    const from = t.logLines.length;
    await t.agent().get(target).expect(200);
    const lines = t.logLines.slice(from).join('\n');
    expect(lines).toContain('/login?email=ada%40example.com&password=[redacted]');
    for (const secret of secrets) expect(lines).not.toContain(secret);
  });
});
