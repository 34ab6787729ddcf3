import pino, { type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Paths that may hold a secret anywhere they show up in a log object: a request under `req`, a
 * response under `res`, and fields our own log calls use.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers["x-hook-signature"]',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.apiKey',
  '*.api_key',
  '*.sessionSecret',
  '*.hookSecret',
  '*.hookSecrets',
  '*.webhookSecrets',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.idToken',
  '*.logout_token',
  '*.clientSecret',
  '*.client_secret',
  '*.accessToken',
  '*.session',
  '*.platformSession',
  'password',
  'apiKey',
  'sessionSecret',
  'hookSecret',
  'hookSecrets',
  'webhookSecrets',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream; pretty?: boolean } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  // Synchronous writes to stdout: a line is out before the next statement runs, and nothing is
  // left to flush at exit. pino's asynchronous stdout flushes at exit in a loop that retries
  // every error, so a broken pipe (a log reader that went away) would hang the process forever.
  const destination = options.destination ?? (options.pretty ? prettyStdout() : pino.destination({ dest: 1, sync: true }));
  return pino(config, destination);
}

/**
 * pino's own pretty printer, in this process and synchronous like the JSON stream: a request is
 * one line, `HH:MM:ss.l LEVEL: GET /path 200 1.2 ms [request id]` (src/web/request-log.ts), and
 * any other fields follow on the same line.
 */
function prettyStdout(): pino.DestinationStream {
  return pretty({
    destination: 1,
    sync: true,
    colorize: process.stdout.isTTY === true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,reqId,method,path,status,ms',
    messageFormat: '{msg}{if reqId} [{reqId}]{end}',
  });
}

/** `json`: one JSON object a line, for a log collector; `pretty`: short lines for a person. */
export type LogFormat = 'json' | 'pretty';

/**
 * The lines a person reads at start-up and on failure (the address banner, configuration errors,
 * start-up failures). In `pretty` they are printed as they are; in `json` each is a log record
 * with the same words as its `msg`, so a collector that takes one JSON object a line takes them
 * too. Information goes to stdout and failures to stderr in both, whatever LOG_LEVEL says: they
 * are the process's own account of itself, not the request log.
 */
export interface ConsoleLines {
  info(message: string, fields?: object): void;
  /** a line that belongs to the one before: indented in `pretty`, a record of its own in `json` */
  item(message: string): void;
  error(message: string, fields?: object): void;
}

export function createConsoleLines(format: LogFormat): ConsoleLines {
  if (format === 'pretty') {
    return {
      info: (message) => void process.stdout.write(`${message}\n`),
      item: (message) => void process.stdout.write(`  ${message}\n`),
      error: (message) => void process.stderr.write(`${message}\n`),
    };
  }
  const out = createLogger({ level: 'info', destination: pino.destination({ dest: 1, sync: true }) });
  const err = createLogger({ level: 'info', destination: pino.destination({ dest: 2, sync: true }) });
  return {
    info: (message, fields = {}) => out.info(fields, message),
    item: (message) => out.info(message),
    error: (message, fields = {}) => err.error(fields, message),
  };
}

/**
 * In `json`, what Node and the libraries would print on their own becomes log records too:
 * process warnings (Node's own printer is a 'warning' listener, replaced here) and `depd`
 * deprecations (printed to stderr only while nobody listens for 'deprecation').
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => logger.warn({ warning: warning.name, code: warning.code }, warning.message));
  (process as NodeJS.EventEmitter).on('deprecation', (deprecation: Error & { namespace?: string }) =>
    logger.warn({ warning: 'DeprecationWarning', namespace: deprecation.namespace }, deprecation.message),
  );
}

/** A logger that keeps every line in memory: tests read it to prove no secret was logged. */
export function createMemoryLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  return { logger: createLogger({ level, destination }), lines };
}
