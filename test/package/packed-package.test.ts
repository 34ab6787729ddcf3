import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';
import { makeTempDir } from '../helpers/temp-dir';

/**
 * The library as a publisher gets it: `npm pack`, installed into empty folders from the registry,
 * compiled against by strict TypeScript apps of three module settings, and the README's example
 * app run from it against the emulator.
 */

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
/** The README shows this file; the test runs the very same one. */
const EXAMPLE_APP = path.join(ROOT, 'examples', 'any-express-app', 'app.js');
const CONSUMERS = path.join(__dirname, 'consumers');
const CONSUMER_KINDS = ['node16-cjs', 'node16-esm', 'bundler'] as const;
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const READY_LINE = /Acme is at (http:\/\/[^\s/]+)\//;
const SESSION_SECRET = 'acme-session-secret-0123456789abcdef';
const HOOK_SECRET = 'acme-hook-secret-0123456789abcdef0123';
/** What the site itself uses and the library must never bring along. */
const NOT_PULLED_IN = [
  'argon2', '@node-rs/argon2', 'passport', 'passport-local', 'helmet', 'eta', '@zxcvbn-ts/core', '@zxcvbn-ts/language-common',
  'pino-pretty', 'redis', 'connect-redis', 'csrf-sync', 'rate-limiter-flexible', 'zod', 'pino',
  // optional peers: installed by the app that chooses them, never by the library
  'pg', 'better-sqlite3', 'prom-client',
];
const NO_DRIVER_TYPES = ['@types/pg', '@types/better-sqlite3'];

/** A child with a deadline; its output explains a failure. */
async function exec(file: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, timeout: timeoutMs, env, maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(file)} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`.slice(0, 8000));
  }
}

const npm = (args: string[], cwd: string, timeoutMs: number) =>
  exec('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd, timeoutMs, { ...process.env, npm_config_update_notifier: 'false' });

const readJson = <T>(file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const versionOf = (dir: string) => readJson<{ version: string }>(path.join(dir, 'package.json')).version;

interface Packed {
  tarball: string;
  files: string[];
}

/** `npm pack` of one workspace: the build runs in its prepack, as on `npm publish`. */
async function pack(workspace: string, into: string): Promise<Packed> {
  const [report] = JSON.parse(await npm(['pack', '--json', '--workspace', workspace, '--pack-destination', into], ROOT, 120_000)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return { tarball: path.join(into, report!.filename), files: report!.files.map((file) => file.path) };
}

/**
 * When the registry cannot be reached, an app folder gets the project's own node_modules by links
 * (minus `without`), with the tarballs unpacked in place: the checks that need a real install
 * (what the library pulls in, how big it is) are then reported as not run.
 */
async function linkInstead(dir: string, tarballs: Record<string, string>, without: string[]): Promise<void> {
  const modules = path.join(dir, 'node_modules');
  fs.rmSync(modules, { recursive: true, force: true });
  const source = path.join(ROOT, 'node_modules');
  const names = fs.readdirSync(source).flatMap((name) => (name.startsWith('@') ? fs.readdirSync(path.join(source, name)).map((sub) => `${name}/${sub}`) : [name]));
  for (const name of names) {
    if (name.startsWith('.') || without.includes(name) || name in tarballs) continue;
    fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    fs.symlinkSync(path.join(source, name), path.join(modules, name));
  }
  for (const [name, tarball] of Object.entries(tarballs)) {
    fs.mkdirSync(path.join(modules, name), { recursive: true });
    await exec('tar', ['xzf', tarball, '-C', path.join(modules, name), '--strip-components=1'], dir, 30_000);
    linkBins(modules, name);
  }
}

/** What npm does for a package's `bin`: an executable under node_modules/.bin. */
function linkBins(modules: string, name: string): void {
  const bins = readJson<{ bin?: Record<string, string> }>(path.join(modules, name, 'package.json')).bin ?? {};
  for (const [command, file] of Object.entries(bins)) {
    fs.mkdirSync(path.join(modules, '.bin'), { recursive: true });
    fs.chmodSync(path.join(modules, name, file), 0o755);
    fs.symlinkSync(path.join('..', name, file), path.join(modules, '.bin', command));
  }
}

/** `npm install` of `specs` into `dir`; falls back to links when the registry is out of reach. */
async function install(dir: string, specs: string[], fallback: { tarballs: Record<string, string>; without: string[] }): Promise<string> {
  if (!fs.existsSync(path.join(dir, 'package.json'))) fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), private: true }));
  try {
    // Install scripts are skipped: the one that matters, better-sqlite3's native build, is replaced
    // by the project's own build of the same version (useProjectSqliteAddon).
    await npm(['install', '--prefer-offline', '--ignore-scripts', ...specs], dir, 90_000);
    return 'npm install from the registry';
  } catch (error) {
    await linkInstead(dir, fallback.tarballs, fallback.without);
    const reason = (error as Error).message.split('\n').find((line) => /^npm (error|ERR!)/.test(line)) ?? 'no reason given';
    return `links to the project's node_modules (npm install failed: ${reason})`;
  }
}

