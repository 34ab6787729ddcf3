import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may hold a secret anywhere they show up in a log object. pino-http puts the request
 * under `req` and the response under `res`; our own log calls use the same names.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers["x-hook-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.apiKey',
  '*.api_key',
  '*.sessionSecret',
  '*.hookSecret',
  '*.access_token',
  '*.accessToken',
  '*.session',
  '*.platformSession',
  'password',
  'apiKey',
  'sessionSecret',
  'hookSecret',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  // Synchronous writes to stdout: a line is out before the next statement runs, and nothing is
  // left to flush at exit. pino's asynchronous stdout flushes at exit in a loop that retries
  // every error, so a broken pipe (a log reader that went away) would hang the process forever.
  return pino(config, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** A logger that keeps every line in memory: tests read it to prove no secret was logged. */
export function createMemoryLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  return { logger: createLogger({ level, destination }), lines };
}
