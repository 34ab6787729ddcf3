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

/** A logger that keeps every line in memory: tests read it to prove no secret was logged. */
export function createMemoryLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  return { logger: createLogger({ level, destination }), lines };
}
