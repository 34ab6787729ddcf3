#!/usr/bin/env node
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

/** One line naming EMULATOR_PORT (or EMULATOR_HOST) and what to do. */
function listenFailure(address: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return `EMULATOR_PORT: ${address} is already in use; stop the program listening there, or set EMULATOR_PORT to a free one, or 0 for any`;
  if (code === 'EACCES') return `EMULATOR_PORT: ${address} needs extra privileges; use a port above 1023`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `EMULATOR_HOST: ${address.replace(/:\d+$/, '')} is not an address of this machine; use 127.0.0.1 or 0.0.0.0`;
  return `EMULATOR_PORT: cannot listen on ${address} (${(error as Error).message.split('\n')[0]})`;
}

async function main(): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = emulatorOptionsFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const address = `${options.host}:${options.port}`;
  const emulator = await startEmulator(options).catch((error: unknown) => {
    throw new Error(listenFailure(address, error));
  });
  const demo = options.siteId === DEMO_SITE_ID && options.apiKey === DEMO_API_KEY;
  // The demo credentials are shown, with the calls to try; a key of one's own never is.
  process.stdout.write(
    `Platform emulator (${emulator.profile} dialect) for site "${options.siteId}" listening on ${emulator.url}` +
      (demo ? ` (demo credentials: site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY})\nTry it:\n${tryItLines(emulator.url, DEMO_SITE_ID, DEMO_API_KEY).map((line) => `  ${line}\n`).join('')}` : '\n'),
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`emulator did not close cleanly: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`Emulator start-up failed: ${(error as Error).message.split('\n')[0]}\n`);
    process.exit(1);
  });
}