function useProjectSqliteAddon(appDir: string): void {
  const addon = path.join('build', 'Release', 'better_sqlite3.node');
  const installed = fs.realpathSync(path.join(appDir, 'node_modules', 'better-sqlite3'));
  const ours = path.join(ROOT, 'node_modules', 'better-sqlite3');
  if (installed === fs.realpathSync(ours)) return;
  expect(versionOf(installed)).toBe(versionOf(ours));
  fs.mkdirSync(path.dirname(path.join(installed, addon)), { recursive: true });
  fs.copyFileSync(path.join(ours, addon), path.join(installed, addon));
}

/** Every package npm installed (nested ones too), by name, and how many. */
function installedPackages(dir: string): { names: Set<string>; count: number } {
  const lock = readJson<{ packages: Record<string, unknown> }>(path.join(dir, 'node_modules', '.package-lock.json'));
  const paths = Object.keys(lock.packages).filter((key) => key.startsWith('node_modules/'));
  const names = new Set(paths.map((key) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)));
  return { names, count: paths.length };
}

async function sizeKb(dir: string): Promise<number> {
  return Number((await exec('du', ['-sk', path.join(dir, 'node_modules')], dir, 20_000)).split('\t')[0]);
}

type Browse = (method: 'GET' | 'POST', pathname: string, form?: Record<string, string>) => Promise<{ status: number; text: string; headers: Headers }>;

