#!/usr/bin/env node
import { createConsoleLogger } from 'vf-login-bridge';
import { startEmulator } from './emulator-server';
import { EMULATOR_PROFILES, isEmulatorProfile } from './profiles';
import { DEMO_API_KEY, DEMO_EMULATOR_PORT, DEMO_SITE_ID, tryItLines } from './demo-credentials';
import type { EmulatorOptions } from './types';

/**
 * The standalone emulator's settings from its environment. It is its own program, apart from
 * the site, so it reads its own few variables here. Throws one line naming a bad variable.
 */
export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  const portText = env['EMULATOR_PORT'] ?? String(DEMO_EMULATOR_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`EMULATOR_PORT must be a port number from 0 to 65535, got "${portText}"`);
  }
  const siteId = env['VF_SITE_ID'] || DEMO_SITE_ID;
  if (siteId.includes(':')) throw new Error('VF_SITE_ID must not contain ":"');
  const profile = env['EMULATOR_PROFILE'] || 'viafoura';
  if (!isEmulatorProfile(profile)) throw new Error(`EMULATOR_PROFILE must be one of ${EMULATOR_PROFILES.join(', ')}, got "${profile}"`);
  return {
    ...(profile !== 'viafoura' ? { profile } : {}),
    siteId,
    apiKey: env['VF_API_KEY'] || DEMO_API_KEY,
    host: env['EMULATOR_HOST'] || '127.0.0.1',
    port,
  };
}

/** What the program prints: its banner on stdout, a failure on stderr. */
export interface EmulatorLines {
  info(message: string): void;
  /** a line that belongs to the one before: indented in plain text, a record of its own in JSON */
  item(message: string): void;
  error(message: string): void;
}

/**
 * `LOG_FORMAT=json` (the site's setting, README.md#configuration): each line is one JSON record
 * with the same words as its `msg`, for a log collector; otherwise plain lines for a person.
 */
export function emulatorLinesFor(env: NodeJS.ProcessEnv): EmulatorLines {
  if (env['LOG_FORMAT'] !== 'json') {
    return {
      info: (message) => void process.stdout.write(`${message}\n`),
      item: (message) => void process.stdout.write(`  ${message}\n`),
      error: (message) => void process.stderr.write(`${message}\n`),
    };
  }
  const out = createConsoleLogger('info', (line) => void process.stdout.write(line));
  const err = createConsoleLogger('info', (line) => void process.stderr.write(line));
  return { info: (message) => out.info({}, message), item: (message) => out.info({}, message), error: (message) => err.error({}, message) };
}

/** One line naming EMULATOR_PORT (or EMULATOR_HOST) and what to do. */
export function listenFailure(address: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return `EMULATOR_PORT: ${address} is already in use; stop the program listening there, or set EMULATOR_PORT to a free one, or 0 for any`;
  if (code === 'EACCES') return `EMULATOR_PORT: ${address} needs extra privileges; use a port above 1023`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `EMULATOR_HOST: ${address.replace(/:\d+$/, '')} is not an address of this machine; use 127.0.0.1 or 0.0.0.0`;
  return `EMULATOR_PORT: cannot listen on ${address} (${(error as Error).message.split('\n')[0]}); set EMULATOR_PORT to a free port, or 0 for any`;
}

async function main(lines: EmulatorLines): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = emulatorOptionsFromEnv(process.env);
  } catch (error) {
    lines.error((error as Error).message);
    process.exit(1);
  }
  const address = `${options.host}:${options.port}`;
  const emulator = await startEmulator(options).catch((error: unknown) => {
    throw new Error(listenFailure(address, error));
  });
  const demo = options.siteId === DEMO_SITE_ID && options.apiKey === DEMO_API_KEY;
  // The demo credentials are shown, with the calls to try; a key of one's own never is.
  lines.info(`Platform emulator (${emulator.profile} dialect) for site "${options.siteId}" listening on ${emulator.url}` + (demo ? ` (demo credentials: site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY})` : ''));
  if (demo) {
    lines.info('Try it:');
    for (const line of tryItLines(emulator.url, DEMO_SITE_ID, DEMO_API_KEY)) lines.item(line);
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        lines.error(`emulator did not close cleanly: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  const lines = emulatorLinesFor(process.env);
  main(lines).catch((error: unknown) => {
    lines.error(`Emulator start-up failed: ${(error as Error).message.split('\n')[0]}`);
    process.exit(1);
  });
}
