import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { generateKeyPair, importJWK, SignJWT, type JWK, type JWTHeaderParameters } from 'jose';
import { embedTagOf } from '../helpers/browser-flow';
import { logInWithProvider, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, startOidcTestSite, type OidcTestSite } from '../helpers/oidc-site';
import type { TestSite } from '../helpers/site';

/** OpenID Connect Back-Channel Logout 1.0 §2.4: the event that makes a JWT a logout token. */
const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** The site's limit on a logout token's age (packages/bridge/src/oidc/backchannel-routes.ts). */
const MAX_AGE_MS = 5 * 60_000;

let s: OidcTestSite;
/** A second instance of the site on the same stores, emulator and clock. */
let other: TestSite;
beforeAll(async () => {
  s = await startOidcTestSite();
  other = await s.t.restart();
});
afterAll(async () => {
  await other.close();
  await s.close();
});

const nowSeconds = () => Math.floor(s.t.clock.now() / 1000);
let logins = 0;

/** A reader's login here through one session at the provider, and what a logout token would name. */
interface Login {
  agent: TestAgent;
  /** the provider's account id: the ID token's `sub` */
  sub: string;
  /** the provider's session this login came from: the ID token's `sid` */
  idpSid: string;
  platformSid: string;
  providerCookies: Map<string, string>;
}

/** The provider session a login came from, as the site keeps it with the host session (src/auth/session-index.ts). */
async function idpSidOf(platformSid: string): Promise<string> {
  const db = s.t.site.database.db;
  const { host_sid } = await db.selectFrom('bridge_sessions').select('host_sid').where('platform_session', '=', platformSid).executeTakeFirstOrThrow();
  const { idp_sid } = await db.selectFrom('user_sessions').select('idp_sid').where('sid', '=', host_sid).executeTakeFirstOrThrow();
  if (idp_sid === null) throw new Error('the login kept no provider session');
  return idp_sid;
}

/** Logs `sub` in with a browser of its own; `providerCookies` is its session at the provider (a fresh one by default). */
async function login(sub = `reader-${++logins}`, providerCookies = new Map<string, string>()): Promise<Login> {
  const agent = s.t.agent();
  const done = await logInWithProvider(agent, sub, providerCookies);
  if (done.status !== 303) throw new Error(`the login of ${sub} answered ${done.status}`);
  const platformSid = embedTagOf((await agent.get('/').expect(200)).text).sid;
  if (!platformSid) throw new Error(`${sub} has no platform session`);
  return { agent, sub, idpSid: await idpSidOf(platformSid), platformSid, providerCookies };
}

async function isLoggedIn(reader: Login): Promise<boolean> {
  return (await reader.agent.get('/api/session').expect(200)).body.user !== null;
}

async function expectStays(reader: Login): Promise<void> {
  expect(await isLoggedIn(reader)).toBe(true);
  expect(s.t.emulator.sessionInfo(reader.platformSid)?.alive).toBe(true);
}

async function expectEnded(reader: Login): Promise<void> {
  expect(await isLoggedIn(reader)).toBe(false);
  expect(s.t.emulator.sessionInfo(reader.platformSid)?.alive).toBe(false);
}

/** Claims of a good logout token for `reader`; a claim given as undefined is left out. */
function claimsFor(reader: Login, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const claims: Record<string, unknown> = { iss: s.op.issuer, aud: OIDC_CLIENT_ID, iat: nowSeconds(), jti: randomUUID(), events: { [LOGOUT_EVENT]: {} }, sid: reader.idpSid, sub: reader.sub, ...changes };
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}

const issuerJwk = () => s.op.privateJwks.keys[0] as JWK;

