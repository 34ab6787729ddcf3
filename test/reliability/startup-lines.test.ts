import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_EMULATOR_PORT } from 'vf-platform-emulator';
import net from 'node:net';
import { chooseEmulatorPort, movedAsideLine, startBundledEmulator } from '../../src/bundled-emulator';
import { createLogger } from '../../src/logger';
import { listenFailure } from '../../packages/emulator/src/main';
import { startupFailureLine, underSetting } from '../../src/startup-errors';
import { makeTempDir } from '../helpers/temp-dir';

const ROOT = path.join(__dirname, '..', '..');

/** An error as Node or a driver raises it: a message and, when there is one, a code. */
const errno = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

/** The line server.ts prints for a step that failed with `error`. */
async function lineFor(step: Parameters<typeof underSetting>[0], error: unknown): Promise<string> {
  return underSetting(step, () => Promise.reject(error)).then(
    () => 'no failure',
    (failure: unknown) => startupFailureLine(failure),
  );
}

/** "<what went wrong>; <what to do>": after the last "; ", a verb saying what to change. */
const ENDS_WITH_WHAT_TO_DO = /; (start|stop|set|fix|create|point|check|use|run)\b[^;]*$/;

describe('every start-up failure line ends with what to do', () => {
  const failures: Array<[string, Parameters<typeof underSetting>[0], unknown]> = [
    ['a port in use', { setting: 'PORT', address: '127.0.0.1:3000' }, errno('listen EADDRINUSE', 'EADDRINUSE')],
    ['a privileged port', { setting: 'PORT', address: '127.0.0.1:80' }, errno('listen EACCES', 'EACCES')],
    ['an address not of this machine', { setting: 'PORT', address: '10.9.9.9:3000' }, errno('listen EADDRNOTAVAIL', 'EADDRNOTAVAIL')],
    ['a port that fails otherwise', { setting: 'PORT', address: '127.0.0.1:3000' }, errno('listen EINVAL', 'EINVAL')],
    ['the emulator port in use', { setting: 'EMULATOR_PORT', address: '127.0.0.1:4010' }, errno('listen EADDRINUSE', 'EADDRINUSE')],
    ['the emulator port failing otherwise', { setting: 'EMULATOR_PORT', address: '127.0.0.1:4010' }, errno('listen EINVAL', 'EINVAL')],
    ['PostgreSQL refusing connections', { setting: 'DATABASE_URL', url: 'postgres://db/site' }, errno('connect ECONNREFUSED', 'ECONNREFUSED')],
    ['PostgreSQL refusing the password', { setting: 'DATABASE_URL', url: 'postgres://db/site' }, errno('password authentication failed', '28P01')],
    ['PostgreSQL silent past the connect timeout', { setting: 'DATABASE_URL', url: 'postgres://10.255.255.1/x' }, errno('Connection terminated due to connection timeout')],
    ['the pool giving up waiting for a connection', { setting: 'DATABASE_URL', url: 'postgres://10.255.255.1/x' }, errno('timeout exceeded when trying to connect')],
    ['a connection closed before PostgreSQL answered', { setting: 'DATABASE_URL', url: 'postgres://10.255.255.1/x' }, errno('Connection terminated unexpectedly')],
    ['PostgreSQL failing in a way not known', { setting: 'DATABASE_URL', url: 'postgres://db/site' }, errno('The server does not support SSL connections')],
    ['a SQLite folder missing', { setting: 'DATABASE_URL', url: 'sqlite:./nope/site.db' }, errno('missing', 'DATABASE_FOLDER_MISSING')],
    ['a SQLite file that cannot be opened', { setting: 'DATABASE_URL', url: 'sqlite:./site.db' }, errno('unable to open database file', 'SQLITE_CANTOPEN')],
    ['Redis unreachable', { setting: 'REDIS_URL', url: 'redis://cache:6379' }, errno('connect ECONNREFUSED', 'ECONNREFUSED')],
    ['Redis failing in a way not known', { setting: 'REDIS_URL', url: 'redis://cache:6379' }, errno('WRONGPASS invalid username-password pair')],
    ['a data folder that cannot be written', { setting: 'DATA_DIR', path: '/read-only/data' }, errno("EACCES: permission denied, mkdir '/read-only/data'", 'EACCES')],
  ];

  it.each(failures)('%s', async (_name, step, error) => {
    const line = await lineFor(step, error);
    expect(line).toMatch(/^Start-up failed: [A-Z_]+: /);
    expect(line).toMatch(ENDS_WITH_WHAT_TO_DO);
  });

  it.each([
    ['in use', 'EADDRINUSE'],
    ['needing privileges', 'EACCES'],
    ['not of this machine', 'EADDRNOTAVAIL'],
    ['failing otherwise', 'EINVAL'],
  ])("the standalone emulator's address %s", (_name, code) => {
    const line = listenFailure('127.0.0.1:4010', errno(`listen ${code}`, code));
    expect(line).toMatch(/^EMULATOR_(PORT|HOST): /);
    expect(line).toMatch(ENDS_WITH_WHAT_TO_DO);
  });

  it('an error no step recognises says how to see all of it', () => {
    expect(startupFailureLine(new TypeError('Cannot read properties of undefined (reading "x")\n    at main'))).toBe(
      'Start-up failed: Cannot read properties of undefined (reading "x"); run again with LOG_LEVEL=debug to see the whole error',
    );
  });

  it('an unroutable PostgreSQL host is reported as unreachable, naming DATABASE_URL and what to do', async () => {
    expect(await lineFor({ setting: 'DATABASE_URL', url: 'postgres://10.255.255.1/x' }, errno('Connection terminated due to connection timeout'))).toBe(
      'Start-up failed: DATABASE_URL: cannot reach PostgreSQL at 10.255.255.1:5432/x (timed out); start it, or fix DATABASE_URL',
    );
  });
});

