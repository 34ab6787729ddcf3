/**
 * How readers log in (docs/oidc-login.md): the site's own password form, the publisher's OpenID
 * Provider, or both. `env` has empty values removed already.
 */
export type LoginMode = 'local' | 'oidc' | 'both';

export interface OidcSettings {
  /** the issuer identifier; its discovery document is `<issuer>/.well-known/openid-configuration` */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** where the provider sends the reader back; its path is served by the site */
  readonly redirectUrl: string;
  /** space-separated, always with `openid` */
  readonly scopes: string;
  /** what the login page's button names: "Log in with <providerName>" */
  readonly providerName: string;
}

export interface LoginConfig {
  readonly mode: LoginMode;
  /** set when the mode includes oidc */
  readonly oidc: OidcSettings | undefined;
}

const MODES: readonly LoginMode[] = ['local', 'oidc', 'both'];
const OIDC_VARIABLES = ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URL', 'OIDC_SCOPES', 'OIDC_PROVIDER_NAME'];
export const DEFAULT_OIDC_SCOPES = 'openid profile email';

/** Plain http only to this machine: a provider elsewhere is reached over TLS, or tokens and codes travel in the clear. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

function urlProblem(value: string | undefined, variable: string): string | undefined {
  if (value === undefined) return `${variable}: required with LOGIN=oidc or LOGIN=both`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${variable}: must be an absolute URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return `${variable}: must be an https:// URL (http:// only for localhost or 127.0.0.1)`;
}

export function readLoginConfig(env: Readonly<Record<string, string | undefined>>): { config: LoginConfig; problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const mode = (env['LOGIN'] ?? 'local') as LoginMode;
  if (!MODES.includes(mode)) return { config: { mode: 'local', oidc: undefined }, problems: ['LOGIN: must be local, oidc or both'], warnings };
  if (mode === 'local') {
    const unused = OIDC_VARIABLES.filter((name) => env[name] !== undefined);
    if (unused.length > 0) warnings.push(`${unused.join(', ')}: not used with LOGIN=local; set LOGIN=oidc or LOGIN=both to offer the provider's login`);
    return { config: { mode, oidc: undefined }, problems, warnings };
  }
  for (const variable of ['OIDC_ISSUER', 'OIDC_REDIRECT_URL']) {
    const problem = urlProblem(env[variable], variable);
    if (problem) problems.push(problem);
  }
  for (const variable of ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET']) {
    if (env[variable] === undefined) problems.push(`${variable}: required with LOGIN=oidc or LOGIN=both`);
  }
  const scopes = (env['OIDC_SCOPES'] ?? DEFAULT_OIDC_SCOPES).split(/\s+/).filter(Boolean);
  if (!scopes.includes('openid')) problems.push('OIDC_SCOPES: must include openid');
  if (scopes.some((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) problems.push('OIDC_SCOPES: scopes are printable ASCII without quotes or backslashes, separated by spaces');
  if (problems.length > 0) return { config: { mode, oidc: undefined }, problems, warnings };
  const issuer = env['OIDC_ISSUER']!;
  return {
    config: {
      mode,
      oidc: {
        issuer,
        clientId: env['OIDC_CLIENT_ID']!,
        clientSecret: env['OIDC_CLIENT_SECRET']!,
        redirectUrl: env['OIDC_REDIRECT_URL']!,
        scopes: scopes.join(' '),
        providerName: env['OIDC_PROVIDER_NAME'] ?? new URL(issuer).hostname,
      },
    },
    problems,
    warnings,
  };
}
