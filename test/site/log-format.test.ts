import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { DEMO_API_KEY, DEMO_SITE_ID, tryItLines } from 'vf-platform-emulator';
import { createTestStores, type TestStores } from '../helpers/backend';
import { runToExit } from '../helpers/run-to-exit';
import { killAllSiteProcesses, startSiteProcess, type SiteProcess } from '../helpers/site-process';
import { makeTempDir } from '../helpers/temp-database';
import { fromSource } from '../helpers/ts-source';
import { waitFor } from '../helpers/wait-for';

/**
 * LOG_FORMAT=json: every line the site process writes, on stdout and on stderr, is one JSON
 * object with a level and a msg, from the start-up banner to the last shutdown line, including
 * configuration errors and start-up failures printed before or without the logger. `pretty`
 * keeps the lines a person reads as they were.
 */
const ROOT = path.join(__dirname, '..', '..');
const SERVER = path.join(ROOT, 'src', 'server.ts');
const EMULATOR = path.join(ROOT, 'packages', 'emulator', 'src', 'main.ts');

const SECRETS = {
  SESSION_SECRET: `session-${randomBytes(24).toString('hex')}`,
  HOOK_SECRET: `hook-${randomBytes(24).toString('hex')}`,
  HOOK_SECRETS: `whsec_${randomBytes(32).toString('base64')}`,
  METRICS_TOKEN: `metrics-${randomBytes(24).toString('hex')}`,
};

type LogRecord = { level: number | string; msg: string; [field: string]: unknown };

const linesOf = (text: string) => text.split('\n').filter((line) => line !== '');

/** Every line parsed: the test fails on the first that is not a JSON object with a level and a msg. */
function records(text: string): LogRecord[] {
  return linesOf(text).map((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`not a JSON object: ${line}`);
    const record = parsed as LogRecord;
    if (record.level === undefined || typeof record.msg !== 'string') throw new Error(`no level or msg: ${line}`);
    return record;
  });
}

function expectNoSecret(output: string, extra: string[] = []): void {
  for (const secret of [...Object.values(SECRETS), SECRETS.HOOK_SECRETS.slice('whsec_'.length), ...extra]) expect(output).not.toContain(secret);
}

const temp = makeTempDir('vf-log-format-');
let stores: TestStores;
beforeAll(async () => {
  stores = await createTestStores();
});
afterEach(() => killAllSiteProcesses());
afterAll(async () => {
  await stores.drop();
  temp.remove();
});

/** The site on the run's backend, with the bundled emulator (no platform credentials) and every secret set. */
function siteEnv(extra: Record<string, string>): Record<string, string> {
  const dataDir = fs.mkdtempSync(path.join(temp.dir, 'data-'));
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    EMULATOR_PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: stores.databaseUrl,
    ...(stores.redis ? { SESSION_STORE: 'redis', REDIS_URL: stores.redis.url, REDIS_KEY_PREFIX: stores.redis.keyPrefix } : {}),
    ...SECRETS,
    ...extra,
  };
}

async function stopped(site: SiteProcess): Promise<{ stdout: string; stderr: string }> {
  site.signal('SIGTERM');
  expect(await site.exited).toEqual({ code: 0, signal: null });
  return site.output();
}

async function busyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  return { port: (busy.address() as net.AddressInfo).port, close: () => new Promise((resolve) => busy.close(() => resolve())) };
}