describe("the bundled emulator's port never takes the site's", () => {
  it('EMULATOR_PORT unset: the demo port, or any free one when it is taken', () => {
    expect(chooseEmulatorPort(3000, undefined)).toEqual({ port: DEMO_EMULATOR_PORT, anyWhenTaken: true });
  });

  it("EMULATOR_PORT unset and PORT at the demo port: any free port, and a line naming EMULATOR_PORT", () => {
    expect(chooseEmulatorPort(DEMO_EMULATOR_PORT, undefined)).toEqual({ port: 0, anyWhenTaken: false, movedAside: { from: DEMO_EMULATOR_PORT } });
    expect(movedAsideLine(DEMO_EMULATOR_PORT, 'http://127.0.0.1:40123')).toBe(
      `The platform emulator is at http://127.0.0.1:40123, not on its usual port ${DEMO_EMULATOR_PORT}: PORT=${DEMO_EMULATOR_PORT} is the site's; set EMULATOR_PORT to choose the emulator's port`,
    );
  });

  it('EMULATOR_PORT set: that port and no other', () => {
    expect(chooseEmulatorPort(3000, 5000)).toEqual({ port: 5000, anyWhenTaken: false });
    expect(chooseEmulatorPort(DEMO_EMULATOR_PORT, 0)).toEqual({ port: 0, anyWhenTaken: false });
  });

  describe('started (its usual port one the OS picked)', () => {
    const logger = createLogger({ level: 'silent' });
    let usual: net.Server;
    let usualPort: number;
    beforeEach(async () => {
      usual = net.createServer();
      await new Promise<void>((resolve) => usual.listen(0, '127.0.0.1', resolve));
      usualPort = (usual.address() as net.AddressInfo).port;
    });
    afterEach(async () => {
      if (usual.listening) await new Promise((resolve) => usual.close(resolve));
    });

    it('PORT at the usual port: the emulator leaves it to the site, and says where it went', async () => {
      await new Promise((resolve) => usual.close(resolve));
      const emulator = await startBundledEmulator({ sitePort: usualPort, emulatorPort: undefined, logger, usualPort });
      try {
        expect(emulator.url).not.toBe(`http://127.0.0.1:${usualPort}`);
        expect(emulator.movedAside).toEqual({ from: usualPort });
        // The port is still free for the site to take.
        const site = net.createServer();
        await new Promise<void>((resolve, reject) => site.once('error', reject).listen(usualPort, '127.0.0.1', resolve));
        await new Promise((resolve) => site.close(resolve));
      } finally {
        await emulator.close();
      }
    });

    it('the usual port taken by another program: any free port, nothing moved aside', async () => {
      const emulator = await startBundledEmulator({ sitePort: 3000, emulatorPort: undefined, logger, usualPort });
      try {
        expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(emulator.url).not.toBe(`http://127.0.0.1:${usualPort}`);
        expect(emulator.movedAside).toBeUndefined();
      } finally {
        await emulator.close();
      }
    });

    it('EMULATOR_PORT taken: one line naming EMULATOR_PORT and what to do', async () => {
      const failure = await startBundledEmulator({ sitePort: 3000, emulatorPort: usualPort, logger, usualPort }).then(
        () => 'started',
        (error: unknown) => startupFailureLine(error),
      );
      expect(failure).toMatch(new RegExp(`^Start-up failed: EMULATOR_PORT: 127\\.0\\.0\\.1:${usualPort} .*`));
      expect(failure).toMatch(ENDS_WITH_WHAT_TO_DO);
    });
  });
});

