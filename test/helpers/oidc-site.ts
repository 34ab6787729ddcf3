import type TestAgent from 'supertest/lib/agent';
import type { LoginMode } from '../../src/login-config';
import { keepCookies, signInAndConsent, startOpenIdProvider, type OpenIdProviderOptions, type RunningOpenIdProvider } from './openid-provider';
import { startTestSite, type TestSite, type TestSiteOptions } from './site';
import type { SiteOptions } from '../../src/site';
import { listenFirst } from './listen-first';

/** The site's client at the provider: its secret has every character where Basic encodings differ. */
export const OIDC_CLIENT_ID = 'harbour-ledger';
export const OIDC_CLIENT_SECRET = 'secret with : + % / = and a space';

/** The provider's readers (its development login takes the account id as the login name). */
export const PROVIDER_ACCOUNTS: Record<string, Record<string, unknown>> = {
  alice: { name: 'Alice Provider', email: 'alice@example.com', email_verified: true },
  bob: { name: 'Bob Unverified', email: 'bob@example.com', email_verified: false },
  'dora-at-provider': { name: 'Dora Elsewhere', email: 'dora@example.com', email_verified: true },
};

export interface OidcTestSite {
  t: TestSite;
  op: RunningOpenIdProvider;
  /** where the site listens, for the provider's back-channel calls and redirects */
  base: string;
  close(): Promise<void>;
}

/** A real OpenID Provider whose one client is a site at `base`: its redirect, logout and back-channel URIs. */
export function startProviderFor(base: string, options: Partial<OpenIdProviderOptions> & { extraClients?: OpenIdProviderOptions['clients'] } = {}): Promise<RunningOpenIdProvider> {
  const { extraClients = [], ...rest } = options;
  return startOpenIdProvider({
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: OIDC_CLIENT_SECRET,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [`${base}/login/oidc/callback`],
        post_logout_redirect_uris: [`${base}/`],
        backchannel_logout_uri: `${base}/oidc/backchannel-logout`,
        backchannel_logout_session_required: true,
        token_endpoint_auth_method: 'client_secret_basic',
      },
      ...extraClients,
    ],
    accounts: PROVIDER_ACCOUNTS,
    ...rest,
  });
}

/** A test site's settings for logging in with `op`, the site being at `base`. */
export function oidcOverrides(base: string, issuer: string, mode: LoginMode = 'both'): Partial<SiteOptions> {
  return {
    login: {
      mode,
      oidc: { issuer, clientId: OIDC_CLIENT_ID, clientSecret: OIDC_CLIENT_SECRET, redirectUrl: `${base}/login/oidc/callback`, scopes: 'openid profile email', providerName: 'Harbour ID' },
    },
    mail: { publicUrl: base },
  };
}

/**
 * A real OpenID Provider and a site that logs readers in with it. The site listens first (its port
 * goes into the client's URIs at the provider), and answers once it is built.
 */
export async function startOidcTestSite(options: { mode?: LoginMode; provider?: Partial<OpenIdProviderOptions>; site?: TestSiteOptions; op?: RunningOpenIdProvider } = {}): Promise<OidcTestSite> {
  const server = await listenFirst();
  const { base } = server;
  const op = options.op ?? (await startProviderFor(base, options.provider));
  const t = await startTestSite({ ...options.site, overrides: { ...oidcOverrides(base, op.issuer, options.mode), ...options.site?.overrides } });
  server.serve(t.site.app);
  return {
    t,
    op,
    base,
    async close() {
      await server.close();
      await t.close();
      if (!options.op) await op.stop();
    },
  };
}

/**
 * A reader logs in with the provider: the site's redirect, the provider's login and consent pages,
 * and the site's callback. `providerCookies` is the reader's browser at the provider (its session there).
 */
export async function logInWithProvider(agent: TestAgent, login: string, providerCookies = new Map<string, string>(), returnTo = '/'): Promise<{ callback: URL; status: number; location: string | undefined }> {
  const start = await agent.get(`/login/oidc?returnTo=${encodeURIComponent(returnTo)}`);
  if (start.status !== 302 && start.status !== 303) throw new Error(`/login/oidc answered ${start.status}: ${start.text.slice(0, 300)}`);
  const callback = await signInAndConsent(start.headers.location!, login, providerCookies);
  const done = await agent.get(callback.pathname + callback.search);
  return { callback, status: done.status, location: done.headers.location };
}

/** The reader logs out at the provider itself (its own end-session page, no client named): the provider tells each client by back-channel. */
export async function logOutAtProvider(issuer: string, providerCookies: Map<string, string>): Promise<void> {
  let url = `${issuer}/session/end`;
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 8; hop += 1) {
    const cookie = [...providerCookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: form.toString() } : {}),
    });
    keepCookies(providerCookies, response);
    const location = response.headers.get('location');
    if (location) {
      const target = new URL(location, url);
      if (target.origin !== new URL(issuer).origin) return;
      url = target.href;
      form = undefined;
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]* action="([^"]+)"/.exec(page)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
    if (!action || !xsrf) {
      if (response.status === 200) return;
      throw new Error(`the provider's logout answered ${response.status}: ${page.slice(0, 300)}`);
    }
    form = new URLSearchParams({ xsrf, logout: 'yes' });
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
  }
  throw new Error('the provider kept redirecting');
}
