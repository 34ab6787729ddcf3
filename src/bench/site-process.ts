import { systemClock } from 'vf-login-bridge';
import { createLogger } from '../logger';
import { openSite } from '../site';
import { BENCH_API_KEY, BENCH_SESSION_SECRET, BENCH_SITE_ID } from './settings';
import { exitWithParent, tell, type ParentMessage } from './child';
import { listenOnLoopback } from './listen';

/**
 * The site as `npm start` builds it (openSite, SQLite, argon2id at the OWASP cost, logging at
 * `info` to stdout), in a process of its own. Counts the SQL statements it runs, so the bench can
 * divide them by the page views it sent.
 *
 * BENCH_BRIDGE=off renders every page with the anonymous embed while everything else (session,
 * passport, the reader's row) runs as usual: the difference is what the bridge costs a page.
 */
async function main(): Promise<void> {
  const env = process.env;
  const counts = { statements: 0, writes: 0, sessionWrites: 0 };
  const site = await openSite({
    clock: systemClock,
    logger: createLogger({ level: env['BENCH_LOG_LEVEL'] ?? 'info' }),
    databaseUrl: env['BENCH_DATABASE_URL']!,
    onQuery: (statement) => {
      counts.statements += 1;
      if (!/^\s*select\b/i.test(statement)) {
        counts.writes += 1;
        if (/\b(into|update|from)\s+"sessions"/i.test(statement)) counts.sessionWrites += 1;
      }
    },
    platform: { baseUrl: env['BENCH_API_URL']!, siteId: BENCH_SITE_ID, apiKey: BENCH_API_KEY, embedSrc: env['BENCH_EMBED_SRC']!, timeoutMs: 5000 },
    sessionSecret: BENCH_SESSION_SECRET,
    sessionIdleMs: 7 * 24 * 60 * 60_000,
    trustProxy: false,
    hookSecret: undefined,
    rateLimits: {
      loginPerAccountClient: 1_000_000,
      loginPerAccount: 1_000_000,
      loginPerIp: 1_000_000,
      loginCeiling: 10_000_000,
      registerPerIp: 1_000_000,
      accountChangesPerUser: 1_000_000,
      accountChangesPerIp: 1_000_000,
    },
  });
  if (env['BENCH_BRIDGE'] === 'off') {
    // The one place the bench reaches into the site: the page asks the bridge, which answers "none".
    site.platform.bridge.platformSessionFor = async () => null;
  }
  const server = await listenOnLoopback(site.app);
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') tell({ type: 'stats', ...counts });
  });
  exitWithParent(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await site.close();
  });
  tell({ type: 'ready', url: server.url });
}

void main();
