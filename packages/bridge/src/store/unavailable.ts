import { AppError } from '../errors';

/** The database cannot be reached or is shutting down: the request may succeed in a moment. */
export class DatabaseUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super('DATABASE_UNAVAILABLE', 'The site cannot reach its database just now. Please try again in a moment.', { cause });
  }
}

/** Socket-level failures of any client: the server is not there, or went away mid-call. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs that mean "not now" rather than "wrong query": class 08 (connection
 * exception), 57P01-57P03 (the server is shutting down, crashed or starting), 57014 (the
 * statement timeout fired), 53300 (too many connections). SQLite's SQLITE_BUSY is the same
 * thing for the embedded store: another writer held the lock past the busy timeout.
 */
const UNAVAILABLE_STATES = /^(08...|57P0[123]|57014|53300|SQLITE_BUSY.*)$/;

/** What node-postgres says, without a code, when a connection dies or cannot be had in time. */
const PG_CLIENT_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code))) return true;
  return PG_CLIENT_MESSAGES.test(error.message);
}
