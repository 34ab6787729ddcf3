import { register } from '../helpers/browser-flow';
import { startTestSite } from '../helpers/site';

const WEEK = 7 * 24 * 60 * 60_000;

/** Expired sessions go with the leased prune job, on one instance a period (docs/architecture.md#the-outbox). */
describe('expired sessions', () => {
  it('are deleted by the prune job, by one instance of several', async () => {
    const first = await startTestSite();
    const second = await first.restart();
    const sessionRows = async () => Number((await first.site.database.db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    try {
      await register(first.agent());
      await register(first.agent());
      const sql = !first.stores.redis;
      if (sql) expect(await sessionRows()).toBe(2);

      first.clock.advance(WEEK + 60_000);
      const runs = await Promise.all([first.site.jobs.run('prune'), second.site.jobs.run('prune')]);
      expect(runs.filter(Boolean)).toHaveLength(1);
      if (sql) expect(await sessionRows()).toBe(0);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
