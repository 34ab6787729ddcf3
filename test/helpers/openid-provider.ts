import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';

/**
 * A real OpenID Provider (oidc-provider 9) on 127.0.0.1 and a port the OS picks, in a child
 * `node` (test/helpers/openid-provider-process.mjs holds its whole configuration). Defaults: dev
 * interactions (its login page takes any login name as the account id, then a consent page),
 * back-channel logout, RP-initiated logout, client credentials, revocation and introspection on;
 * PKCE required; refresh tokens only for grants holding `offline_access` (which oidc-provider
 * keeps only with `prompt=consent`), rotated on every use. Scopes of the one resource server
 * (`accounts` by default, indicator `urn:vf:platform`) get an access token made for it, opaque
 * by default; a client's `scope` metadata may only name OpenID scopes (`scopes`).
 */
export interface OpenIdProviderOptions {
  /** oidc-provider client metadata: client_id, client_secret, grant_types, redirect_uris, ... */
  clients: Array<Record<string, unknown>>;
  /** account id → claims (`name`, `email`, `email_verified`, ...); other ids get generated claims */
  accounts?: Record<string, Record<string, unknown>>;
  /** the OpenID scopes; default openid offline_access profile email */
  scopes?: string[];
  /** scope → claims; default profile → name, email → email email_verified */
  claims?: Record<string, string[]>;
  /** merged one level deep over the defaults, e.g. `{ backchannelLogout: { enabled: false } }` */
  features?: Record<string, Record<string, unknown>>;
  /** seconds, by oidc-provider model name: AccessToken, ClientCredentials, RefreshToken, ... */
  ttl?: Record<string, number>;
  /** `offline_access` (default): only grants holding it; `always`: every grant allowed refresh_token */
  issueRefreshToken?: 'offline_access' | 'always';
  rotateRefreshToken?: boolean;
  pkceRequired?: boolean;
  conformIdTokenClaims?: boolean;
  resourceServer?: { indicator?: string; scope?: string; accessTokenFormat?: 'opaque' | 'jwt'; accessTokenTTL?: number };
  /** private signing keys; by default one RS256 key made for this start */
  jwks?: JSONWebKeySet;
  /** gives up on start-up after this; default 15 s */
  startTimeoutMs?: number;
}

export interface RunningOpenIdProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash */
  issuer: string;
  /** the signing keys, private parts included, so tests can sign as the issuer */
  privateJwks: JSONWebKeySet;
  /** what the process wrote on stderr, oidc-provider's start-up warnings left out */
  stderr(): string;
  stop(): Promise<void>;
}

const PROCESS = path.join(__dirname, 'openid-provider-process.mjs');
/** oidc-provider's notes about its runtime and its development-only defaults, expected here. */
const EXPECTED_WARNING = /^oidc-provider WARNING: /;

async function signingKeys(): Promise<JSONWebKeySet> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { keys: [{ ...jwk, kid: `test-${Date.now().toString(36)}`, alg: 'RS256', use: 'sig' }] };
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startOpenIdProvider(options: OpenIdProviderOptions): Promise<RunningOpenIdProvider> {
  const { startTimeoutMs = 15_000, ...config } = options;
  const privateJwks = config.jwks ?? (await signingKeys());
  const child = spawn(process.execPath, [PROCESS], {
    env: { PATH: process.env.PATH ?? '', OPENID_PROVIDER_CONFIG: JSON.stringify({ ...config, jwks: privateJwks }) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = exitOf(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const kept = chunk.toString('utf8').split('\n').filter((line) => !EXPECTED_WARNING.test(line)).join('\n');
    stderr += kept;
    if (kept.trim()) process.stderr.write(kept);
  });

  const issuer = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string) => {
      child.kill('SIGKILL');
      reject(new Error(`the OpenID Provider did not start: ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no address within ${startTimeoutMs} ms`), startTimeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      fail(`it exited with ${code}`);
    };
    child.once('exit', onExit);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (!line || !stdout.includes('\n')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve((JSON.parse(line) as { issuer: string }).issuer);
    });
  });

  return {
    issuer,
    privateJwks,
    stderr: () => stderr,
    async stop() {
      child.stdin!.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Cookies by name, as one browser holds them for the provider (paths do not matter here). */
export function keepCookies(jar: Map<string, string>, response: Response): void {
  for (const cookie of response.headers.getSetCookie()) {
    const [pair] = cookie.split(';');
    const at = pair!.indexOf('=');
    jar.set(pair!.slice(0, at), pair!.slice(at + 1));
  }
}

/**
 * What a reader's browser does on the provider's development login and consent pages: follows
 * `authorizeUrl`, signs in as `login` (any name is an account id), allows what is asked, and hands
 * back where the provider finally redirects away from itself (the client's redirect URI with
 * `code` and `state`, or an `error`), without following it.
 */
export async function signInAndConsent(authorizeUrl: string, login: string, jar = new Map<string, string>()): Promise<URL> {
  const origin = new URL(authorizeUrl).origin;
  let next: { url: string; form?: URLSearchParams } = { url: authorizeUrl };
  for (let hop = 0; hop < 12; hop += 1) {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(next.url, {
      method: next.form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie, ...(next.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(next.form ? { body: next.form.toString() } : {}),
    });
    keepCookies(jar, response);
    const location = response.headers.get('location');
    if (location) {
      const target = new URL(location, next.url);
      if (target.origin !== origin) return target;
      next = { url: target.toString() };
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]* action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
    if (response.status !== 200 || !action || !prompt) throw new Error(`the provider answered ${response.status}: ${page.slice(0, 500)}`);
    const form = new URLSearchParams({ prompt });
    if (prompt === 'login') {
      form.set('login', login);
      form.set('password', 'any');
    }
    next = { url: new URL(action.replace(/&amp;/g, '&'), next.url).toString(), form };
  }
  throw new Error('the provider kept redirecting');
}
