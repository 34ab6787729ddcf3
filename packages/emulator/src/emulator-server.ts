import type { AddressInfo } from 'node:net';
import { createEmulatorApp } from './emulator-app';
import type { EmulatorOptions, RunningEmulator } from './types';

/** Starts the emulator on `host:port` (default 127.0.0.1 and a port the OS picks). */
export function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  const emulator = createEmulatorApp(options);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;

  return new Promise((resolve, reject) => {
    const server = emulator.app.listen(port, host);
    const fail = (error: Error) => {
      emulator.dispose();
      reject(error);
    };
    server.once('error', fail);
    server.once('listening', () => {
      server.off('error', fail);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const url = `http://${shownHost}:${address.port}`;
      let closing: Promise<void> | undefined;
      resolve({
        url,
        embedSrc: `${url}/embed.js`,
        faults: emulator.faults,
        clock: emulator.clock,
        stats: emulator.stats,
        sessionInfo: emulator.sessionInfo,
        userByHostId: emulator.userByHostId,
        lastRequest: emulator.lastRequest,
        profile: emulator.profile,
        grantCounts: emulator.grantCounts,
        revokeRefreshTokens: emulator.revokeRefreshTokens,
        close: () => {
          closing ??= new Promise<void>((done, fail) => {
            emulator.dispose();
            server.close((error) => (error ? fail(error) : done()));
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
