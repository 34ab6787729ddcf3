import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { createClient } from 'redis';
import { waitFor } from './wait-for';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const hasRedisServer = (): boolean => fs.existsSync(REDIS_SERVER);

/** A port the OS says is free now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A Redis server of the test's own on 127.0.0.1, keeping nothing on disk, that the test can kill,
 * restart on the same port, freeze (SIGSTOP) and thaw: what an operator's Redis does on a bad day.
 */
export interface PrivateRedis {
  readonly url: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  freeze(): void;
  thaw(): void;
  flushAll(): Promise<void>;
  close(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const answers = async () => {
    const client = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      if (client.isOpen) client.destroy();
    }
  };

  async function start(): Promise<void> {
    child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    await waitFor(answers, `redis-server on port ${port} to answer`, 10_000);
  }

  async function stop(signal: NodeJS.Signals): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGCONT');
    running.kill(signal);
    await gone;
  }

  await start();
  return {
    url,
    kill: () => stop('SIGKILL'),
    restart: start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async flushAll() {
      const client = createClient({ url });
      await client.connect();
      await client.flushAll();
      client.destroy();
    },
    close: () => stop('SIGKILL'),
  };
}
