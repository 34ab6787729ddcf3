import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fromSource } from './ts-source';

const ROOT = path.join(__dirname, '..', '..');
const SERVER = path.join(ROOT, 'src', 'server.ts');
/** The one line server.ts prints once it listens. */
const READY_LINE = /The Harbour Ledger is at (http:\/\/[^\s/]+)\//;
/** Enough of each stream to explain a failure, without holding a chatty log in memory. */
const OUTPUT_KEPT = 64 * 1024;

export interface SiteExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SiteProcess {
  /** `http://127.0.0.1:<port>`, no trailing slash */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Settles when the process has exited, however it ended. */
  readonly exited: Promise<SiteExit>;
  /** Whether it has exited by now. */
  hasExited(): boolean;
  /** Closes the test's end of the process's stdout, as a log reader that dies would: its writes then fail with EPIPE. */
  closeStdout(): void;
  /** What the process wrote so far (the last 64 KiB of each stream). */
  output(): { stdout: string; stderr: string };
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL, as a crash or an OOM kill would end it; resolves once it is gone. */
  kill(): Promise<SiteExit>;
}

export interface StartSiteProcessOptions {
  /** The site's whole environment: nothing of this process's own is passed on but PATH. */
  env: Record<string, string>;
  /** server.ts reads `.env` from here, so by default a folder holding none: the data folder. */
  cwd: string;
  /** Start-up (a swc compile of every source file, migrations) gives up after this. Default 20 s. */
  startTimeoutMs?: number;
}

const running = new Set<ChildProcess>();

function exitOf(child: ChildProcess): Promise<SiteExit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function keepTail(kept: string, chunk: Buffer): string {
  const joined = kept + chunk.toString('utf8');
  return joined.length > OUTPUT_KEPT ? joined.slice(-OUTPUT_KEPT) : joined;
}

/**
 * Runs `src/server.ts` in a child `node`, as `npm start` would but without a build, and resolves
 * once it prints the address it listens on. A child that exits or stays silent past the timeout
 * is killed and the start rejects with what it wrote.
 */
export function startSiteProcess(options: StartSiteProcessOptions): Promise<SiteProcess> {
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const child = spawn(process.execPath, fromSource(SERVER), {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exited = exitOf(child);
  void exited.then(() => running.delete(child));

  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = keepTail(stderr, chunk)));
  const output = () => ({ stdout, stderr });

  return new Promise<SiteProcess>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`site process ${reason}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`printed no address within ${timeoutMs} ms`), timeoutMs);

    child.once('error', (error) => fail(`could not start: ${error.message}`));
    void exited.then(({ code, signal }) => fail(`exited before listening (code ${code}, signal ${signal})`));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout = keepTail(stdout, chunk);
      const match = settled ? null : READY_LINE.exec(stdout);
      if (!match?.[1]) return;
      settled = true;
      clearTimeout(timer);
      const url = match[1];
      resolve({
        url,
        port: Number(new URL(url).port),
        pid: child.pid!,
        exited,
        hasExited: () => child.exitCode !== null || child.signalCode !== null,
        closeStdout: () => child.stdout!.destroy(),
        output,
        signal: (signal) => {
          child.kill(signal);
        },
        kill: () => {
          child.kill('SIGKILL');
          return exited;
        },
      });
    });
  });
}

/** SIGKILLs every site process still running and waits (bounded) until they are gone: for afterEach. */
export async function killAllSiteProcesses(timeoutMs = 5_000): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([Promise.all(children.map(exitOf)), deadline]);
  clearTimeout(timer);
}

// A worker that dies mid-test must not leave a site listening behind it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface SiteEnvOptions {
  /** the session secret is generated into and read back from here, so it must outlive a restart */
  dataDir: string;
  databaseFile: string;
  platform: { url: string; embedSrc: string; siteId: string; apiKey: string };
  hookSecret: string;
  /** 0 (the default) lets the OS pick one */
  port?: number;
  /** overrides and additions */
  extra?: Record<string, string>;
}

/** The environment of a site on 127.0.0.1 that talks to a given platform (an emulator in the tests). */
export function siteProcessEnv(options: SiteEnvOptions): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    LOG_LEVEL: 'warn',
    DATABASE_URL: `sqlite:${options.databaseFile}`,
    DATA_DIR: options.dataDir,
    HOOK_SECRET: options.hookSecret,
    VF_SITE_ID: options.platform.siteId,
    VF_API_KEY: options.platform.apiKey,
    VF_API_URL: options.platform.url,
    VF_EMBED_SRC: options.platform.embedSrc,
    VF_TIMEOUT_MS: '1000',
    // Every reader of a test comes from 127.0.0.1: the per-IP limits would judge them as one.
    RATE_LIMIT_REGISTER_IP: '100000',
    RATE_LIMIT_LOGIN_IP: '100000',
    ...options.extra,
  };
}

export interface SiteReply {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One reader's browser against a site process: Node's fetch, redirects handed back rather than
 * followed, and a jar of the one cookie the site sets. Every request gives up after `timeoutMs`.
 */
export class SiteBrowser {
  /** the session cookie's value */
  cookie: string | undefined;
  /** the site's other cookies (the anonymous CSRF cookie, the known-device cookie), by name */
  readonly otherCookies = new Map<string, string>();

  constructor(
    public baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  get(pathname: string, headers: Record<string, string> = {}): Promise<SiteReply> {
    return this.send('GET', pathname, undefined, headers);
  }

  postForm(pathname: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<SiteReply> {
    return this.send('POST', pathname, new URLSearchParams(fields).toString(), { 'Content-Type': 'application/x-www-form-urlencoded', ...headers });
  }

  private async send(method: string, pathname: string, body: string | undefined, headers: Record<string, string>): Promise<SiteReply> {
    const res = await fetch(this.baseUrl + pathname, {
      method,
      body,
      headers: { ...headers, ...this.cookieHeader() },
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    for (const line of res.headers.getSetCookie()) {
      const value = /^vfb\.sid=([^;]*)/.exec(line)?.[1];
      if (value !== undefined) this.cookie = value === '' ? undefined : value;
      const other = /^(vfb\.(?:csrf|device))=([^;]*)/.exec(line);
      if (other) this.otherCookies.set(other[1]!, other[2]!);
    }
    return { status: res.status, headers: res.headers, text };
  }

  private cookieHeader(): Record<string, string> {
    const pairs = [...(this.cookie ? [`vfb.sid=${this.cookie}`] : []), ...[...this.otherCookies].map(([name, value]) => `${name}=${value}`)];
    return pairs.length > 0 ? { Cookie: pairs.join('; ') } : {};
  }
}
