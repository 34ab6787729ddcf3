import path from 'node:path';

/** The settings a start-up step can fail on; each failure names one of them. */
export type StartupSetting = 'PORT' | 'HOST' | 'EMULATOR_PORT' | 'DATABASE_URL' | 'REDIS_URL' | 'DATA_DIR';

/**
 * A start-up step that failed, tied to the setting to change. Its message is the one line
 * server.ts prints: the setting, what went wrong, and what to do. Never a URL's password.
 */
export class StartupError extends Error {
  constructor(
    readonly setting: StartupSetting,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${detail}`, options);
    this.name = 'StartupError';
  }
}

type ErrnoLike = Error & { code?: unknown; errors?: unknown; originalError?: unknown; socketError?: unknown };

/**
 * The error's code, looking inside an AggregateError (a host name with both IPv4 and IPv6
 * addresses) and the wrappers drivers put around a socket error (`cause`, node-redis's
 * `originalError`/`socketError`).
 */
function codeOf(error: unknown, depth = 0): string | undefined {
  const e = error as ErrnoLike | undefined;
  if (!e || typeof e !== 'object' || depth > 3) return undefined;
  if (typeof e.code === 'string') return e.code;
  const inner = [...(Array.isArray(e.errors) ? e.errors : []), e.cause, e.originalError, e.socketError];
  return inner.map((cause) => codeOf(cause, depth + 1)).find((code) => code !== undefined);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

/** Where a database URL points, without its credentials: a file path, or host:port/database. */
export function databaseTarget(url: string): string {
  if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length);
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the PostgreSQL server';
  }
}

/** Where a Redis URL points, without its credentials. */
export function redisTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '6379'}`;
  } catch {
    return 'the Redis server';
  }
}

/**
 * What pg says, without a code, when it reached a host but no PostgreSQL answered: nothing came
 * back within its connect timeout (an unroutable address, a firewall that drops), or something
 * took the connection and closed it (a proxy, another service on that port).
 */
const POSTGRES_UNANSWERED: ReadonlyArray<[RegExp, string]> = [
  [/connection timeout|timeout exceeded when trying to connect/i, 'timed out'],
  [/^Connection terminated unexpectedly/, 'the connection was closed before PostgreSQL answered'],
];

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

/** PostgreSQL's own SQLSTATE codes for "you may not come in". */
const POSTGRES_REFUSALS: Record<string, string> = {
  '28P01': 'password authentication failed',
  '28000': 'this user may not connect',
  '3D000': 'the database does not exist',
  '53300': 'too many connections',
  '57P03': 'the server is starting up or shutting down',
};

function listenDetail(setting: 'PORT' | 'EMULATOR_PORT', address: string, error: unknown): StartupError {
  const code = codeOf(error);
  if (code === 'EADDRINUSE') {
    const what = setting === 'PORT' ? 'set PORT (or HOST) to a free one, e.g. PORT=3001 npm start' : 'set EMULATOR_PORT to a free one, or 0 for any';
    return new StartupError(setting, `${address} is already in use; stop the program listening there, or ${what}`, { cause: error });
  }
  if (code === 'EACCES') return new StartupError(setting, `${address} needs extra privileges; use a port above 1023`, { cause: error });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new StartupError('HOST', `${address.replace(/:\d+$/, '')} is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own`, { cause: error });
  }
  const what = setting === 'PORT' ? 'set PORT (or HOST) to another' : 'set EMULATOR_PORT to another, or 0 for any';
  return new StartupError(setting, `cannot listen on ${address} (${firstLine(error)}); ${what}`, { cause: error });
}

