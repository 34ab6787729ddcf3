import http from 'node:http';
import type express from 'express';
import session from 'express-session';
import { silentLogger, type Logger, type ViafouraBridgeOptions } from 'vf-login-bridge';
import { TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';

/**
 * The options a publisher's test passes to createViafouraBridge: the test emulator as the
 * platform, on its clock, with the background jobs off (the tests run them) and the app's own
 * MemoryStore; `overrides` changes any of them.
 */
export function publisherOptions(emulator: TestEmulator, database: ViafouraBridgeOptions['database'], overrides: Partial<ViafouraBridgeOptions> = {}): ViafouraBridgeOptions {
  return {
    siteId: TEST_SITE_ID,
    apiKey: TEST_API_KEY,
    apiUrl: emulator.url,
    embedSrc: emulator.embedSrc,
    database,
    sessionStore: new session.MemoryStore(),
    clock: emulator.clock,
    background: false,
    logger: silentLogger,
    ...overrides,
  };
}

/** The app on 127.0.0.1, on a port the system picks. */
export async function listenLocally(app: express.Express): Promise<http.Server> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

export const closeServer = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

export type LogLine = { level: string; fields: Record<string, unknown>; message: string | undefined };

/** A logger that keeps every line: tests read it for the one line a fault must log, and for secrets that must not be there. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (fields: object, message?: string) => void lines.push({ level, fields: fields as Record<string, unknown>, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
