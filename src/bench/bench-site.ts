import { systemClock } from 'vf-login-bridge';
import { createLogger } from '../logger';
import type { Site, SiteOptions } from '../site';
import { BENCH_API_KEY, BENCH_SESSION_SECRET, BENCH_SITE_ID } from './settings';
import { exitWithParent, tell, type ParentMessage } from './child';
import { listenOnLoopback } from './listen';

/** What the bench counts of a site's statements. */
export interface StatementCounts {
  statements: number;
  writes: number;
  sessionWrites: number;
}

/**
 * The site as `npm start` builds it (openSite, argon2id at the OWASP cost, logging at `info` to
 * stdout), on the bench's emulator and database, with rate limits too high to matter.
 */
export function benchSiteOptions(env: NodeJS.ProcessEnv, onQuery: SiteOptions['onQuery']): SiteOptions {
  return {
    clock: systemClock,
    logger: createLogger({ level: env['BENCH_LOG_LEVEL'] ?? 'info' }),
    databaseUrl: env['BENCH_DATABASE_URL']!,
    // Set for the scale-out variant (src/bench/scale-out-stores.ts): sessions and rate limits in Redis.
    redisUrl: env['BENCH_REDIS_URL'] || undefined,
    redisKeyPrefix: env['BENCH_REDIS_PREFIX'] || undefined,
    onQuery,
    // Off for the variant that measures what counting every request costs (src/bench/main.ts).
    requestMetrics: env['BENCH_REQUEST_METRICS'] !== 'off',
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
  };
}

/** Counts a statement the way the bench reports it: every one, the writes, and the writes to the sessions table. */
export function countStatement(counts: StatementCounts, statement: string): void {
  counts.statements += 1;
  if (/^\s*select\b/i.test(statement)) return;
  counts.writes += 1;
  if (/\b(into|update|from)\s+"sessions"/i.test(statement)) counts.sessionWrites += 1;
}

/** Listens on loopback, answers `stats` with `counts`, stops with the parent, and says it is ready. */
export async function serveBenchSite(site: Site, counts: StatementCounts): Promise<void> {
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
