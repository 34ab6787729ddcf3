import { ARTICLES } from '../../src/web/articles';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { csrfFor, csrfFrom, embedTagOf, register } from '../helpers/browser-flow';
import { startTestSite, type TestSite } from '../helpers/site';

/**
 * What every answer still carries now that the front middleware runs as a few layers and the
 * security headers are computed once (src/web/chain.ts, src/web/fixed-headers.ts): the same
 * headers on pages, error pages and probes, and each path still reaching its own handler.
 */
const ARTICLE = `/articles/${ARTICLES[0]!.slug}`;

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(async () => {
  await t.close();
});

const embedOrigin = () => new URL(t.emulator.embedSrc).origin;

function expectSecurityHeaders(headers: Record<string, string>): void {
  expect(headers['content-security-policy']).toContain(`script-src 'self' ${embedOrigin()}`);
  expect(headers['content-security-policy']).toContain(`frame-src ${embedOrigin()}`);
  expect(headers['content-security-policy']).toContain("form-action 'self'");
  expect(headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-powered-by']).toBeUndefined();
  expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
}

describe('the page path', () => {
  it('an anonymous article carries the security headers, no-store, HTML in UTF-8 and a request id of its own', async () => {
    const first = await t.agent().get(ARTICLE).expect(200);
    const second = await t.agent().get(ARTICLE).expect(200);
    for (const res of [first, second]) {
      expectSecurityHeaders(res.headers as Record<string, string>);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(embedTagOf(res.text)).toEqual({ uid: null, sid: null });
    }
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
  });

  it('a logged-in article carries the same headers and the reader embed', async () => {
    const agent = t.agent();
    await register(agent);
    const res = await agent.get(ARTICLE).expect(200);
    expectSecurityHeaders(res.headers as Record<string, string>);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(embedTagOf(res.text).sid).not.toBeNull();
  });

  it('error pages and probes carry them too', async () => {
    for (const res of [await t.agent().get('/articles/no-such-article').expect(404), await t.agent().get('/healthz').expect(200)]) {
      expectSecurityHeaders(res.headers as Record<string, string>);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    // Refused before the static files, so before no-store is set.
    expectSecurityHeaders((await t.agent().put('/login').expect(405)).headers as Record<string, string>);
  });

  it.each(['/healthz', '/HEALTHZ', '/healthz/'])('the liveness probe answers at %s', async (path) => {
    expect((await t.agent().get(path).expect(200)).text).toBe('ok');
  });

  it('readiness and metrics still answer at their paths', async () => {
    expect((await t.agent().get('/readyz').expect(200)).body).toEqual({ ready: true });
    await t.agent().get('/metrics').expect(401);
  });

  it('the vendor scripts are served with an hour of caching, not no-store; an unknown one is a 404', async () => {
    const res = await t.agent().get('/public/vendor/zxcvbn-core.js').expect(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expectSecurityHeaders(res.headers as Record<string, string>);
    await t.agent().get('/public/vendor/nothing.js').expect(404);
  });

  it('a form sent chunked, with no Content-Length, is read too', async () => {
    const server = t.site.app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const page = await fetch(`http://127.0.0.1:${port}/login`);
      const cookie = page.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
      const body = new URLSearchParams({ email: 'nobody@example.com', password: 'wrong password', _csrf: csrfFrom(await page.text()) }).toString();
      const status = await new Promise<number>((resolve, reject) => {
        const headers = { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked', cookie };
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/login', headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        req.end(body.slice(10));
      });
      // Past the CSRF check to the password's: the chunked body was read.
      expect(status).toBe(401);
    } finally {
      server.close();
    }
  });

  it('a GET that carries a body still gets its page; a form and a JSON body are still read', async () => {
    await t.agent().get(ARTICLE).set('content-type', 'application/json').send('{"a":1}').expect(200);
    // A form with a valid token gets past CSRF to the password check: only a body that was read can.
    const agent = t.agent();
    const _csrf = await csrfFor(agent, '/login');
    const form = await agent.post('/login').type('form').send({ email: 'nobody@example.com', password: 'wrong password', _csrf }).expect(401);
    expect(form.text).not.toContain('did not come from this site');
    const json = await t.agent().post('/login').set('content-type', 'application/json').send('{"email":1').expect(400);
    expect(json.headers['cache-control']).toBe('no-store');
  });
});
