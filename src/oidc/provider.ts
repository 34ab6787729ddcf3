import * as client from 'openid-client';
import type { Clock } from 'vf-login-bridge';
import { AppError } from '../errors';
import { isLoopbackHost, type OidcSettings } from '../login-config';
import type { Logger } from '../logger';

/** How long the discovery document may take; a login waits for it. */
const DISCOVERY_TIMEOUT_SECONDS = 5;
/** After a failed discovery, the next login tries again no sooner than this. */
const RETRY_AFTER_MS = 10_000;

/** What the site needs of the provider's discovery document, once read. */
export interface DiscoveredProvider {
  configuration: client.Configuration;
  /** the issuer identifier exactly as the provider's tokens carry it in `iss` */
  issuer: string;
  /** where the provider's signing keys are (back-channel logout tokens are checked against them) */
  jwksUri: URL;
  /** RP-initiated logout: unset when the provider offers none */
  endSessionEndpoint: URL | undefined;
}

type DiscoveryState = { kind: 'idle' } | { kind: 'pending'; promise: Promise<DiscoveredProvider> } | { kind: 'ready'; provider: DiscoveredProvider } | { kind: 'failed'; at: number; error: AppError };

/**
 * The publisher's OpenID Provider, found by its discovery document (OpenID Connect Discovery 1.0)
 * once, on first need; one discovery at a time however many logins wait for it. A failed one is
 * reported (OIDC_UNAVAILABLE, 503) and tried again by a later login.
 */
export function createOidcProvider(settings: OidcSettings, deps: { clock: Clock; logger: Logger }) {
  let state: DiscoveryState = { kind: 'idle' };

  async function discover(): Promise<DiscoveredProvider> {
    const issuer = new URL(settings.issuer);
    const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
    const configuration = await client.discovery(issuer, settings.clientId, { client_secret: settings.clientSecret }, client.ClientSecretBasic(settings.clientSecret), {
      timeout: DISCOVERY_TIMEOUT_SECONDS,
      // Only a provider on this machine is spoken to over plain http (src/login-config.ts refuses any other).
      ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
    });
    // The ID token's signature is checked against the provider's keys too, not only trusted for arriving over TLS.
    client.enableNonRepudiationChecks(configuration);
    const metadata = configuration.serverMetadata();
    const problems = metadataProblems(metadata);
    if (problems.length > 0) throw new Error(problems.join('; '));
    return {
      configuration,
      issuer: metadata.issuer,
      jwksUri: new URL(metadata.jwks_uri!),
      endSessionEndpoint: metadata.end_session_endpoint ? new URL(metadata.end_session_endpoint) : undefined,
    };
  }

  function start(): Promise<DiscoveredProvider> {
    const promise = discover().then(
      (provider) => {
        state = { kind: 'ready', provider };
        return provider;
      },
      (cause: unknown) => {
        const error = new AppError('OIDC_UNAVAILABLE', `The sign-in at ${settings.providerName} is not available right now. Please try again in a minute.`, { cause });
        state = { kind: 'failed', at: deps.clock.now(), error };
        deps.logger.error({ code: 'OIDC_DISCOVERY_FAILED', issuer: settings.issuer, reason: reasonOf(cause) }, discoveryFix(settings.issuer));
        throw error;
      },
    );
    state = { kind: 'pending', promise };
    return promise;
  }

  return {
    settings,
    /** The provider's configuration; OIDC_UNAVAILABLE while its discovery document cannot be read. */
    discovered(): Promise<DiscoveredProvider> {
      switch (state.kind) {
        case 'ready':
          return Promise.resolve(state.provider);
        case 'pending':
          return state.promise;
        case 'failed':
          if (deps.clock.now() - state.at < RETRY_AFTER_MS) return Promise.reject(state.error);
          return start();
        case 'idle':
          return start();
      }
    },
  };
}

export type OidcProvider = ReturnType<typeof createOidcProvider>;

/** The parts of the document a code flow with PKCE and back-channel logout relies on, each a line. */
function metadataProblems(metadata: client.ServerMetadata): string[] {
  const problems: string[] = [];
  if (!metadata.authorization_endpoint) problems.push('the provider names no authorization_endpoint');
  if (!metadata.token_endpoint) problems.push('the provider names no token_endpoint');
  if (!metadata.jwks_uri) problems.push('the provider names no jwks_uri');
  // Keys and the logout page over TLS, as the issuer itself must be (src/login-config.ts): keys fetched in the clear could be anyone's.
  for (const [name, value] of [['jwks_uri', metadata.jwks_uri], ['end_session_endpoint', metadata.end_session_endpoint]] as const) {
    if (value && !isSecureOrLocal(value)) problems.push(`the provider's ${name} is not https`);
  }
  const methods = metadata.code_challenge_methods_supported;
  if (methods && !methods.includes('S256')) problems.push('the provider does not support PKCE with S256');
  return problems;
}

function isSecureOrLocal(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  } catch {
    return false;
  }
}

function reasonOf(cause: unknown): string {
  if (cause instanceof Error) return cause.message.slice(0, 300);
  return String(cause).slice(0, 300);
}

/** The log line's "what to do" (README.md#configuration). */
export function discoveryFix(issuer: string): string {
  return `The OpenID Provider's discovery document at ${new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`).href} cannot be read: check OIDC_ISSUER (the exact issuer identifier, as the document's "issuer" says it), OIDC_CLIENT_ID, and that the provider is reachable from this host. Logins with it are refused until it is; the site tries again on the next one`;
}