describe('LOG_FORMAT=json: the site process writes only JSON lines', () => {
  it('from the start-up banner through requests to the shutdown lines', async () => {
    const site = await startSiteProcess({ env: siteEnv({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' }), cwd: temp.dir });
    for (const pathname of ['/', '/login', '/no-such-page', '/healthz']) await fetch(site.url + pathname);
    const hook = await fetch(`${site.url}/hooks/logout`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hook-Signature': 't=1,v1=00' }, body: '{"userId":"1"}' });
    expect(hook.status).toBe(401);
    const { stdout, stderr } = await stopped(site);

    const out = records(stdout);
    expect(records(stderr)).toEqual([]);
    const messages = out.map((record) => record.msg);
    const emulatorUrl = /platform emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    expect(messages).toEqual(
      expect.arrayContaining([
        `The Harbour Ledger is at ${site.url}/ (platform emulator at ${emulatorUrl})`,
        `Platform emulator credentials (demo values): site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY}. Try it:`,
        ...tryItLines(emulatorUrl, DEMO_SITE_ID, DEMO_API_KEY),
        `Mail is not sent (no SMTP_URL): read it at ${site.url}/dev/mail`,
        'shutting down: draining requests',
        'stopped',
      ]),
    );
    expect(out.find((record) => record.msg.startsWith('The Harbour Ledger is at'))).toMatchObject({ level: 30, url: site.url, emulatorUrl });
    expect(out.some((record) => record.path === '/no-such-page')).toBe(true);
    expectNoSecret(stdout + stderr);
  });

  it('prints the banner whatever LOG_LEVEL says, as pretty does', async () => {
    const site = await startSiteProcess({ env: siteEnv({ LOG_FORMAT: 'json', LOG_LEVEL: 'error' }), cwd: temp.dir });
    const { stdout, stderr } = await stopped(site);
    expect(records(stdout).map((record) => record.msg)).toContain(`The Harbour Ledger is at ${site.url}/ (platform emulator at ${/platform emulator at (http:\/\/[^)]+)/.exec(stdout)![1]})`);
    expect(records(stderr)).toEqual([]);
  });

  it('Node warnings and a crash become records too', async () => {
    // A preload that makes the running site warn (SIGUSR2) and crash (SIGHUP) on demand.
    const preload = path.join(temp.dir, 'warn-and-crash.js');
    fs.writeFileSync(
      preload,
      "process.on('SIGUSR2', () => process.emitWarning('a warning for the test', 'TestWarning'));\n" +
        "process.on('SIGHUP', () => setImmediate(() => { throw new Error('a crash for the test'); }));\n",
    );
    const site = await startSiteProcess({ env: siteEnv({ LOG_FORMAT: 'json', NODE_OPTIONS: `--require ${preload}` }), cwd: temp.dir });
    site.signal('SIGUSR2');
    await waitFor(() => site.output().stdout.includes('a warning for the test'), 'the warning record');
    site.signal('SIGHUP');
    expect(await site.exited).toEqual({ code: 1, signal: null });
    const { stdout, stderr } = site.output();
    const all = [...records(stdout), ...records(stderr)];
    expect(all).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 40, warning: 'TestWarning', msg: 'a warning for the test' }),
        expect.objectContaining({ level: 60, msg: 'uncaught exception; exiting', err: expect.objectContaining({ message: 'a crash for the test' }) }),
      ]),
    );
  });

  it('configuration errors, before any logger exists, are records on stderr, exit 78, and never show a secret', async () => {
    const tooShort = `whsec_${randomBytes(16).toString('base64')}`;
    const run = await runToExit(SERVER, [], { ...siteEnv({ LOG_FORMAT: 'json' }), PORT: 'eighty', HOOK_SECRETS: `${SECRETS.HOOK_SECRETS},${tooShort}` }, temp.dir);
    expect(run.code).toBe(78);
    expect(records(run.stdout)).toEqual([]);
    const errors = records(run.stderr);
    expect(errors.map((record) => record.msg).sort()).toEqual([
      'Configuration error: HOOK_SECRETS: the 2nd secret must hold 24 to 64 bytes after whsec_ (it holds 16)',
      'Configuration error: PORT: must be a port number from 0 to 65535',
    ]);
    for (const record of errors) expect(record).toMatchObject({ level: 50, code: 'CONFIG_INVALID', setting: expect.stringMatching(/^(PORT|HOOK_SECRETS)$/) });
    expectNoSecret(run.stdout + run.stderr, [tooShort.slice('whsec_'.length)]);
  });

  it('a start-up failure (the port taken) is one record on stderr naming the setting, exit 1', async () => {
    const busy = await busyPort();
    try {
      const run = await runToExit(SERVER, [], siteEnv({ LOG_FORMAT: 'json', PORT: String(busy.port) }), temp.dir);
      expect(run.code).toBe(1);
      expect(records(run.stdout).filter((record) => record.level !== 30)).toEqual([]);
      expect(records(run.stderr)).toEqual([
        expect.objectContaining({
          level: 50,
          code: 'STARTUP_FAILED',
          setting: 'PORT',
          msg: `Start-up failed: PORT: 127.0.0.1:${busy.port} is already in use; stop the program listening there, or set PORT (or HOST) to a free one, e.g. PORT=3001 npm start`,
        }),
      ]);
      expectNoSecret(run.stdout + run.stderr);
    } finally {
      await busy.close();
    }
  });

  it('a database that refuses is one record without the URL password', async () => {
    const busy = await busyPort();
    await busy.close();
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const run = await runToExit(SERVER, [], siteEnv({ LOG_FORMAT: 'json', DATABASE_URL: `postgres://reader:${password}@127.0.0.1:${busy.port}/site`, SESSION_STORE: 'sqlite' }), temp.dir);
    expect(run.code).toBe(1);
    expect(records(run.stderr)).toEqual([expect.objectContaining({ level: 50, code: 'STARTUP_FAILED', setting: 'DATABASE_URL', msg: expect.stringMatching(/^Start-up failed: DATABASE_URL: cannot reach PostgreSQL/) })]);
    records(run.stdout);
    expectNoSecret(run.stdout + run.stderr, [password]);
  });

  it('without LOG_FORMAT, production without a terminal logs JSON from its first line', async () => {
    const run = await runToExit(SERVER, [], { ...siteEnv({}), NODE_ENV: 'production', PORT: 'eighty' }, temp.dir);
    expect(run.code).toBe(78);
    expect(records(run.stderr).map((record) => record.setting)).toContain('PORT');
  });
});