/** A browser of one cookie, redirects handed back. */
function browserFor(baseUrl: string): Browse {
  let cookie: string | undefined;
  return async (method, pathname, form) => {
    const res = await fetch(baseUrl + pathname, {
      method,
      redirect: 'manual',
      body: form ? new URLSearchParams(form).toString() : undefined,
      headers: { ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...(cookie ? { Cookie: cookie } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
    const set = res.headers.getSetCookie()[0];
    if (set) cookie = set.split(';')[0];
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
}

const csrfOf = (page: { text: string }) => /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
const sidOf = (page: { text: string }) => /data-sid="([^"]+)"/.exec(page.text)?.[1];

/** `node app.js` in the app's folder, as the README runs it; resolves with its address. */
function startApp(appDir: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['app.js'], { cwd: appDir, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`the app printed no address in 20 s:\n${output}`))), 20_000);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the app exited with ${code}:\n${output}`))));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = READY_LINE.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ url, child, output: () => output });
    });
  });
}

/** Resolves with the exit code, or rejects after `timeoutMs`. */
function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => (clearTimeout(timer), resolve(code)));
  });
}

/** A logout hook as another of the publisher's systems sends it (README.md#the-logout-hook). */
async function sendLogoutHook(baseUrl: string, userId: string): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify({ userId });
  // The app checks the signature's age against its own wall clock, so the hook is signed by it too.
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', HOOK_SECRET).update(`${t}.${body}`).digest('hex');
  const res = await fetch(`${baseUrl}/hooks/logout`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', 'X-Hook-Signature': `t=${t},v1=${v1}` },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json() };
}

const report: string[] = [];
const note = (line: string) => report.push(line);

describe('the packed package, as a publisher installs it', () => {
  const temp = makeTempDir('vf-package-');
  const appDir = path.join(temp.dir, 'acme');
  const consumersDir = path.join(temp.dir, 'consumers');
  let bridgePack: Packed;
  let emulatorPack: Packed;
  let appInstall = '';
  let consumersInstall = '';
  let emulator: TestEmulator | undefined;
  let app: ChildProcess | undefined;

  beforeAll(async () => {
    bridgePack = await pack('vf-login-bridge', temp.dir);
    // The emulator compiles against the library's declarations, so it is packed second.
    emulatorPack = await pack('vf-platform-emulator', temp.dir);
    fs.mkdirSync(appDir);
    fs.mkdirSync(consumersDir);
    const tarballs = { 'vf-login-bridge': bridgePack.tarball };
    [appInstall, consumersInstall] = await Promise.all([
      install(appDir, [bridgePack.tarball, 'express', 'express-session'], { tarballs, without: [...NOT_PULLED_IN, ...NO_DRIVER_TYPES] }),
      install(consumersDir, [bridgePack.tarball, 'express', 'express-session', '@types/express', '@types/express-session', '@types/node@20'], {
        tarballs,
        without: [...NOT_PULLED_IN, ...NO_DRIVER_TYPES],
      }),
    ]);
    note(`app folder installed by ${appInstall}; type-check consumers by ${consumersInstall}`);
  }, 200_000);

  afterAll(async () => {
    if (app && app.exitCode === null) {
      app.kill('SIGKILL');
      await exitOf(app, 5000);
    }
    await emulator?.close();
    temp.remove();
    process.stdout.write(`\npacked-package:\n${report.map((line) => `  ${line}\n`).join('')}`);
  });

  it('brings only its own four dependencies: none of the site\'s, no driver, no optional peer', async () => {
    const manifest = readJson<{ dependencies: Record<string, string> }>(path.join(appDir, 'node_modules', 'vf-login-bridge', 'package.json'));
    // axios and kysely for the bridge, standardwebhooks for the hook, jose (loaded on first use) for back-channel logout.
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['axios', 'jose', 'kysely', 'standardwebhooks']);
    if (!appInstall.startsWith('npm install')) return note('installed count and size: not measured (no registry)');

    const { names, count } = installedPackages(appDir);
    const kilobytes = await sizeKb(appDir);
    note(`vf-login-bridge + express + express-session: ${count} packages, ${(kilobytes / 1024).toFixed(1)} MB (du -sk node_modules)`);
    expect(NOT_PULLED_IN.filter((name) => names.has(name))).toEqual([]);
    expect(names.has('express') && names.has('express-session') && names.has('vf-login-bridge')).toBe(true);
  });

  it('packs built JavaScript and declarations only: no source, no maps, nothing of the site or the emulator', () => {
    const files = bridgePack.files;
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
    expect(files.filter((file) => file.endsWith('.map') || file.startsWith('src/') || file.endsWith('.tsbuildinfo'))).toEqual([]);
    expect(files.filter((file) => !(file === 'package.json' || file === 'README.md' || /^dist\/.+\.(js|d\.ts)$/.test(file)))).toEqual([]);
    // Each built file has its source today: a file left behind by a source since removed is not shipped.
    const stale = files.filter((file) => file.startsWith('dist/') && !fs.existsSync(path.join(ROOT, 'packages', 'bridge', file.replace(/^dist\//, 'src/').replace(/\.(d\.ts|js)$/, '.ts'))));
    expect(stale).toEqual([]);
    const elsewhere = /(emulator|passport-local|views|public|argon|site|server)\b/;
    expect(files.filter((file) => elsewhere.test(file) && !file.startsWith('dist/passport/'))).toEqual([]);
    // Every target of `exports` is in the tarball.
    const exportsMap = readJson<{ exports: Record<string, Record<string, string> | string> }>(path.join(ROOT, 'packages', 'bridge', 'package.json')).exports;
    for (const [subpath, target] of Object.entries(exportsMap)) {
      const shipped = typeof target === 'string' ? [target] : Object.entries(target).filter(([condition]) => condition !== 'vf-source').map(([, file]) => file);
      for (const file of shipped) expect(`${subpath} -> ${files.includes(file.replace(/^\.\//, '')) ? 'shipped' : file}`).toBe(`${subpath} -> shipped`);
    }
    note(`vf-login-bridge tarball: ${files.length} files, ${(fs.statSync(bridgePack.tarball).size / 1024).toFixed(1)} kB`);
    expect(emulatorPack.files.filter((file) => file.startsWith('src/') || file.endsWith('.map'))).toEqual([]);
  });

  it.each(CONSUMER_KINDS)('compiles a strict %s TypeScript app against its declarations, with no driver types installed', async (kind) => {
    expect(NO_DRIVER_TYPES.filter((name) => fs.existsSync(path.join(consumersDir, 'node_modules', name)))).toEqual([]);
    const dir = path.join(consumersDir, kind);
    fs.cpSync(path.join(CONSUMERS, kind), dir, { recursive: true });
    // The ES module consumers share one app; the CommonJS one has its own, in `import = require` form.
    if (!fs.existsSync(path.join(dir, 'app.ts'))) fs.copyFileSync(path.join(CONSUMERS, 'es-module-app.ts'), path.join(dir, 'app.ts'));
    const tsconfig = readJson<{ compilerOptions: Record<string, unknown> }>(path.join(dir, 'tsconfig.json')).compilerOptions;
    expect(tsconfig).toMatchObject({ strict: true, skipLibCheck: false });
    await exec(process.execPath, [TSC, '-p', dir], dir, 60_000);
    note(`consumer ${kind} (module ${String(tsconfig['module'])}, moduleResolution ${String(tsconfig['moduleResolution'])}): compiles`);
  }, 70_000);

  it('loads by require() and by import(), both entries, without any optional peer installed', async () => {
    const probe = `(m, p) => JSON.stringify([typeof m.createViafouraBridge, typeof m.AppError, Object.keys(p).length > 0])`;
    const required = await exec(process.execPath, ['-e', `console.log((${probe})(require('vf-login-bridge'), require('vf-login-bridge/passport')))`], appDir, 15_000);
    const imported = await exec(
      process.execPath,
      ['--input-type=module', '-e', `import { createViafouraBridge, AppError } from 'vf-login-bridge'; import * as p from 'vf-login-bridge/passport'; console.log((${probe})({ createViafouraBridge, AppError }, p))`],
      appDir,
      15_000,
    );
    expect(JSON.parse(required)).toEqual(['function', 'function', true]);
    expect(JSON.parse(imported)).toEqual(['function', 'function', true]);
  });

  describe("the README's example app, run from the installed tarball", () => {
    beforeAll(async () => {
      const root = (name: string) => `${name}@${versionOf(path.join(ROOT, 'node_modules', name))}`;
      // What the example adds of its own: the SQLite driver its `sqlite:` database needs, CSRF
      // protection, and the emulator to try it against.
      const how = await install(appDir, [root('better-sqlite3'), 'csrf-sync', emulatorPack.tarball], {
        tarballs: { 'vf-login-bridge': bridgePack.tarball, 'vf-platform-emulator': emulatorPack.tarball },
        without: [],
      });
      note(`example's own dependencies installed by ${how}`);
      useProjectSqliteAddon(appDir);
      fs.copyFileSync(EXAMPLE_APP, path.join(appDir, 'app.js'));
    }, 100_000);

    it('exits at once with one line naming SESSION_SECRET when it is unset', async () => {
      const child = spawn(process.execPath, ['app.js'], { cwd: appDir, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await exitOf(child, 10_000)).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain('SESSION_SECRET');
    });

    it('the packed emulator starts by its bin, as `npx vf-platform-emulator`, and issues a token', async () => {
      const child = spawn(path.join(appDir, 'node_modules', '.bin', 'vf-platform-emulator'), [], {
        cwd: appDir,
        env: { PATH: process.env.PATH ?? '', EMULATOR_PORT: '0', VF_SITE_ID: TEST_SITE_ID, VF_API_KEY: TEST_API_KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let output = '';
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no address in 15 s:\n${output}`)), 15_000);
          child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
          child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`the emulator exited with ${code}:\n${output}`))));
          child.stdout!.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            const found = /listening on (http:\/\/\S+)/.exec(output)?.[1];
            if (found) (clearTimeout(timer), resolve(found));
          });
        });
        const token = await fetch(`${url}/oauth2/token`, {
          method: 'POST',
          body: 'grant_type=client_credentials&scope=accounts',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`${TEST_SITE_ID}:${TEST_API_KEY}`).toString('base64')}` },
          signal: AbortSignal.timeout(10_000),
        });
        expect(token.status).toBe(200);
      } finally {
        child.removeAllListeners('exit');
        child.kill('SIGTERM');
        await exitOf(child, 10_000);
      }
    });

    /** The README's flow, against the example as installed in the app folder (whichever Express major it has). */
    async function exampleFlow(): Promise<void> {
      emulator ??= await startTestEmulator();
      const started = await startApp(appDir, {
        PORT: '0',
        VF_SITE_ID: TEST_SITE_ID,
        VF_API_KEY: TEST_API_KEY,
        VF_API_URL: emulator.url,
        VF_EMBED_SRC: emulator.embedSrc,
        VF_HOOK_SECRET: HOOK_SECRET,
        SESSION_SECRET,
      });
      app = started.child;
      const browse = browserFor(started.url);

      const anonymous = await browse('GET', '/');
      expect(anonymous.text).toContain(`<script id="viafoura-platform" src="${emulator.embedSrc}" async></script>`);
      expect((await browse('POST', '/login', { name: 'Wanda' })).status).toBe(403);
      expect(sidOf(await browse('GET', '/'))).toBeUndefined();

      expect((await browse('POST', '/login', { name: 'Wanda', _csrf: csrfOf(anonymous) })).status).toBe(303);
      const page = await browse('GET', '/');
      expect(page.text).toContain('Hello Wanda');
      expect(page.headers.get('cache-control')).toBe('private, no-store');
      const sid = sidOf(page)!;
      expect(emulator.sessionInfo(sid)).toMatchObject({ alive: true, hostId: 'acme-Wanda', name: 'Wanda' });

      // The app parses JSON bodies before the hook router; the signed hook still verifies.
      expect(await sendLogoutHook(started.url, 'acme-Wanda')).toEqual({ status: 200, body: { loggedOut: 1 } });
      expect(emulator.sessionInfo(sid)?.alive).toBe(false);
      const afterHook = await browse('GET', '/');
      expect(afterHook.text).not.toContain('Hello Wanda');
      expect(sidOf(afterHook)).toBeUndefined();

      expect((await browse('POST', '/login', { name: 'Wanda', _csrf: csrfOf(afterHook) })).status).toBe(303);
      const again = await browse('GET', '/');
      const secondSid = sidOf(again)!;
      expect(emulator.sessionInfo(secondSid)?.alive).toBe(true);
      expect((await browse('POST', '/logout', { _csrf: csrfOf(again) })).status).toBe(303);
      expect(emulator.sessionInfo(secondSid)?.alive).toBe(false);
      expect(sidOf(await browse('GET', '/'))).toBeUndefined();

      // SIGTERM: the server and the bridge close, and nothing keeps the process alive.
      app.kill('SIGTERM');
      expect(await exitOf(app, 10_000)).toBe(0);
    }

    it('logs in -> embed tag with data-sid, never cached; refuses a POST without its CSRF token; a signed hook and the logout form log out', exampleFlow, 60_000);

    it('does the same under Express 4, the other major of its peer range', async () => {
      try {
        await npm(['install', '--prefer-offline', '--ignore-scripts', 'express@4'], appDir, 90_000);
      } catch {
        return note('Express 4: not checked (npm install express@4 failed: no registry)');
      }
      useProjectSqliteAddon(appDir);
      const version = versionOf(path.join(appDir, 'node_modules', 'express'));
      expect(version).toMatch(/^4\./);
      await exampleFlow();
      note(`Express ${version}: the README's example runs the same`);
    }, 150_000);
  });
});

describe("the README's example app", () => {
  it('is the file the package test runs, word for word', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const shown = /## Use it in your own Express app[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown).toBe(fs.readFileSync(EXAMPLE_APP, 'utf8'));
  });
});
