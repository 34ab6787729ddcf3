import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createPlatformHttp, type PlatformHttp } from '../../packages/bridge/src/platform/platform-http';
import { platformErrorOf } from './fixture';

/**
 * A platform stand-in that answers `{"ok":true}` on kept-alive connections and closes a
 * connection without answering when `closeUnanswered` says so: the server side of the
 * keep-alive race, made deterministic.
 */
async function startServer(closeUnanswered: (requestOnConnection: number) => boolean) {
  const served = { connections: 0, requests: 0 };
  const counts = new WeakMap<Socket, number>();
  const server = http.createServer((req, res) => {
    served.requests += 1;
    const nth = (counts.get(req.socket) ?? 0) + 1;
    counts.set(req.socket, nth);
    req.resume();
    req.on('end', () => {
      if (closeUnanswered(nth)) return void req.socket.destroy();
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  server.on('connection', () => (served.connections += 1));
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    served,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const post = (client: PlatformHttp) => client.postForm('login', '/v1/login', 'a=1', 'Bearer t', (reply) => reply);

describe('platform HTTP: kept-alive connections', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let client: PlatformHttp;
  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('sends a call again on a new connection when the server closed the kept-alive one unanswered', async () => {
    server = await startServer((nth) => nth > 1);
    client = createPlatformHttp({ baseUrl: server.url, timeoutMs: 2_000 });

    expect((await post(client)).status).toBe(200);
    // The second call goes out on the kept-alive socket, which the server closes unanswered.
    const second = await post(client);

    expect(second).toEqual({ status: 200, body: '{"ok":true}' });
    expect(server.served).toEqual({ connections: 2, requests: 3 });
  });

  it('does not send a call again when a new connection fails', async () => {
    server = await startServer(() => true);
    client = createPlatformHttp({ baseUrl: server.url, timeoutMs: 2_000 });

    const error = await platformErrorOf(post(client));

    expect(error.code).toBe('PLATFORM_UNAVAILABLE');
    expect(server.served).toEqual({ connections: 1, requests: 1 });
  });

  it('sends a call once more only: a second stale connection fails it', async () => {
    // Each connection answers once, then closes unanswered: every kept-alive socket is stale.
    server = await startServer((nth) => nth > 1);
    client = createPlatformHttp({ baseUrl: server.url, timeoutMs: 2_000 });
    await Promise.all([post(client), post(client)]);
    expect(server.served).toEqual({ connections: 2, requests: 2 });

    const error = await platformErrorOf(post(client));

    expect(error.code).toBe('PLATFORM_UNAVAILABLE');
    expect(server.served).toEqual({ connections: 2, requests: 4 });
  });
});
