import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';
import { makeTempDir } from '../helpers/temp-database';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
/** The README shows this file; the test runs the very same one. */
const EXAMPLE_APP = path.join(ROOT, 'examples', 'any-express-app', 'app.js');
const READY_LINE = /Acme is at (http:\/\/[^\s/]+)\//;

/** `npm` in a child, with a deadline; its output explains a failure. */
async function npm(args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * Installs the tarball and the app's own two dependencies as a publisher would. Install scripts
 * are skipped: the one that matters (better-sqlite3's native build) is replaced below by the
 * project's own build of the same version. With no registry to ask, the tarball is unpacked in
 * place and its dependencies are found in the project's node_modules instead.
 */
async function installApp(appDir: string, tarball: string): Promise<{ nodePath: string | undefined; how: string }> {
  fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'acme', private: true }));
  try {
    await npm(['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball, 'express', 'express-session'], appDir, 60_000);
  } catch (error) {
    const target = path.join(appDir, 'node_modules', 'vf-login-bridge');
    fs.rmSync(path.join(appDir, 'node_modules'), { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    await run('tar', ['xzf', tarball, '-C', target, '--strip-components=1']);
    return { nodePath: path.join(ROOT, 'node_modules'), how: `unpacked (npm install failed: ${(error as Error).message.split('\n')[0]})` };
  }
  const addon = path.join('build', 'Release', 'better_sqlite3.node');
  const installed = path.join(appDir, 'node_modules', 'better-sqlite3');
  const version = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  expect(version(installed)).toBe(version(path.join(ROOT, 'node_modules', 'better-sqlite3')));
  fs.mkdirSync(path.dirname(path.join(installed, addon)), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'node_modules', 'better-sqlite3', addon), path.join(installed, addon));
  return { nodePath: undefined, how: 'npm install' };
}

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

/** A browser of one cookie, redirects handed back. */
function browserFor(baseUrl: string) {
  let cookie: string | undefined;
  return async (method: 'GET' | 'POST', pathname: string, form?: Record<string, string>) => {
    const res = await fetch(baseUrl + pathname, {
      method,
      redirect: 'manual',
      body: form ? new URLSearchParams(form).toString() : undefined,
      headers: { ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...(cookie ? { Cookie: cookie } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
    const set = res.headers.getSetCookie()[0];
    if (set) cookie = set.split(';')[0];
    return { status: res.status, text: await res.text() };
  };
}

describe('the packed package in a fresh Express app', () => {
  let emulator: TestEmulator | undefined;
  let app: ChildProcess | undefined;
  const temp = makeTempDir('vf-package-');

  afterAll(async () => {
    if (app && app.exitCode === null) {
      const gone = new Promise((resolve) => app!.once('exit', resolve));
      app.kill('SIGKILL');
      await gone;
    }
    await emulator?.close();
    temp.remove();
  });

  it('npm pack, install, then register -> embed tag -> logout against the emulator', async () => {
    const packed = await npm(['pack', '--silent', '--pack-destination', temp.dir], ROOT, 120_000);
    const tarball = path.join(temp.dir, packed.trim().split('\n').pop()!);
    expect(fs.existsSync(tarball)).toBe(true);

    const appDir = path.join(temp.dir, 'acme');
    fs.mkdirSync(appDir);
    const { nodePath, how } = await installApp(appDir, tarball);
    fs.copyFileSync(EXAMPLE_APP, path.join(appDir, 'app.js'));

    // The public entry declares its types, and they are in the tarball.
    const installed = path.join(appDir, 'node_modules', 'vf-login-bridge');
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
    expect(fs.existsSync(path.join(installed, manifest.exports['.']!.types))).toBe(true);
    expect(fs.readFileSync(path.join(installed, manifest.exports['.']!.types), 'utf8')).toContain('createViafouraBridge');

    emulator = await startTestEmulator();
    const started = await startApp(appDir, {
      PORT: '0',
      VF_SITE_ID: TEST_SITE_ID,
      VF_API_KEY: TEST_API_KEY,
      VF_API_URL: emulator.url,
      VF_EMBED_SRC: emulator.embedSrc,
      DATABASE_URL: `sqlite:${path.join(temp.dir, 'bridge.db')}`,
      SESSION_SECRET: 'acme-session-secret-0123456789abcdef',
      ...(nodePath ? { NODE_PATH: nodePath } : {}),
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n(installed by ${how})`);
    });
    app = started.child;
    const browse = browserFor(started.url);

    const anonymous = await browse('GET', '/');
    expect(anonymous.text).toContain(`<script id="viafoura-platform" src="${emulator.embedSrc}" async></script>`);

    expect((await browse('POST', '/login', { name: 'Wanda' })).status).toBe(303);
    const page = await browse('GET', '/');
    expect(page.text).toContain('Hello Wanda');
    const sid = /data-sid="([^"]+)"/.exec(page.text)?.[1];
    const uid = /data-uid="([^"]+)"/.exec(page.text)?.[1];
    expect(emulator.sessionInfo(sid!)).toMatchObject({ alive: true, hostId: 'acme-Wanda', name: 'Wanda', userId: Number(uid) });

    expect((await browse('POST', '/logout')).status).toBe(303);
    expect(emulator.sessionInfo(sid!)?.alive).toBe(false);
    expect((await browse('GET', '/')).text).not.toContain('data-sid');
  }, 150_000);
});

describe("the README's example app", () => {
  it('is the file the package test runs, word for word', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const shown = /## Using the bridge in another Express app[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown).toBe(fs.readFileSync(EXAMPLE_APP, 'utf8'));
  });
});
