import fs from 'node:fs';
import http from 'node:http';
import { systemClock } from './clock';
import { ConfigError, DEFAULT_DATABASE_URL, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { DEMO_API_KEY, DEMO_EMULATOR_PORT, DEMO_SITE_ID, startEmulator, tryItLines, type RunningEmulator } from './emulator';
import { startupFailureLine, underSetting } from './startup-errors';
import { openSite, type Site } from './site';
import { ensureSessionSecret } from './store/session-secret';

/** How often queued platform logouts are retried. */
const DELIVERY_INTERVAL_MS = 5_000;
/** Rows of ended and long-expired host sessions are forgotten this often. */
const PRUNE_INTERVAL_MS = 15 * 60_000;
/** How long SIGTERM waits for in-flight requests before closing the stores regardless. */
const DRAIN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`Configuration error: ${problem}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }

  const logger = createLogger({ level: config.logLevel });
  // The default database's folder is made on first start; any other path's folder must exist.
  if (config.databaseUrl === DEFAULT_DATABASE_URL) fs.mkdirSync('data', { recursive: true });
  const emulator = config.platform.mode === 'emulator' ? await startBundledEmulator(config, logger) : undefined;
  const platform =
    config.platform.mode === 'remote'
      ? config.platform
      : { apiUrl: emulator!.url, embedSrc: emulator!.embedSrc, siteId: emulator!.siteId, apiKey: emulator!.apiKey, timeoutMs: config.platform.timeoutMs };

  const site = await openSite({
    clock: systemClock,
    logger,
    databaseUrl: config.databaseUrl,
    redisUrl: config.sessionStore === 'redis' ? config.redisUrl : undefined,
    platform: { baseUrl: platform.apiUrl, siteId: platform.siteId, apiKey: platform.apiKey, embedSrc: platform.embedSrc, timeoutMs: platform.timeoutMs },
    sessionSecret: config.sessionSecret ?? ensureSessionSecret(config.dataDir),
    sessionIdleMs: config.sessionIdleMs,
    trustProxy: config.trustProxy,
    hookSecret: config.hookSecret,
    rateLimits: config.rateLimits,
    processMetrics: true,
  });

  const server = http.createServer(site.app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  // A proxy reuses its idle connections to the site; if the site closed one first, a request sent
  // on it as it closed would fail at the proxy. So the site waits longer than a load balancer's
  // usual 60 s idle timeout. Browsers on their own keep Node's 5 s.
  if (config.trustProxy) server.keepAliveTimeout = 65_000;
  await underSetting({ setting: 'PORT', address: `${config.host}:${config.port}` }, () => listen(server, config.port, config.host));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ url: `http://${config.host}:${port}`, platform: config.platform.mode }, 'site listening');
  process.stdout.write(`The Harbour Ledger is at http://${config.host}:${port}/` + (emulator ? ` (platform emulator at ${emulator.url})\n${emulatorLines(emulator.url)}` : '\n'));

  const delivery = setInterval(() => void site.platform.bridge.deliverPendingLogouts().catch(() => undefined), DELIVERY_INTERVAL_MS);
  delivery.unref();
  const pruning = setInterval(() => void site.platform.bridge.pruneSessions().catch(() => undefined), PRUNE_INTERVAL_MS);
  pruning.unref();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests');
    clearInterval(delivery);
    clearInterval(pruning);
    void shutdown(server, site, emulator, logger).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Stop accepting, let in-flight requests finish (bounded), then close the stores. */
async function shutdown(server: http.Server, site: Site, emulator: (RunningEmulator & object) | undefined, logger: Logger): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
  await drained;
  clearTimeout(timer);
  await site.close();
  await emulator?.close();
  logger.info('stopped');
}

/** Resolves once listening; a failure to listen (EADDRINUSE, ...) rejects instead of crashing. */
function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The emulator's demo credentials and the calls to try, printed under the start-up line. */
function emulatorLines(url: string): string {
  const lines = [`Platform emulator credentials (demo values): site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY}. Try it:`, ...tryItLines(url, DEMO_SITE_ID, DEMO_API_KEY).map((line) => `  ${line}`)];
  return lines.join('\n') + '\n';
}

/**
 * No credentials: the bundled platform emulator runs in-process with the documented demo ones
 * (README.md, docs/platform-protocol.md#try-it), on the demo port when it is free and
 * EMULATOR_PORT is unset.
 */
async function startBundledEmulator(config: Config, logger: Logger) {
  const siteId = DEMO_SITE_ID;
  const apiKey = DEMO_API_KEY;
  const chosen = config.platform.mode === 'emulator' ? config.platform.emulatorPort : 0;
  const start = (port: number) => startEmulator({ siteId, apiKey, host: config.host, port, logger: logger.child({ component: 'emulator' }) });
  const emulator = await underSetting({ setting: 'EMULATOR_PORT', address: `${config.host}:${chosen ?? DEMO_EMULATOR_PORT}` }, () =>
    chosen !== undefined
      ? start(chosen)
      : start(DEMO_EMULATOR_PORT).catch((error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? start(0) : Promise.reject(error))),
  );
  return Object.assign(emulator, { siteId, apiKey });
}

main().catch((error: unknown) => {
  process.stderr.write(startupFailureLine(error) + '\n');
  process.exit(1);
});
