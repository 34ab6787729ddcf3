import { waitFor } from '../helpers/wait-for';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { killAllSiteProcesses, startSiteProcess } from '../helpers/site-process';
import { makeTempDir } from '../helpers/temp-database';
import { runToExit } from '../helpers/run-to-exit';

const ROOT = path.join(__dirname, '..', '..');
const SERVER = path.join(ROOT, 'src', 'server.ts');

/** Runs the server to its end (it must fail to start). */
const runServer = (env: Record<string, string>, cwd: string) => runToExit(SERVER, [], { HOST: '127.0.0.1', ...env }, cwd);

/** A port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const lines = (text: string) => text.trim().split('\n');

/** A PostgreSQL address that takes connections and never answers, as one behind a dropping firewall would look. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return { port: (server.address() as net.AddressInfo).port, close };
}

describe('start-up failures: one line naming the setting, and what to do', () => {
  const temp = makeTempDir('vf-startup-');
  const env = () => ({ DATA_DIR: path.join(temp.dir, 'secret'), DATABASE_URL: `sqlite:${path.join(temp.dir, 'site.db')}` });

  afterAll(async () => {
    await killAllSiteProcesses();
    temp.remove();
  });

  it('a port already in use names PORT and HOST', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const run = await runServer({ ...env(), PORT: String(port), VF_SITE_ID: 's', VF_API_KEY: 'k' }, temp.dir);
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toEqual([`Start-up failed: PORT: 127.0.0.1:${port} is already in use; stop the program listening there, or set PORT (or HOST) to a free one, e.g. PORT=3001 npm start`]);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('EMULATOR_PORT equal to PORT is refused before anything listens, naming EMULATOR_PORT', async () => {
    const port = await closedPort();
    const run = await runServer({ ...env(), PORT: String(port), EMULATOR_PORT: String(port) }, temp.dir);
    expect(run.code).toBe(78);
    expect(lines(run.stderr)).toEqual([`Configuration error: EMULATOR_PORT: ${port} is PORT too; set EMULATOR_PORT to another port, or 0 for any free one`]);
  });

  it('four configuration mistakes are reported at once, one line each', async () => {
    const run = await runServer({ PORT: 'eighty', DATABASE_URL: 'mysql://db/site', SESSION_STORE: 'redis', VF_SITE_ID: 'acme' }, temp.dir);
    expect(run.code).toBe(78);
    expect(lines(run.stderr).sort()).toEqual(
      [
        'Configuration error: DATABASE_URL: must be sqlite:<path> or postgres://...',
        'Configuration error: PORT: must be a port number from 0 to 65535',
        'Configuration error: REDIS_URL: required when SESSION_STORE=redis',
        'Configuration error: VF_API_KEY: required with VF_TOKEN_GRANT=client_credentials',
      ].sort(),
    );
  });

  it('an unreachable PostgreSQL names DATABASE_URL, without its password', async () => {
    const port = await closedPort();
    const run = await runServer({ ...env(), PORT: '0', DATABASE_URL: `postgres://reader:hunter2-secret@127.0.0.1:${port}/site` }, temp.dir);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([`Start-up failed: DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:${port}/site (connection refused); start it, or fix DATABASE_URL`]);
    expect(run.stdout + run.stderr).not.toContain('hunter2');
  });

  it('a PostgreSQL that never answers names DATABASE_URL and what to do, within its connect timeout', async () => {
    const silent = await silentServer();
    try {
      const run = await runServer({ ...env(), PORT: '0', DATABASE_URL: `postgres://reader:hunter2-secret@127.0.0.1:${silent.port}/site` }, temp.dir);
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toEqual([`Start-up failed: DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:${silent.port}/site (timed out); start it, or fix DATABASE_URL`]);
      expect(run.stdout + run.stderr).not.toContain('hunter2');
    } finally {
      await silent.close();
    }
  });

  it('an unroutable PostgreSQL host names DATABASE_URL and what to do', async () => {
    // What comes back depends on the network: no route, a timeout, or a middlebox that takes the
    // connection and closes it. Each is one line that ends with what to do.
    const run = await runServer({ ...env(), PORT: '0', DATABASE_URL: 'postgres://10.255.255.1/x' }, temp.dir);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^Start-up failed: DATABASE_URL: cannot reach PostgreSQL at 10\.255\.255\.1:5432\/x \([^)]+\); start it, or fix DATABASE_URL$/)]);
  });

  it('a DATA_DIR that cannot hold the session secret names DATA_DIR and what to do', async () => {
    const file = path.join(temp.dir, 'a-file');
    fs.writeFileSync(file, '');
    const run = await runServer({ ...env(), PORT: '0', DATA_DIR: path.join(file, 'data') }, temp.dir);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^Start-up failed: DATA_DIR: cannot keep the session secret in ${path.join(file, 'data')} \\(ENOTDIR: [^)]+\\); point DATA_DIR at a folder this user can write, or set SESSION_SECRET$`)),
    ]);
  });

  it('an unreachable Redis names REDIS_URL instead of waiting for ever', async () => {
    const port = await closedPort();
    const run = await runServer({ ...env(), PORT: '0', SESSION_STORE: 'redis', REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` }, temp.dir);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([`Start-up failed: REDIS_URL: cannot reach Redis at 127.0.0.1:${port} (connection refused); start it, or fix REDIS_URL`]);
    expect(run.stdout + run.stderr).not.toContain('hunter2');
  });

  it('a SQLite file in a folder that does not exist names DATABASE_URL, and no folder is made', async () => {
    const file = path.join(temp.dir, 'no-such-folder', 'site.db');
    const run = await runServer({ ...env(), PORT: '0', DATABASE_URL: `sqlite:${file}` }, temp.dir);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([`Start-up failed: DATABASE_URL: the folder ${path.dirname(file)} does not exist; create it, or point DATABASE_URL at a file in an existing folder`]);
    expect(fs.existsSync(path.dirname(file))).toBe(false);
  });

  it('a SQLite path that cannot be opened names DATABASE_URL', async () => {
    const run = await runServer({ ...env(), PORT: '0', DATABASE_URL: `sqlite:${temp.dir}` }, temp.dir);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([`Start-up failed: DATABASE_URL: cannot open the SQLite file ${temp.dir} (unable to open database file); check the path and that the folder is writable`]);
  });

  it('with no settings at all, the default ./data folder is made and the emulator prints its demo credentials and the calls to try', async () => {
    const fresh = makeTempDir('vf-first-start-');
    try {
      const site = await startSiteProcess({ env: { NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' }, cwd: fresh.dir });
      expect(fs.existsSync(path.join(fresh.dir, 'data', 'site.db'))).toBe(true);
      // The first line and the three calls under it, ready to paste; each line is a write of its own, after the banner.
      await waitFor(() => site.output().stdout.includes('/rest/v1/accounts/logout'), 'the emulator lines after the banner');
      const { stdout } = site.output();
      const emulatorUrl = /\(platform emulator at (http:\/\/[^\s)]+)\)/.exec(stdout)?.[1];
      expect(stdout).toContain('Platform emulator credentials (demo values): site demo-site, API key demo-key.');
      expect(stdout).toContain(`curl --user demo-site:demo-key -d grant_type=client_credentials -d scope=accounts ${emulatorUrl}/oauth2/token`);
      expect(stdout).toContain(`${emulatorUrl}/rest/v1/accounts/login`);
      expect(stdout).toContain(`${emulatorUrl}/rest/v1/accounts/logout`);
      // The demo credentials open that emulator, as the first curl line would.
      const token = await fetch(`${emulatorUrl}/oauth2/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${Buffer.from('demo-site:demo-key').toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=accounts',
      });
      expect(token.status).toBe(200);
      await site.kill();
    } finally {
      fresh.remove();
    }
  });
});
