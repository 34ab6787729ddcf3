import { startEmulator } from './emulator-server';
import { EMULATOR_PROFILES, isEmulatorProfile } from './profiles';
import type { EmulatorOptions } from './types';

const DEFAULT_PORT = 4010;

/**
 * The standalone emulator's settings from its environment. It is its own program, apart from
 * the site, so it reads its own few variables here. Throws one line naming a bad variable.
 */
export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv): EmulatorOptions {
  const portText = env['EMULATOR_PORT'] ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`EMULATOR_PORT must be a port number from 0 to 65535, got "${portText}"`);
  }
  const siteId = env['VF_SITE_ID'] || 'demo-site';
  if (siteId.includes(':')) throw new Error('VF_SITE_ID must not contain ":"');
  const profile = env['EMULATOR_PROFILE'] || 'viafoura';
  if (!isEmulatorProfile(profile)) throw new Error(`EMULATOR_PROFILE must be one of ${EMULATOR_PROFILES.join(', ')}, got "${profile}"`);
  return {
    ...(profile !== 'viafoura' ? { profile } : {}),
    siteId,
    apiKey: env['VF_API_KEY'] || 'demo-key',
    host: env['EMULATOR_HOST'] || '127.0.0.1',
    port,
  };
}

async function main(): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = emulatorOptionsFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const emulator = await startEmulator(options);
  // The site id is shown to help point a client at it; the API key never is.
  process.stdout.write(`Platform emulator (${emulator.profile} dialect) for site "${options.siteId}" listening on ${emulator.url}\n`);

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
    process.stderr.write(`emulator failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