function databaseDetail(url: string, error: unknown): StartupError {
  const target = databaseTarget(url);
  const code = codeOf(error);
  if (url.startsWith('sqlite:')) {
    if (code === 'DATABASE_FOLDER_MISSING') {
      return new StartupError('DATABASE_URL', `the folder ${path.dirname(target)} does not exist; create it, or point DATABASE_URL at a file in an existing folder`, { cause: error });
    }
    return new StartupError('DATABASE_URL', `cannot open the SQLite file ${target} (${firstLine(error)}); check the path and that the folder is writable`, { cause: error });
  }
  if (code && UNREACHABLE[code]) {
    return new StartupError('DATABASE_URL', `cannot reach PostgreSQL at ${target} (${UNREACHABLE[code]}); start it, or fix DATABASE_URL`, { cause: error });
  }
  if (code && POSTGRES_REFUSALS[code]) {
    return new StartupError('DATABASE_URL', `PostgreSQL at ${target} refused: ${POSTGRES_REFUSALS[code]}; fix DATABASE_URL`, { cause: error });
  }
  const unanswered = POSTGRES_UNANSWERED.find(([pattern]) => pattern.test(firstLine(error)))?.[1];
  if (unanswered) {
    return new StartupError('DATABASE_URL', `cannot reach PostgreSQL at ${target} (${unanswered}); start it, or fix DATABASE_URL`, { cause: error });
  }
  return new StartupError('DATABASE_URL', `cannot open the database at ${target} (${firstLine(error)}); check that PostgreSQL runs there, and fix DATABASE_URL (host, port, database, sslmode)`, { cause: error });
}

function redisDetail(url: string, error: unknown): StartupError {
  const target = redisTarget(url);
  const code = codeOf(error);
  const reason = (code && UNREACHABLE[code]) ?? firstLine(error);
  return new StartupError('REDIS_URL', `cannot reach Redis at ${target} (${reason}); start it, or fix REDIS_URL`, { cause: error });
}

function dataDirDetail(dir: string, error: unknown): StartupError {
  return new StartupError('DATA_DIR', `cannot keep the session secret in ${dir} (${firstLine(error)}); point DATA_DIR at a folder this user can write, or set SESSION_SECRET`, { cause: error });
}

type Step =
  | { setting: 'PORT' | 'EMULATOR_PORT'; address: string }
  | { setting: 'DATABASE_URL' | 'REDIS_URL'; url: string }
  | { setting: 'DATA_DIR'; path: string };

/** The StartupError for one failed step, naming the setting behind it and what to do. */
function detailOf(step: Step, error: unknown): StartupError {
  if ('path' in step) return dataDirDetail(step.path, error);
  if ('url' in step) return step.setting === 'DATABASE_URL' ? databaseDetail(step.url, error) : redisDetail(step.url, error);
  return listenDetail(step.setting, step.address, error);
}

/** Runs one start-up step; a failure becomes a StartupError naming the setting behind it. */
export async function underSetting<T>(step: Step, task: () => T | Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw detailOf(step, error);
  }
}

/**
 * What to do about a failure no step recognised: its whole error is printed by server.ts only
 * with LOG_LEVEL=debug or trace, so the one line stays one line.
 */
const UNKNOWN_FAILURE_ADVICE = 'run again with LOG_LEVEL=debug to see the whole error';

/** The one line printed when start-up fails: the setting to change when it is known, and always what to do. */
export function startupFailureLine(error: unknown): string {
  if (error instanceof StartupError) return `Start-up failed: ${error.message}`;
  return `Start-up failed: ${firstLine(error)}; ${UNKNOWN_FAILURE_ADVICE}`;
}

/** The fields of that line as a log record (LOG_FORMAT=json): a stable code, and the setting when it is known. */
export function startupFailureFields(error: unknown): { code: 'STARTUP_FAILED'; setting?: StartupSetting } {
  return error instanceof StartupError ? { code: 'STARTUP_FAILED', setting: error.setting } : { code: 'STARTUP_FAILED' };
}

/** The fields of one `Configuration error: <SETTING>: <problem>` line as a log record. */
export function configErrorFields(problem: string): { code: 'CONFIG_INVALID'; setting: string } {
  return { code: 'CONFIG_INVALID', setting: problem.slice(0, Math.max(0, problem.indexOf(':'))) || problem };
}