/** Signed as the issuer (its real key) unless `key` says otherwise. */
async function signed(claims: Record<string, unknown>, options: { key?: CryptoKey | Uint8Array; header?: Partial<JWTHeaderParameters> } = {}): Promise<string> {
  const key = options.key ?? (await importJWK(issuerJwk(), 'RS256'));
  const header: JWTHeaderParameters = { alg: 'RS256', kid: issuerJwk().kid, typ: 'logout+jwt', ...options.header };
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/** An unsecured JWT (RFC 7519 §6): `alg: none` and an empty signature. */
function unsecured(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'logout+jwt' })}.${part(claims)}.`;
}

function send(token: string, site: TestSite = s.t) {
  return request(site.site.app).post('/oidc/backchannel-logout').type('form').send({ logout_token: token });
}

/** Log records written from `from` on. */
function recordsSince(from: number, site: TestSite = s.t): Array<Record<string, unknown>> {
  return site.logLines.slice(from).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * A refusal as §2.8 has it: 400 with an `error`, never cached; one log line of reason, without the
 * token; and no session of the reader ended, here or on the platform.
 */
async function expectRefused(reply: Promise<request.Response>, token: string | undefined, reason: RegExp, readers: Login[], site: TestSite = s.t): Promise<void> {
  const from = site.logLines.length;
  const res = await reply;
  expect(res.status).toBe(400);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body).toMatchObject({ error: 'invalid_request' });
  const refusals = recordsSince(from, site).filter((record) => record['code'] === 'LOGOUT_TOKEN_INVALID');
  expect(refusals).toHaveLength(1);
  expect(refusals[0]!['reason']).toMatch(reason);
  if (token !== undefined) {
    // Neither the token nor any of its parts is written anywhere in the log.
    for (const part of token.split('.').filter((piece) => piece.length > 8)) expect(site.logLines.slice(from).join('\n')).not.toContain(part);
  }
  for (const reader of readers) await expectStays(reader);
}

async function expectAccepted(res: request.Response): Promise<void> {
  expect(res.status).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('POST /oidc/backchannel-logout refuses a token that fails a check, and ends no session', () => {
  it('a signature by a key that is not the issuer\'s, under the issuer\'s key id', async () => {
    const reader = await login();
    const { privateKey } = await generateKeyPair('RS256');
    const token = await signed(claimsFor(reader), { key: privateKey });
    await expectRefused(send(token), token, /signature/, [reader]);
  });

  it('an `aud` that is another client', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { aud: 'another-client' }));
    await expectRefused(send(token), token, /aud/, [reader]);
  });

  it('`alg: none` (an unsecured JWT)', async () => {
    const reader = await login();
    const token = unsecured(claimsFor(reader));
    await expectRefused(send(token), token, /algorithm/, [reader]);
  });

  it('HS256 signed with the client secret, which the site also holds', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader), { key: new TextEncoder().encode(OIDC_CLIENT_SECRET), header: { alg: 'HS256', kid: undefined } });
    await expectRefused(send(token), token, /algorithm/, [reader]);
  });

  it('a `nonce` (an ID token is no logout token)', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { nonce: 'n-0S6_WzA2Mj' }));
    await expectRefused(send(token), token, /nonce/, [reader]);
  });

  it('an `iat` older than 5 minutes by the site\'s clock', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader));
    s.t.clock.advance(MAX_AGE_MS + 60_000);
    await expectRefused(send(token), token, /iat|expired/, [reader]);
  });

  it('an `iat` in the future', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { iat: nowSeconds() + 10 * 60 }));
    await expectRefused(send(token), token, /iat/, [reader]);
  });

  it('no `events` claim', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { events: undefined }));
    await expectRefused(send(token), token, /events claim is missing/, [reader]);
  });

  it('`events` without the back-channel logout member', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { events: { 'http://schemas.openid.net/event/something-else': {} } }));
    await expectRefused(send(token), token, /no back-channel logout event/, [reader]);
  });

  it('no `jti`', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { jti: undefined }));
    await expectRefused(send(token), token, /jti/, [reader]);
  });

  it('an `iss` that is not the issuer', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { iss: `${s.op.issuer}/other` }));
    await expectRefused(send(token), token, /iss/, [reader]);
  });

  it('a token typed `at+jwt` (an access token)', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader), { header: { typ: 'at+jwt' } });
    await expectRefused(send(token), token, /typed at\+jwt/, [reader]);
  });

  it('neither `sid` nor `sub`', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader, { sid: undefined, sub: undefined }));
    await expectRefused(send(token), token, /neither sid nor sub/, [reader]);
  });

  it('a `jti` already used, on another instance: the reader\'s next login stays', async () => {
    const providerCookies = new Map<string, string>();
    const first = await login(undefined, providerCookies);
    const token = await signed(claimsFor(first, { sub: undefined }));
    await expectAccepted(await send(token));
    await expectEnded(first);
    // The reader logs in again through the same provider session: the same `sid`.
    const again = await login(first.sub, providerCookies);
    expect(again.idpSid).toBe(first.idpSid);
    await expectRefused(send(token, other), token, /used already/, [again], other);
    await expectRefused(send(token), token, /used already/, [again]);
  });

  it('a form with no logout_token, and a body that is not a form', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader));
    const post = () => request(s.t.site.app).post('/oidc/backchannel-logout');
    await expectRefused(post().type('form').send({ token }), token, /no logout_token/, [reader]);
    await expectRefused(post().type('form').send({ logout_token: '' }), undefined, /no logout_token/, [reader]);
    await expectRefused(post().type('json').send({ logout_token: token }), token, /no logout_token/, [reader]);
    await expectRefused(post().type('text').send(`logout_token=${token}`), token, /no logout_token/, [reader]);
    await expectRefused(post(), undefined, /no logout_token/, [reader]);
    // A form too large to be a logout token, or in a charset other than UTF-8: refused by the parser, and said so.
    await expectRefused(post().type('form').send(`logout_token=${token}&padding=${'a'.repeat(20_000)}`), token, /not a logout form \(entity\.too\.large\)/, [reader]);
    await expectRefused(post().set('Content-Type', 'application/x-www-form-urlencoded; charset=latin1').send(`logout_token=${token}`), token, /not a logout form \(charset\.unsupported\)/, [reader]);
    // Nor a token made of anything but a JWT.
    await expectRefused(send('not-a-jwt'), undefined, /not a valid JWT|JWS|JWT/, [reader]);
  });

  it('a GET is 405 and ends nothing', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader));
    const res = await request(s.t.site.app).get(`/oidc/backchannel-logout?logout_token=${token}`).expect(405);
    expect(res.headers['allow']).toBe('POST');
    await expectStays(reader);
    // The token itself is still good: the GET did not spend it.
    await expectAccepted(await send(token));
    await expectEnded(reader);
  });
});

describe('POST /oidc/backchannel-logout with a good token', () => {
  it('sent twice at once to two instances: exactly one 200, one logout', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader));
    const logoutsBefore = s.t.emulator.stats().calls.logout;
    const answers = await Promise.all([send(token), send(token, other)]);
    expect(answers.map((res) => res.status).sort()).toEqual([200, 400]);
    for (const res of answers) expect(res.headers['cache-control']).toBe('no-store');
    await expectEnded(reader);
    expect(s.t.emulator.stats().calls.logout - logoutsBefore).toBe(1);
  });

  /** One reader: two site logins through one provider session, one through another; and a bystander. */
  async function readerInThreeBrowsers() {
    const cookies = new Map<string, string>();
    const first = await login(undefined, cookies);
    const sameProviderSession = await login(first.sub, cookies);
    const otherProviderSession = await login(first.sub);
    expect(sameProviderSession.idpSid).toBe(first.idpSid);
    expect(otherProviderSession.idpSid).not.toBe(first.idpSid);
    const bystander = await login();
    return { first, sameProviderSession, otherProviderSession, bystander };
  }

  it('`sid` only: ends the logins of that provider session, not the reader\'s others', async () => {
    const { first, sameProviderSession, otherProviderSession, bystander } = await readerInThreeBrowsers();
    const from = s.t.logLines.length;
    await expectAccepted(await send(await signed(claimsFor(first, { sub: undefined }))));
    await expectEnded(first);
    await expectEnded(sameProviderSession);
    await expectStays(otherProviderSession);
    await expectStays(bystander);
    expect(recordsSince(from).filter((record) => record['code'] === 'BACKCHANNEL_LOGOUT')).toEqual([expect.objectContaining({ by: 'sid', ended: 2 })]);
  });

  it('`sub` only: ends every session of the reader, from every provider session', async () => {
    const { first, sameProviderSession, otherProviderSession, bystander } = await readerInThreeBrowsers();
    const from = s.t.logLines.length;
    await expectAccepted(await send(await signed(claimsFor(first, { sid: undefined }))));
    for (const reader of [first, sameProviderSession, otherProviderSession]) await expectEnded(reader);
    await expectStays(bystander);
    expect(recordsSince(from).filter((record) => record['code'] === 'BACKCHANNEL_LOGOUT')).toEqual([expect.objectContaining({ by: 'sub', ended: 3 })]);
  });

  it('`sid` and `sub`: ends the logins of that provider session', async () => {
    const { first, sameProviderSession, otherProviderSession, bystander } = await readerInThreeBrowsers();
    await expectAccepted(await send(await signed(claimsFor(first))));
    await expectEnded(first);
    await expectEnded(sameProviderSession);
    await expectStays(otherProviderSession);
    await expectStays(bystander);
  });

  it('a `sub` this site has never seen: 200, nothing ends', async () => {
    const bystander = await login();
    await expectAccepted(await send(await signed(claimsFor(bystander, { sid: undefined, sub: 'nobody-here' }))));
    await expectStays(bystander);
  });

  it('while the platform is down: 200, the host session ends, and the platform logout is delivered once it is back', async () => {
    const reader = await login();
    const token = await signed(claimsFor(reader));
    s.t.emulator.faults.failAll('drop', 'any');
    try {
      await expectAccepted(await send(token));
      expect(await isLoggedIn(reader)).toBe(false);
      // Queued, not lost: the platform still holds the session.
      expect(s.t.emulator.sessionInfo(reader.platformSid)?.alive).toBe(true);
      expect((await s.t.site.platform.bridge.status()).pendingLogouts).toBeGreaterThanOrEqual(1);
    } finally {
      s.t.emulator.faults.reset();
    }
    // Past the bridge's retry time and the breaker's cool-down, the delivery job sends it.
    s.t.clock.advance(5 * 60_000);
    await s.t.site.jobs.run('deliver');
    expect(s.t.emulator.sessionInfo(reader.platformSid)?.alive).toBe(false);
    expect((await s.t.site.platform.bridge.status()).pendingLogouts).toBe(0);
  });
});

describe('a provider whose keys cannot be fetched', () => {
  let down: OidcTestSite;
  beforeAll(async () => {
    down = await startOidcTestSite();
  });
  afterAll(() => down.close());

  it('answers 503 (the provider may send again) and ends no session', async () => {
    const agent = down.t.agent();
    expect((await logInWithProvider(agent, 'kept')).status).toBe(303);
    const platformSid = embedTagOf((await agent.get('/').expect(200)).text).sid!;
    const token = await new SignJWT({ iss: down.op.issuer, aud: OIDC_CLIENT_ID, iat: Math.floor(down.t.clock.now() / 1000), jti: randomUUID(), events: { [LOGOUT_EVENT]: {} }, sub: 'kept' })
      .setProtectedHeader({ alg: 'RS256', kid: down.op.privateJwks.keys[0]!.kid, typ: 'logout+jwt' })
      .sign(await importJWK(down.op.privateJwks.keys[0] as JWK, 'RS256'));
    await down.op.stop();

    const from = down.t.logLines.length;
    const res = await request(down.t.site.app).post('/oidc/backchannel-logout').type('form').send({ logout_token: token });
    expect(res.status).toBe(503);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(recordsSince(from, down.t).filter((record) => record['code'] === 'LOGOUT_TOKEN_INVALID')).toEqual([expect.objectContaining({ status: 503 })]);
    expect((await agent.get('/api/session').expect(200)).body.user).not.toBeNull();
    expect(down.t.emulator.sessionInfo(platformSid)?.alive).toBe(true);
  });
});
