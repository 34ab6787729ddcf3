import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { fixedHeaders, HeadersNotFixedError } from '../../src/web/fixed-headers';

const EMBED = 'http://127.0.0.1:4999';

/** The site's policy shape (src/app.ts): fixed strings only. */
const sitePolicy = (options: { tls: boolean; formAction?: string[] }) =>
  helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'script-src': ["'self'", EMBED],
        'frame-src': [EMBED],
        'form-action': ["'self'", ...(options.formAction ?? [])],
        'upgrade-insecure-requests': options.tls ? [] : null,
      },
    },
  });

/** The headers of one answer, less those that differ per answer anyway. */
async function headersOf(middleware: RequestHandler): Promise<Record<string, string>> {
  const app = express();
  app.use(middleware);
  app.get('/', (_req, res) => void res.send('page'));
  const res = await request(app).get('/').expect(200);
  const { date: _date, etag: _etag, ...rest } = res.headers as Record<string, string>;
  return rest;
}

describe('fixedHeaders', () => {
  it.each([
    ['without TLS', { tls: false }],
    ['behind TLS', { tls: true }],
    ['with more form-action origins', { tls: true, formAction: ['https://consent.example', 'https://idp.example'] }],
  ])('sets exactly what helmet sets, %s', async (_name, options) => {
    const live = await headersOf(sitePolicy(options));
    const fixed = await headersOf(fixedHeaders(sitePolicy(options)));
    expect(fixed).toEqual(live);
    expect(live['content-security-policy']).toContain(`script-src 'self' ${EMBED}`);
    expect('x-powered-by' in fixed).toBe(false);
  });

  it('the policy follows its options: a change of configuration is a change of header', async () => {
    const plain = await headersOf(fixedHeaders(sitePolicy({ tls: false })));
    const withIdp = await headersOf(fixedHeaders(sitePolicy({ tls: true, formAction: ['https://idp.example'] })));
    expect(plain['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(withIdp['content-security-policy']).toContain('upgrade-insecure-requests');
    expect(withIdp['content-security-policy']).toContain("form-action 'self' https://idp.example");
  });

  it('refuses a policy that differs per request (a nonce), at start-up', () => {
    const withNonce = helmet({
      contentSecurityPolicy: { directives: { 'script-src': ["'self'", (_req, res) => `'nonce-${String((res as express.Response).locals.nonce)}'`] } },
    });
    expect(() => fixedHeaders(withNonce)).toThrow(HeadersNotFixedError);
  });

  it('refuses a middleware that reads the request, touches the response otherwise, fails or answers later', () => {
    const readsRequest: RequestHandler = (req, res, next) => {
      res.setHeader('X-Path', req.path);
      next();
    };
    const usesLocals: RequestHandler = (_req, res, next) => {
      res.locals.x = 1;
      next();
    };
    const fails: RequestHandler = (_req, _res, next) => next(new Error('no'));
    const later: RequestHandler = (_req, _res, next) => void setImmediate(next);
    for (const middleware of [readsRequest, usesLocals, fails, later]) {
      expect(() => fixedHeaders(middleware)).toThrow(expect.objectContaining({ code: 'HEADERS_NOT_FIXED' }));
    }
  });
});
