import type TestAgent from 'supertest/lib/agent';
import { TEST_PASSWORD } from './site';

/** The CSRF token of the first form (or the session endpoint) on a page. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

export async function csrfFor(agent: TestAgent, page = '/login'): Promise<string> {
  const res = await agent.get(page).expect(200);
  return csrfFrom(res.text);
}

let counter = 0;
export function uniqueEmail(prefix = 'reader'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}@example.com`;
}

/** Registers through the form, as a browser would; the agent ends logged in. */
export async function register(agent: TestAgent, fields: { email?: string; name?: string; password?: string } = {}) {
  const email = fields.email ?? uniqueEmail();
  const name = fields.name ?? 'Ada Reader';
  const _csrf = await csrfFor(agent, '/register');
  const res = await agent
    .post('/register')
    .type('form')
    .send({ _csrf, email, name, password: fields.password ?? TEST_PASSWORD });
  return { res, email, name };
}

export async function login(agent: TestAgent, email: string, password = TEST_PASSWORD, extra: Record<string, string> = {}) {
  const _csrf = await csrfFor(agent, '/login');
  return agent.post('/login').type('form').send({ _csrf, email, password, ...extra });
}

/** The data-uid / data-sid the page's embed tag carries. */
export function embedTagOf(html: string): { uid: string | null; sid: string | null } {
  const tag = /<script id="viafoura-platform"[^>]*>/.exec(html)?.[0];
  if (!tag) throw new Error('no embed tag on the page');
  return { uid: /data-uid="([^"]*)"/.exec(tag)?.[1] ?? null, sid: /data-sid="([^"]*)"/.exec(tag)?.[1] ?? null };
}

export function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = res.headers['set-cookie'] as string[] | undefined;
  return cookies?.map((c) => /^vfb\.sid=([^;]+)/.exec(c)?.[1]).find(Boolean);
}
