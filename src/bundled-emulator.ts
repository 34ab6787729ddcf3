import { DEMO_API_KEY, DEMO_EMULATOR_PORT, DEMO_SITE_ID, startEmulator, type RunningEmulator } from 'vf-platform-emulator';
import type { Logger } from './logger';
import { underSetting } from './startup-errors';

/** Where the bundled emulator listens, decided before it starts. */
export interface EmulatorPortChoice {
  /** the port it asks for first; 0 for any free one */
  readonly port: number;
  /** whether it takes any free port when that one is in use */
  readonly anyWhenTaken: boolean;
  /**
   * Set when the usual port was passed over because PORT asks for it: the emulator starts before
   * the site listens, so taking it would make the site fail on a port it took itself.
   */
  readonly movedAside?: { readonly from: number };
}

/**
 * EMULATOR_PORT when set (src/config.ts refuses it equal to PORT); otherwise the usual port of
 * README.md's calls to try, unless the site asks for it.
 */
export function chooseEmulatorPort(sitePort: number, emulatorPort: number | undefined, usualPort: number = DEMO_EMULATOR_PORT): EmulatorPortChoice {
  if (emulatorPort !== undefined) return { port: emulatorPort, anyWhenTaken: false };
  if (sitePort === usualPort) return { port: 0, anyWhenTaken: false, movedAside: { from: usualPort } };
  return { port: usualPort, anyWhenTaken: true };
}

/** The start-up line that says the emulator is not where README.md's calls expect it, and which setting moves it. */
export function movedAsideLine(from: number, url: string): string {
  return `The platform emulator is at ${url}, not on its usual port ${from}: PORT=${from} is the site's; set EMULATOR_PORT to choose the emulator's port`;
}

export interface BundledEmulatorOptions {
  /** the site's PORT */
  sitePort: number;
  /** EMULATOR_PORT, when set */
  emulatorPort: number | undefined;
  logger: Logger;
  /** the port README.md's calls expect (tests give one the OS picked) */
  usualPort?: number | undefined;
}

export type BundledEmulator = RunningEmulator & { siteId: string; apiKey: string; movedAside: EmulatorPortChoice['movedAside'] };

/**
 * No credentials: the platform emulator runs in-process with the documented demo ones
 * (README.md, docs/platform-protocol.md#try-it), on the usual port when it is free, EMULATOR_PORT
 * is unset and PORT is another.
 */
export async function startBundledEmulator(options: BundledEmulatorOptions): Promise<BundledEmulator> {
  const siteId = DEMO_SITE_ID;
  const apiKey = DEMO_API_KEY;
  const choice = chooseEmulatorPort(options.sitePort, options.emulatorPort, options.usualPort);
  // Its admin API moves the clock, injects faults and ends sessions: loopback only, whatever HOST says.
  const host = '127.0.0.1';
  const logger = options.logger.child({ component: 'emulator' });
  const start = (port: number) => startEmulator({ siteId, apiKey, host, port, logger });
  const emulator = await underSetting({ setting: 'EMULATOR_PORT', address: `${host}:${choice.port}` }, () =>
    choice.anyWhenTaken
      ? start(choice.port).catch((error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? start(0) : Promise.reject(error)))
      : start(choice.port),
  );
  return Object.assign(emulator, { siteId, apiKey, movedAside: choice.movedAside });
}