describe('LOG_FORMAT=pretty keeps the lines a person reads', () => {
  it('the banner, the emulator lines and the mail line are as they were', async () => {
    const site = await startSiteProcess({ env: siteEnv({ LOG_FORMAT: 'pretty', LOG_LEVEL: 'warn' }), cwd: temp.dir });
    const { stdout, stderr } = await stopped(site);
    const emulatorUrl = /platform emulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    expect(linesOf(stdout)).toEqual([
      `The Harbour Ledger is at ${site.url}/ (platform emulator at ${emulatorUrl})`,
      `Platform emulator credentials (demo values): site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY}. Try it:`,
      ...tryItLines(emulatorUrl, DEMO_SITE_ID, DEMO_API_KEY).map((line) => `  ${line}`),
      `Mail is not sent (no SMTP_URL): read it at ${site.url}/dev/mail`,
    ]);
    expect(stderr).toBe('');
  });

  it('a configuration error is the plain line it was', async () => {
    const run = await runToExit(SERVER, [], { ...siteEnv({ LOG_FORMAT: 'pretty' }), PORT: 'eighty' }, temp.dir);
    expect(run.code).toBe(78);
    expect(run.stderr).toBe('Configuration error: PORT: must be a port number from 0 to 65535\n');
  });
});

describe('npm run emulator honours LOG_FORMAT the same way', () => {
  /** The standalone emulator until it prints its address, then SIGTERM; everything it wrote. */
  async function runEmulator(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, fromSource(EMULATOR), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', EMULATOR_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let done = false;
    void exited.then(() => (done = true));
    try {
      await waitFor(() => done || /accounts\/logout/.test(stdout), 'the emulator banner', 15_000);
    } finally {
      child.kill('SIGTERM');
    }
    return { code: await exited, stdout, stderr };
  }

  it('json: its banner and try-it lines are records', async () => {
    const run = await runEmulator({ LOG_FORMAT: 'json' });
    expect(run.code).toBe(0);
    const messages = records(run.stdout).map((record) => record.msg);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(messages[0]!)![1]!;
    expect(messages).toEqual([
      `Platform emulator (viafoura dialect) for site "${DEMO_SITE_ID}" listening on ${url} (demo credentials: site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY})`,
      'Try it:',
      ...tryItLines(url, DEMO_SITE_ID, DEMO_API_KEY),
    ]);
    expect(records(run.stderr)).toEqual([]);
  });

  it('json: a bad setting is a record on stderr', async () => {
    const run = await runEmulator({ LOG_FORMAT: 'json', EMULATOR_PORT: 'http' });
    expect(run.code).toBe(1);
    expect(records(run.stderr)).toEqual([expect.objectContaining({ level: 'error', msg: 'EMULATOR_PORT must be a port number from 0 to 65535, got "http"' })]);
  });

  it('pretty (the default): the lines are as they were', async () => {
    const run = await runEmulator({});
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)![1]!;
    expect(linesOf(run.stdout)).toEqual([
      `Platform emulator (viafoura dialect) for site "${DEMO_SITE_ID}" listening on ${url} (demo credentials: site ${DEMO_SITE_ID}, API key ${DEMO_API_KEY})`,
      'Try it:',
      ...tryItLines(url, DEMO_SITE_ID, DEMO_API_KEY).map((line) => `  ${line}`),
    ]);
  });
});
