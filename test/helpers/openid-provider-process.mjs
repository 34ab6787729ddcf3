/**
 * A real OpenID Provider (oidc-provider) for the test suites, run as a child process with plain
 * `node`: oidc-provider is an ES module that jest does not load. test/helpers/openid-provider.ts
 * starts it and documents the options; they arrive as JSON in OPENID_PROVIDER_CONFIG (or argv[2]),
 * data only, so every policy function lives here. It listens on 127.0.0.1 and a port the OS
 * picks, prints one line `{"issuer": ...}` on stdout, and exits when its stdin closes (the test
 * process ended, however it ended) or on SIGTERM.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const options = JSON.parse(process.env.OPENID_PROVIDER_CONFIG ?? process.argv[2] ?? '{}');

/** The one resource server: an access token for its scopes is made for it, not for userinfo. */
const resourceServer = {
  indicator: 'urn:vf:platform',
  scope: 'accounts',
  accessTokenFormat: 'opaque',
  ...(options.resourceServer ?? {}),
};
const resourceScopes = new Set(resourceServer.scope.split(' '));

function asksForResourceScope(scope) {
  return typeof scope === 'string' && scope.split(' ').some((value) => resourceScopes.has(value));
}

const accounts = options.accounts ?? {};

async function findAccount(_ctx, id) {
  const known = accounts[id];
  const claims = { sub: id, ...(known ?? { name: `Reader ${id}`, email: `${id}@idp.example`, email_verified: true }) };
  return { accountId: id, claims: async () => claims };
}

/** Data options merged over the defaults, one level deep for each feature. */
function mergeFeatures(defaults, overrides = {}) {
  const merged = { ...defaults };
  for (const [name, value] of Object.entries(overrides)) merged[name] = { ...(defaults[name] ?? {}), ...value };
  return merged;
}

const refreshPolicy = options.issueRefreshToken ?? 'offline_access';

const configuration = {
  clients: options.clients ?? [],
  jwks: options.jwks,
  findAccount,
  scopes: options.scopes ?? ['openid', 'offline_access', 'profile', 'email'],
  claims: options.claims ?? {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  // Claims asked for by scope go into the ID token too, not only to userinfo.
  conformIdTokenClaims: options.conformIdTokenClaims ?? false,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // The provider's own calls out (back-channel logout) go to a test site on 127.0.0.1, an address its
  // default protection against server-side request forgery refuses; here every peer is on loopback.
  fetch: (url, init) => {
    const { dispatcher: _loopbackRefused, ...rest } = init;
    return globalThis.fetch(url, rest);
  },
  pkce: { required: () => options.pkceRequired ?? true },
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
    RefreshToken: 14 * 24 * 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    ...(options.ttl ?? {}),
  },
  issueRefreshToken: async (_ctx, client, source) =>
    client.grantTypeAllowed('refresh_token') && (refreshPolicy === 'always' || source.scopes.has('offline_access')),
  // Every refresh answers a new refresh token; the old one stops working.
  rotateRefreshToken: options.rotateRefreshToken ?? true,
  features: mergeFeatures(
    {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true, allowedPolicy: async () => true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, _client, oneOf) => oneOf ?? (asksForResourceScope(ctx.oidc.params?.scope) ? resourceServer.indicator : undefined),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resourceServer.indicator) throw new errors.InvalidTarget();
          return {
            scope: resourceServer.scope,
            audience: resourceServer.indicator,
            accessTokenFormat: resourceServer.accessTokenFormat,
            ...(resourceServer.accessTokenTTL ? { accessTokenTTL: resourceServer.accessTokenTTL } : {}),
            ...(resourceServer.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: resourceServer.jwtAlg ?? 'RS256' } } } : {}),
          };
        },
      },
    },
    options.features,
  ),
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);
  server.on('request', provider.callback());
  // A back-channel logout the provider could not deliver is the tests' to see, not silently lost.
  provider.on('backchannel.error', (_ctx, error, client) => process.stderr.write(`backchannel.error ${client?.clientId}: ${error?.message} ${error?.cause?.message ?? ''} ${error?.cause?.code ?? ''}\n`));
  provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error.message}\n`));
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

function stop() {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
