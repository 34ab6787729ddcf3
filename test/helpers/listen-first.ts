import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server on 127.0.0.1 and a port the OS picks, listening before it has anything to answer with. */
export interface EarlyServer {
  /** `http://127.0.0.1:<port>`, no trailing slash */
  base: string;
  serve(handler: http.RequestListener): void;
  close(): Promise<void>;
}

/**
 * The port is taken first, so a site can be built knowing its own address (a connect callback, the
 * links in its mail, the URIs an OpenID Provider is told about); it then answers on it.
 */
export async function listenFirst(): Promise<EarlyServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (handler) => void server.on('request', handler),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