describe('scripts/build-if-stale.js says it is building, and nothing when the build is current', () => {
  // The script itself, run on a copy whose root is a small project of its own: its inputs and
  // dist/ are those of the copy, and tsc is the project's (through a node_modules link).
  const temp = makeTempDir('vf-build-line-');
  const source = path.join(temp.dir, 'src', 'answer.ts');

  beforeAll(() => {
    fs.mkdirSync(path.join(temp.dir, 'scripts'));
    fs.mkdirSync(path.join(temp.dir, 'src'));
    fs.copyFileSync(path.join(ROOT, 'scripts', 'build-if-stale.js'), path.join(temp.dir, 'scripts', 'build-if-stale.js'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(temp.dir, 'node_modules'), 'dir');
    fs.writeFileSync(source, 'export const answer: number = 42;\n');
    const compilerOptions = { rootDir: 'src', outDir: 'dist', incremental: true, tsBuildInfoFile: 'dist/.tsbuildinfo', target: 'es2022', module: 'nodenext', types: [], strict: true, skipLibCheck: true };
    fs.writeFileSync(path.join(temp.dir, 'tsconfig.build.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
  });
  afterAll(() => temp.remove());

  /** Runs the copy as `npm start` does, in the copy's folder, with `env` on top of PATH. */
  const run = (env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['scripts/build-if-stale.js'], { cwd: temp.dir, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  /** A source edited after the last build, as a person would. */
  let edits = 0;
  const editSource = () => fs.appendFileSync(source, `export const edit${++edits} = ${edits};\n`);

  it('the first start prints one line that it is building, then builds', async () => {
    const first = await run();
    expect(first).toEqual({ code: 0, stdout: '', stderr: expect.any(String) });
    expect(first.stderr.trim().split('\n')).toEqual(['Building the site from its TypeScript sources (no build yet); a first build takes about 15 s']);
    expect(fs.existsSync(path.join(temp.dir, 'dist', 'answer.js'))).toBe(true);
  });

  it('a later start with nothing stale prints nothing', async () => {
    expect(await run()).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a start after a source changed says so, in one line', async () => {
    editSource();
    const again = await run();
    expect(again.code).toBe(0);
    expect(again.stderr.trim().split('\n')).toEqual(['Building the site from its TypeScript sources (a source changed since the last build); a first build takes about 15 s']);
    expect(await run()).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('with LOG_FORMAT=json (here from .env) the line is a JSON record, as the site\'s own lines are', async () => {
    fs.writeFileSync(path.join(temp.dir, '.env'), 'LOG_FORMAT=json\n');
    try {
      editSource();
      const run1 = await run();
      expect(run1.code).toBe(0);
      const records = run1.stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records).toEqual([{ level: 30, time: expect.any(Number), msg: 'Building the site from its TypeScript sources (a source changed since the last build); a first build takes about 15 s' }]);
    } finally {
      fs.rmSync(path.join(temp.dir, '.env'));
    }
  });
});
