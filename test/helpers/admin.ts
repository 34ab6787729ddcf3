import type TestAgent from 'supertest/lib/agent';
import { createUserStore } from '../../src/store/user-store';
import { register } from './browser-flow';
import type { TestSite } from './site';

/** Gives `email`'s account the administrator role, as `npm run admin -- grant` does; it is read on every request. */
export async function grantAdmin(t: TestSite, email: string): Promise<void> {
  await createUserStore(t.site.database.db, t.clock).setRole(email, 'admin');
}

/** The operator: an agent logged in to a new account holding the administrator role. */
export async function adminAgent(t: TestSite, email: string, name = 'Operator'): Promise<TestAgent> {
  const agent = t.agent();
  await register(agent, { email, name });
  await grantAdmin(t, email);
  return agent;
}
