import request from 'supertest';
import type { Express } from 'express';
import type { Test } from 'supertest';
import { csrfFrom } from '../helpers/browser-flow';
import { TEST_PASSWORD } from '../helpers/site';

/**
 * A browser reaching the site through its TLS-terminating proxy (TRUST_PROXY=true) from one client
 * IP. It keeps its own cookies, Secure and `__Host-` ones included, which a plain http agent would
 * not send back.
 */
export function proxiedBrowser(app: Express, ip: string) {
  const jar = new Map<string, string>();
  const keep = (res: request.Response) => {
    for (const line of (res.headers['set-cookie'] as unknown as string[] | undefined) ?? []) {
      const pair = line.split(';')[0]!;
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  const send = async (test: Test) => {
    test.set('X-Forwarded-For', ip).set('X-Forwarded-Proto', 'https');
    if (jar.size > 0) test.set('Cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    return keep(await test);
  };
  const browser = {
    ip,
    jar,
    get: (path: string) => send(request(app).get(path)),
    postForm: (path: string, fields: Record<string, string>) => send(request(app).post(path).type('form').send(fields)),
    /** Opens the page's form and posts it with its CSRF token, as a person would. */
    async submit(page: string, action: string, fields: Record<string, string>) {
      const _csrf = csrfFrom((await browser.get(page)).text);
      return browser.postForm(action, { _csrf, ...fields });
    },
    login: (email: string, password = TEST_PASSWORD) => browser.submit('/login', '/login', { email, password }),
    register: (email: string, password = TEST_PASSWORD, name = 'Owen Owner') => browser.submit('/register', '/register', { email, name, password }),
  };
  return browser;
}

export type ProxiedBrowser = ReturnType<typeof proxiedBrowser>;
