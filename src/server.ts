import fs from 'node:fs';
import http from 'node:http';
import { systemClock } from 'vf-login-bridge';
import { ConfigError, DEFAULT_DATABASE_URL, loadConfig, logFormatOf, type Config } from './config';
import { createConsoleLines, createLogger, logProcessWarnings, type ConsoleLines, type Logger } from './logger';
import { DEMO_API_KEY, DEMO_SITE_ID, tryItLines, type RunningEmulator } from 'vf-platform-emulator';
import { configErrorFields, startupFailureFields, startupFailureLine, StartupError, underSetting } from './startup-errors';
import { movedAsideLine, startBundledEmulator } from './bundled-emulator';
import { openSite, type Site } from './site';
import { ensureSessionSecret } from './store/session-secret';
import { createSmtpTransport } from './mail/transport';

/** The part of the shutdown deadline given to in-flight requests; the rest is for closing the stores. */
const DRAIN_SHARE = 0.6;

/** The banner and failure lines, in the log's format (README.md#configuration, LOG_FORMAT). */
let consoleLines: ConsoleLines = createConsoleLines(logFormatOf(process.env, process.stdout.isTTY === true));

async function main(): Promise<void> {
  // A log reader that went away (EPIPE) must neither crash nor stall the site: its output is lost.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  // Readable lines for a person (a terminal, or anywhere outside production); JSON for a log
  // shipper, from the first line on: LOG_FORMAT may come from .env.
  const format = logFormatOf(process.env, process.stdout.isTTY === true);
  consoleLines = createConsoleLines(format);
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) consoleLines.error(`Configuration error: ${problem}`, configErrorFields(problem));
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }

  const logger = createLogger({ level: config.logLevel, pretty: format === 'pretty' });
  if (format === 'json') {
    logProcessWarnings(logger);
    // Node's own report of a crash is a multi-line stack trace: a collector gets one record instead.
    process.on('uncaughtException', (error) => {
      logger.fatal({ err: error }, 'uncaught exception; exiting');
      process.exit(1);
    });
  }
  for (const warning of config.warnings) logger.warn(warning);
  // The default database's folder is made on first start; any other path's folder must exist.
  if (config.databaseUrl === DEFAULT_DATABASE_URL) await underSetting({ setting: 'DATABASE_URL', url: config.databaseUrl }, () => fs.mkdirSync('data', { recursive: true }));
  const sessionSecret = config.sessionSecret ?? (await underSetting({ setting: 'DATA_DIR', path: config.dataDir }, () => ensureSessionSecret(config.dataDir)));
  const emulator = config.platform.mode === 'emulator' ? await startBundledEmulator({ sitePort: config.port, emulatorPort: config.platform.emulatorPort, logger }) : undefined;
  const platform =
    config.platform.mode === 'remote'
      ? config.platform
      : { apiUrl: emulator!.url, embedSrc: emulator!.embedSrc, siteId: emulator!.siteId, apiKey: emulator!.apiKey, timeoutMs: config.platform.timeoutMs };

  const site = await openSite({
    clock: systemClock,
    logger,
    databaseUrl: config.databaseUrl,
    redisUrl: config.sessionStore === 'redis' ? config.redisUrl : undefined,
    redisKeyPrefix: config.redisKeyPrefix,
    schedule: { reconcileEveryMs: config.reconcileEveryMs },
    platform: {
      baseUrl: platform.apiUrl,
      siteId: platform.siteId,
      apiKey: platform.apiKey,
      embedSrc: platform.embedSrc,
      timeoutMs: platform.timeoutMs,
      token: config.platform.mode === 'remote' ? config.platform.token : undefined,
      tokenEncryptionKeys: config.tokens.encryptionKeys,
      options: { reconcileGraceMs: config.reconcileGraceMs },
    },
    adminEmails: config.tokens.adminEmails,
    login: config.login,
    mail: {
      // No SMTP_URL outside production: the development inbox at /dev/mail (src/config.ts refuses that in production).
      transport: config.mail.smtpUrl ? createSmtpTransport(config.mail.smtpUrl, config.mail.from) : undefined,
      publicUrl: config.mail.publicUrl ?? `http://${config.host}:${config.port}`,
    },
    sessionSecret,
    sessionIdleMs: config.sessionIdleMs,
    sessionAbsoluteMs: config.sessionAbsoluteMs,
    sessionMaxPerUser: config.sessionMaxPerUser,
    metricsToken: config.metricsToken,
    trustProxy: config.trustProxy,
    hookSecret: config.hookSecret,
    hookSecrets: config.hookSecrets,
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
  // Ready for a signal before the banner says the site is up: whoever reads the banner may stop it at once.
  stopOnSignals(server, site, emulator, logger, config.shutdownTimeoutMs);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ url: `http://${config.host}:${port}`, platform: config.platform.mode }, 'site listening');
  const siteUrl = `http://${config.host}:${port}`;
  consoleLines.info(`The Harbour Ledger is at ${siteUrl}/` + (emulator ? ` (platform emulator at ${emulator.url})` : ''), { url: siteUrl, emulatorUrl: emulator?.url });
  if (emulator?.movedAside) consoleLines.info(movedAsideLine(emulator.movedAside.from, emulator.url), { emulatorUrl: emulator.url });
  if (emulator) printEmulatorLines(emulator.url);
  if (site.devInbox) consoleLines.info(`Mail is not sent (no SMTP_URL): read it at ${siteUrl}/dev/mail`);

  site.jobs.start();
}

/**
 * SIGTERM and SIGINT drain requests, stop the jobs and close the stores, within `deadlineMs`; a
 * second signal exits at once.
 */
function stopOnSignals(server: http.Server, site: Site, emulator: (RunningEmulator & object) | undefined, logger: Logger, deadlineMs: number): void {
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal means "now": an operator who pressed Ctrl-C twice is not kept waiting.
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal, deadlineMs: deadlineMs }, 'shutting down: draining requests');
    // Whatever is still pending at the deadline (a hung store, a request that never ends),
    // the process exits; a supervisor then sees a non-zero code and the log line says why.
    const deadline = setTimeout(() => {
      logger.error({ code: 'SHUTDOWN_TIMEOUT' }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    void shutdown(server, site, emulator, logger, deadlineMs * DRAIN_SHARE).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Stop accepting, let in-flight requests finish (bounded), then stop the jobs and close the stores. */
async function shutdown(server: http.Server, site: Site, emulator: (RunningEmulator & object) | undefined, logger: Logger, drainMs: number): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), drainMs);
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
function printEmulatorLines(url: string): void {
  consoleLines.info(`Platform emulator credentials (demo values): site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY}. Try it:`);
  for (const line of tryItLines(url, DEMO_SITE_ID, DEMO_API_KEY)) consoleLines.item(line);
}

main().catch((error: unknown) => {
  consoleLines.error(startupFailureLine(error), startupFailureFields(error));
  // The one line's advice for an error no step recognised (src/startup-errors.ts): its whole account.
  const level = process.env['LOG_LEVEL'];
  if (!(error instanceof StartupError) && (level === 'debug' || level === 'trace')) {
    consoleLines.error(`The whole error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, { code: 'STARTUP_FAILED' });
  }
  process.exit(1);
});
