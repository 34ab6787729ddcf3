import { startEmulator } from 'vf-platform-emulator';
import { BENCH_API_KEY, BENCH_SITE_ID } from './settings';
import { exitWithParent, tell } from './child';

/** The platform emulator in a process of its own, so its work never shows in the site's CPU. */
async function main(): Promise<void> {
  const emulator = await startEmulator({ siteId: BENCH_SITE_ID, apiKey: BENCH_API_KEY, port: 0 });
  exitWithParent(() => emulator.close());
  tell({ type: 'ready', url: emulator.url, embedSrc: emulator.embedSrc });
}

void main();
