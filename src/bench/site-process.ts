import { openSite } from '../site';
import { benchSiteOptions, countStatement, serveBenchSite } from './bench-site';

/**
 * The site as `npm start` builds it (src/bench/bench-site.ts; SQLite, or PostgreSQL + Redis), in a
 * process of its own. Counts the SQL statements it runs, so the bench can divide them by the page
 * views it sent.
 *
 * BENCH_BRIDGE=off renders every page with the anonymous embed while everything else (session,
 * passport, the reader's row) runs as usual: the difference is what the bridge costs a page.
 */
async function main(): Promise<void> {
  const counts = { statements: 0, writes: 0, sessionWrites: 0 };
  const site = await openSite(benchSiteOptions(process.env, (statement) => countStatement(counts, statement)));
  if (process.env['BENCH_BRIDGE'] === 'off') {
    // The one place the bench reaches into the site: the page asks the bridge, which answers "none".
    site.platform.bridge.platformSessionFor = async () => null;
  }
  await serveBenchSite(site, counts);
}

void main();
