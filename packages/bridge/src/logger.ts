/**
 * What the bridge needs of a logger: pino's calling convention (an object of fields, then a
 * message), so a pino, bunyan or winston-child logger passes as it is. Fields the bridge logs are
 * codes, counts and statuses, never a token, a secret or an upstream body.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** One JSON line per entry at `level` or above, to stderr: the default when the publisher passes no logger. */
export function createConsoleLogger(level: LogLevel = 'warn', write: (line: string) => void = (line) => void process.stderr.write(line)): Logger {
  const floor = LEVELS.indexOf(level);
  const at = (name: LogLevel) => (fields: object, message?: string) => {
    if (LEVELS.indexOf(name) < floor) return;
    write(`${JSON.stringify({ level: name, time: Date.now(), ...fields, ...(message ? { msg: message } : {}) })}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
