import { pkcePair } from '../helpers/connect';
import { signInAndConsent, startOpenIdProvider, type RunningOpenIdProvider } from '../helpers/openid-provider';

/** The test peer itself: a real oidc-provider answers discovery and client credentials. */

const CLIENT = { client_id: 'peer-check', client_secret: 'peer-secret' };

let provider: RunningOpenIdProvider;

beforeAll(async () => {
  provider = await startOpenIdProvider({
    clients: [{ ...CLIENT, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_post' }],
  });
});
afterAll(() => provider.stop());

it('serves its discovery document under the issuer it printed, with the signing key it was given', async () => {
  const discovery = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  expect(discovery).toMatchObject({ issuer: provider.issuer, token_endpoint: `${provider.issuer}/token` });
  expect(discovery['grant_types_supported']).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
  expect(discovery['backchannel_logout_supported']).toBe(true);
  const jwks = (await (await fetch(String(discovery['jwks_uri']))).json()) as { keys: Array<{ kid: string }> };
  expect(jwks.keys.map((key) => key.kid)).toEqual(provider.privateJwks.keys.map((key) => key.kid));
});

it('issues a client_credentials token for the resource server scope, and refuses a wrong secret', async () => {
  const ask = (secret: string) =>
    fetch(`${provider.issuer}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'accounts', client_id: CLIENT.client_id, client_secret: secret }),
    });
  const granted = await ask(CLIENT.client_secret);
  expect(granted.status).toBe(200);
  expect(await granted.json()).toMatchObject({ token_type: 'Bearer', scope: 'accounts', access_token: expect.any(String) });
  const refused = await ask('wrong');
  expect(refused.status).toBe(401);
  expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
});

it('runs the authorization code flow with PKCE through its login and consent pages: ID token claims and a refresh token', async () => {
  const redirectUri = 'http://127.0.0.1:9/callback';
  const peer = await startOpenIdProvider({
    accounts: { alice: { name: 'Alice Example', email: 'alice@idp.example', email_verified: true } },
    clients: [
      {
        client_id: 'site',
        client_secret: 'site-secret',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [redirectUri],
        post_logout_redirect_uris: ['http://127.0.0.1:9/'],
        backchannel_logout_uri: 'http://127.0.0.1:9/oidc/backchannel-logout',
        backchannel_logout_session_required: true,
      },
    ],
  });
  try {
    const { verifier, challenge } = pkcePair();
    const authorize = new URL(`${peer.issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: 'site',
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid profile email offline_access',
      prompt: 'consent',
      state: 'st',
      nonce: 'n1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const back = await signInAndConsent(authorize.toString(), 'alice');
    expect(back.searchParams.get('state')).toBe('st');
    const code = back.searchParams.get('code');
    expect(code).toEqual(expect.any(String));

    const answer = await fetch(`${peer.issuer}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from('site:site-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri, code_verifier: verifier }),
    });
    const tokens = (await answer.json()) as Record<string, string>;
    expect(answer.status).toBe(200);
    expect(tokens['refresh_token']).toEqual(expect.any(String));
    const claims = JSON.parse(Buffer.from(tokens['id_token']!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: peer.issuer, aud: 'site', sub: 'alice', nonce: 'n1', name: 'Alice Example', email: 'alice@idp.example', email_verified: true, sid: expect.any(String) });
  } finally {
    await peer.stop();
  }
});
