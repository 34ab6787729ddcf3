import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

/** Listens on 127.0.0.1, on a port the OS picks. */
export async function listenOnLoopback(app: RequestListener): Promise<http.Server & { url: string }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(server, { url: `http://127.0.0.1:${port}` });
}
