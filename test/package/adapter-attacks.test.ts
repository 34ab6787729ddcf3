import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';
import {
  createViafouraBridge,
  embedTagHtml,
  signHook,
  TablePrefixPlugin,
  type ViafouraBridge,
  type ViafouraBridgeOptions,
} from 'vf-login-bridge';
import { viafouraPassport } from 'vf-login-bridge/passport';
import { curlBasicAuth, startTestEmulator, TEST_API_KEY, TEST_SITE_ID, type TestEmulator } from '../helpers/emulator';
import { makeTempDir, openTempDatabase } from '../helpers/temp-database';
import { waitFor } from '../helpers/wait-for';
import { closeServer, listenLocally, publisherOptions, recordingLogger } from './publisher';

/**
 * What an attacker can try against a publisher's site built on the Express adapter, each kept as
 * the safe behaviour it must meet: the signed logout hook (README.md#the-logout-hook), the host
 * session and the platform session kept in it (docs/architecture.md#the-express-adapter), the
 * embed tag, the logs, and the table prefix.
 */

const HOOK_SECRET = 'acme-hook-secret-0123456789abcdefghij';
const SESSION_SECRET = 'acme-session-secret-0123456789abcdef';
const MINUTE = 60_000;

let emulator: TestEmulator;
let database: Awaited<ReturnType<typeof openTempDatabase>>;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  emulator = await startTestEmulator();
  database = await openTempDatabase();
});
afterEach(async () => {
  emulator.faults.reset();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await database.close();
  await emulator.close();
});

async function bridgeFor(overrides: Partial<ViafouraBridgeOptions> = {}): Promise<ViafouraBridge> {
  const viafoura = await createViafouraBridge(publisherOptions(emulator, database.db, { logger: recordingLogger(), ...overrides }));
  cleanups.push(() => viafoura.close());
  return viafoura;
}

type AppShape = {
  /** body parsers the app mounts before everything, the hook router included */
  parsersFirst?: express.RequestHandler[];
};

/**
 * A publisher's app as the README has it: a login that regenerates the session, a logout, a page
 * showing the embed tag. `/login-json` takes the user from a JSON body, so a test can log in a
 * reader with any id and name; `/login-same/:name` is a login that forgets to regenerate.
 */
async function publisherApp(viafoura: ViafouraBridge, shape: AppShape = {}) {
  const app = express();
  if (shape.parsersFirst) app.use(...shape.parsersFirst);
  app.use('/hooks', viafoura.hookRouter({ secret: HOOK_SECRET }));
  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: viafoura.sessionStore }));
  app.use(viafoura.middleware);
  const login = (req: express.Request, res: express.Response, next: express.NextFunction, user: { id: string; name: string }) =>
    req.session.regenerate((err) => {
      if (err) return next(err);
      viafoura.onLogin(req, user).then(() => res.sendStatus(204), next);
    });
  app.post('/login/:name', (req, res, next) => login(req, res, next, { id: `acme-${req.params.name}`, name: req.params.name }));
  app.post('/login-json', express.json(), (req, res, next) => login(req, res, next, { id: String(req.body.id), name: String(req.body.name) }));
  app.post('/login-same/:name', (req, res, next) =>
    void viafoura.onLogin(req, { id: `acme-${req.params.name}`, name: req.params.name }).then((platform) => res.json({ session: platform?.session ?? null }), next),
  );
  app.post('/logout', (req, res, next) => void viafoura.onLogout(req).then(() => res.sendStatus(204), next));
  app.get('/whoami', (req, res) => res.json({ sid: req.sessionID }));
  app.get('/', (_req, res) => res.send(res.locals.viafoura.embedTag));
  const server = await listenLocally(app);
  cleanups.push(() => closeServer(server));
  return server;
}

const sidOf = (page: string) => /data-sid="([^"]+)"/.exec(page)?.[1];
const nowSeconds = () => Math.floor(emulator.clock.now() / 1000);
const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2)}`;

function postHook(server: http.Server, body: string, signature: string | undefined, contentType = 'application/json') {
  const req = request(server).post('/hooks/logout').set('Content-Type', contentType);
  if (signature !== undefined) req.set('X-Hook-Signature', signature);
  return req.send(body);
}

/** A reader logged in through the app; their platform session as their page shows it. */
async function loggedInReader(server: http.Server, name: string) {
  const agent = request.agent(server);
  await agent.post(`/login/${name}`).expect(204);
  const platformSid = sidOf((await agent.get('/').expect(200)).text)!;
  expect(emulator.sessionInfo(platformSid)?.alive).toBe(true);
  return { agent, platformSid, userId: `acme-${name}` };
}

describe('a replayed or altered logout hook', () => {
  const keepRawBody = (req: http.IncomingMessage, _res: http.ServerResponse, buffer: Buffer) => {
    (req as unknown as { rawBody: Buffer }).rawBody = buffer;
  };

  it.each<[string, AppShape]>([
    ['mounted before the parsers', {}],
    ['behind express.json()', { parsersFirst: [express.json()] }],
    ['behind express.json() keeping the raw body', { parsersFirst: [express.json({ verify: keepRawBody })] }],
  ])('%s: a delivered hook replayed re-spaced, reordered, with duplicated keys or an upper-case signature is refused', async (_label, shape) => {
    const viafoura = await bridgeFor();
    const server = await publisherApp(viafoura, shape);
    const name = unique('replayed');
    const body = JSON.stringify({ userId: `acme-${name}` });
    const signature = signHook(HOOK_SECRET, nowSeconds(), body);
    await postHook(server, body, signature).expect(200, { loggedOut: 0 });

    // The reader logs in again: no replay of the old hook may log them out.
    const reader = await loggedInReader(server, name);
    const replays = [
      body,
      `{ "userId" : "acme-${name}" }`,
      `{"userId":"acme-nobody","userId":"acme-${name}"}`,
      `\n${body}\n`,
    ];
    for (const replay of replays) {
      const res = await postHook(server, replay, signature);
      expect(res.status).not.toBe(200);
    }
    const upper = signature.replace(/v1=([0-9a-f]+)/, (_m, hex: string) => `v1=${hex.toUpperCase()}`);
    const res = await postHook(server, body, upper).expect(401);
    expect(res.body.error.code).toBe('HOOK_REPLAYED');
    expect(emulator.sessionInfo(reader.platformSid)?.alive).toBe(true);
    expect(sidOf((await reader.agent.get('/').expect(200)).text)).toBe(reader.platformSid);
  });

  it.each<[string, AppShape, number]>([
    ['mounted before the parsers', {}, 401],
    ['behind express.json()', { parsersFirst: [express.json()] }, 500],
    ['behind express.json() keeping the raw body', { parsersFirst: [express.json({ verify: keepRawBody })] }, 401],
  ])('%s: a signed body with another user id added as a duplicate key logs nobody out', async (_label, shape, status) => {
    const viafoura = await bridgeFor();
    const server = await publisherApp(viafoura, shape);
    const victim = await loggedInReader(server, unique('victim'));
    // Signed for a user the attacker may log out; the last duplicate key wins in JSON.parse.
    const signedFor = `acme-${unique('mallory')}`;
    const signature = signHook(HOOK_SECRET, nowSeconds(), JSON.stringify({ userId: signedFor }));
    const res = await postHook(server, `{"userId":"${signedFor}","userId":"${victim.userId}"}`, signature);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(status === 500 ? 'HOOK_BODY_CONSUMED' : 'HOOK_SIGNATURE_INVALID');
    expect(emulator.sessionInfo(victim.platformSid)?.alive).toBe(true);
  });

  it('mounted before the parsers: bytes that parse to the signed object but differ from it are refused', async () => {
    const server = await publisherApp(await bridgeFor());
    const victim = await loggedInReader(server, unique('respaced'));
    const signature = signHook(HOOK_SECRET, nowSeconds(), JSON.stringify({ userId: victim.userId }));
    for (const body of [`{ "userId": "${victim.userId}" }`, `{"userId":"${victim.userId}"} `, `{"user\\u0049d":"${victim.userId}"}`]) {
      const res = await postHook(server, body, signature).expect(401);
      expect(res.body.error.code).toBe('HOOK_SIGNATURE_INVALID');
    }
    expect(emulator.sessionInfo(victim.platformSid)?.alive).toBe(true);
  });

  it('behind express.urlencoded(), a form body parsed as the signed object is refused as not JSON', async () => {
    const viafoura = await bridgeFor();
    const server = await publisherApp(viafoura, { parsersFirst: [express.urlencoded({ extended: false })] });
    const victim = await loggedInReader(server, unique('form'));
    const signature = signHook(HOOK_SECRET, nowSeconds(), JSON.stringify({ userId: victim.userId }));
    const res = await postHook(server, `userId=${victim.userId}`, signature, 'application/x-www-form-urlencoded').expect(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(emulator.sessionInfo(victim.platformSid)?.alive).toBe(true);
  });
});

describe('an oversized or deeply nested hook body', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  it('mounted before the parsers: more than 4 KB is refused 413 before its signature is even checked', async () => {
    const server = await publisherApp(await bridgeFor());
    const body = JSON.stringify({ userId: 'x'.repeat(5000) });
    const res = await postHook(server, body, signHook(HOOK_SECRET, nowSeconds(), body)).expect(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('behind express.json(): a correctly signed body over 4 KB is refused 413', async () => {
    const server = await publisherApp(await bridgeFor(), { parsersFirst: [express.json()] });
    const body = JSON.stringify({ userId: 'x'.repeat(50_000) });
    const res = await postHook(server, body, signHook(HOOK_SECRET, nowSeconds(), body)).expect(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it.each<[string, AppShape]>([
    ['mounted before the parsers', {}],
    ['behind express.json()', { parsersFirst: [express.json()] }],
  ])('%s: a deeply nested body is refused as invalid or too large, never a 500 or a stack, and the site answers on', async (_label, shape) => {
    const server = await publisherApp(await bridgeFor(), shape);
    const cases: Array<[string, number, string]> = [
      [nested(600), 400, 'VALIDATION_FAILED'],
      [`{"userId":${nested(600)}}`, 400, 'VALIDATION_FAILED'],
      // Parsed by express.json(), this one is too deep to rebuild the compact form from.
      [nested(15_000), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await postHook(server, body, signHook(HOOK_SECRET, nowSeconds(), body));
      expect([res.status, res.body.error.code]).toEqual([status, code]);
      expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
    }
    await request(server).get('/').expect(200);
  });
});

describe('a hook for a user id with odd characters', () => {
  it.each(['%', 'acme-%', '_', 'acme-_%', "acme-' OR '1'='1", '__proto__', 'constructor', 'acme-\u0000'])('%j logs out nobody else', async (oddId) => {
    const server = await publisherApp(await bridgeFor());
    const bystander = await loggedInReader(server, unique('bystander'));
    const body = JSON.stringify({ userId: oddId });
    const res = await postHook(server, body, signHook(HOOK_SECRET, nowSeconds(), body));
    expect(res.status === 200 ? res.body : res.body.error.code).toEqual(res.status === 200 ? { loggedOut: 0 } : 'VALIDATION_FAILED');
    expect(emulator.sessionInfo(bystander.platformSid)?.alive).toBe(true);
  });

  it('a reader whose id holds quotes, wildcards and markup is logged out by exactly that id', async () => {
    const server = await publisherApp(await bridgeFor());
    const oddId = `acme-"<b>'%_\\${unique('odd')}`;
    const agent = request.agent(server);
    await agent.post('/login-json').send({ id: oddId, name: 'Odd' }).expect(204);
    const platformSid = sidOf((await agent.get('/').expect(200)).text)!;
    const body = JSON.stringify({ userId: oddId });
    await postHook(server, body, signHook(HOOK_SECRET, nowSeconds(), body)).expect(200, { loggedOut: 1 });
    expect(emulator.sessionInfo(platformSid)?.alive).toBe(false);
  });
});

describe('a forged or stale X-Hook-Signature', () => {
  it('is refused 401, and the refusal tells nothing of the expected signature', async () => {
    const logger = recordingLogger();
    const server = await publisherApp(await bridgeFor({ logger }));
    const victim = await loggedInReader(server, unique('forged'));
    const body = JSON.stringify({ userId: victim.userId });
    const t = nowSeconds();
    const good = signHook(HOOK_SECRET, t, body);
    const v1 = /v1=([0-9a-f]{64})/.exec(good)![1]!;
    const attempts: Array<[string | undefined, string]> = [
      [undefined, 'HOOK_SIGNATURE_INVALID'],
      ['', 'HOOK_SIGNATURE_INVALID'],
      [signHook('another-secret-another-secret-123456', t, body), 'HOOK_SIGNATURE_INVALID'],
      [`t=${t + 1},v1=${v1}`, 'HOOK_SIGNATURE_INVALID'],
      [`t=${t},v1=${v1.slice(0, 63)}`, 'HOOK_SIGNATURE_INVALID'],
      [`t=${t},v1=${'0'.repeat(64)}`, 'HOOK_SIGNATURE_INVALID'],
      [`v1=${v1}`, 'HOOK_SIGNATURE_INVALID'],
      [`t=${t},v1=${v1},${'x'.repeat(300)}`, 'HOOK_SIGNATURE_INVALID'],
      [`t=-${t},v1=${v1}`, 'HOOK_SIGNATURE_INVALID'],
      [signHook(HOOK_SECRET, t - 6 * 60, body), 'HOOK_SIGNATURE_STALE'],
      [signHook(HOOK_SECRET, t + 6 * 60, body), 'HOOK_SIGNATURE_STALE'],
    ];
    for (const [signature, code] of attempts) {
      const res = await postHook(server, body, signature).expect(401);
      expect(res.body.error.code).toBe(code);
      expect(res.text).not.toContain(v1);
    }
    expect(JSON.stringify(logger.lines)).not.toContain(v1);
    expect(emulator.sessionInfo(victim.platformSid)?.alive).toBe(true);
  });

  it('a hook signed within the window is refused once the clock has moved past it', async () => {
    const server = await publisherApp(await bridgeFor());
    const victim = await loggedInReader(server, unique('late'));
    const body = JSON.stringify({ userId: victim.userId });
    const signature = signHook(HOOK_SECRET, nowSeconds(), body);
    emulator.clock.advance(5 * MINUTE + 1_000);
    const res = await postHook(server, body, signature).expect(401);
    expect(res.body.error.code).toBe('HOOK_SIGNATURE_STALE');
    // Its platform session idled on meanwhile: the reader is not logged out by the late hook.
    expect(sidOf((await victim.agent.get('/').expect(200)).text)).toBeDefined();
  });
});

describe('a login and a logout racing on one session', () => {
  /** The host session id a response's Set-Cookie names, if it sets one. */
  const setSid = (res: request.Response) => {
    const cookie = /connect\.sid=s%3A([^.;]+)\./.exec(String(res.headers['set-cookie'] ?? ''));
    return cookie ? decodeURIComponent(cookie[1]!) : undefined;
  };
  const innerStore = (viafoura: ViafouraBridge) => (viafoura.sessionStore as unknown as { inner: session.Store }).inner;
  const holds = (store: session.Store, sid: string) => new Promise<boolean>((resolve, reject) => store.get(sid, (err, data) => (err ? reject(err) : resolve(data != null))));

  it('a logout sent while the platform login is under way ends the session it opens, and the page stays anonymous', async () => {
    const viafoura = await bridgeFor();
    const server = await publisherApp(viafoura);
    const agent = request.agent(server);
    await agent.post(`/login/${unique('racer')}`).expect(204);

    // The platform answers the second login slowly; the logout is sent once the login reached it.
    emulator.faults.setLatency(500, 'login');
    const loginsBefore = emulator.stats().calls.login;
    const login = agent.post('/login-same/racer-again');
    const loginDone = login.then((res) => res);
    await waitFor(() => emulator.stats().calls.login > loginsBefore, 'the platform login to be under way');
    const logout = await agent.post('/logout');
    const loginRes = await loginDone;
    expect(logout.status).toBe(204);
    expect(loginRes.status).toBe(200);
    emulator.faults.reset();

    await viafoura.jobs.run('deliver');
    expect(sidOf((await agent.get('/').expect(200)).text)).toBeUndefined();
    // The logout waited for the login under way, then ended the platform session it had opened.
    const opened = (loginRes.body as { session: string | null }).session;
    expect(opened).toEqual(expect.any(String));
    expect(emulator.sessionInfo(opened!)?.alive).toBe(false);
  });

  it('many logins and logouts at once leave no platform session alive without a host session in the store', async () => {
    const viafoura = await bridgeFor();
    const server = await publisherApp(viafoura);
    const agent = request.agent(server);
    await agent.post(`/login/${unique('storm')}`).expect(204);
    const sent = await Promise.all(
      Array.from({ length: 8 }, (_v, i) => (i % 2 === 0 ? agent.post('/logout') : agent.post(`/login-same/storm-${i}`))),
    );
    for (const res of sent) expect(res.status).toBeLessThan(300);
    await viafoura.jobs.run('deliver');
    const shown = sidOf((await agent.get('/').expect(200)).text);
    if (shown) expect(emulator.sessionInfo(shown)?.alive).toBe(true);
    for (const res of sent) {
      const opened = (res.body as { session?: string | null }).session;
      if (!opened || !emulator.sessionInfo(opened)?.alive) continue;
      // A request whose session the logout destroyed got a fresh one: its login stands, kept in the store.
      const hostSid = setSid(res);
      expect(hostSid).toBeDefined();
      expect(await holds(innerStore(viafoura), hostSid!)).toBe(true);
    }
  });
});

describe("a session id the attacker chose, or another reader's", () => {
  it("a session fixed before the login (the app regenerating as documented) does not carry the reader's platform session", async () => {
    const server = await publisherApp(await bridgeFor());
    // The attacker's own logged-in session, planted in the victim's browser.
    const attacker = request.agent(server);
    await attacker.post(`/login/${unique('fixer')}`).expect(204);
    const fixedSid = (await attacker.get('/whoami').expect(200)).body.sid as string;
    const plantedCookie = /connect\.sid=[^;]+/.exec(String((await attacker.post(`/login/${unique('fixer')}`).expect(204)).headers['set-cookie']))![0];
    const plantedSid = (await attacker.get('/whoami').expect(200)).body.sid as string;
    expect(plantedSid).not.toBe(fixedSid);

    const victim = request.agent(server);
    const login = await victim.post('/login/fixed-victim').set('Cookie', plantedCookie).expect(204);
    const victimCookie = /connect\.sid=[^;]+/.exec(String(login.headers['set-cookie']))![0];
    expect(victimCookie).not.toBe(plantedCookie);
    const victimSid = sidOf((await request(server).get('/').set('Cookie', victimCookie).expect(200)).text)!;
    expect(emulator.sessionInfo(victimSid)).toMatchObject({ alive: true, name: 'fixed-victim' });

    // The planted cookie now holds nobody: the attacker cannot read the victim's platform session.
    const seen = await request(server).get('/').set('Cookie', plantedCookie).expect(200);
    expect(sidOf(seen.text)).toBeUndefined();
    expect(seen.text).not.toContain(victimSid);
  });

  it('a second reader logging in on the same session, not regenerated, never sees the first reader\'s platform session', async () => {
    const viafoura = await bridgeFor();
    const server = await publisherApp(viafoura);
    const first = await loggedInReader(server, unique('kiosk'));
    const second = (await first.agent.post('/login-same/kiosk-next').expect(200)).body.session as string;
    const page = await first.agent.get('/').expect(200);
    expect(sidOf(page.text)).toBe(second);
    expect(page.text).not.toContain(first.platformSid);
    expect(emulator.sessionInfo(second)).toMatchObject({ alive: true, name: 'kiosk-next' });
    await viafoura.jobs.run('deliver');
    expect(emulator.sessionInfo(first.platformSid)?.alive).toBe(false);
  });

  it("a cookie naming another reader's session id, unsigned or wrongly signed, is served an anonymous page", async () => {
    const server = await publisherApp(await bridgeFor());
    const victim = await loggedInReader(server, unique('target'));
    const victimSid = (await victim.agent.get('/whoami').expect(200)).body.sid as string;
    for (const cookie of [
      `connect.sid=${encodeURIComponent(victimSid)}`,
      `connect.sid=${encodeURIComponent(`s:${victimSid}`)}`,
      `connect.sid=${encodeURIComponent(`s:${victimSid}.${'A'.repeat(43)}`)}`,
    ]) {
      const page = await request(server).get('/').set('Cookie', cookie).expect(200);
      expect(sidOf(page.text)).toBeUndefined();
      expect(page.text).not.toContain(victim.platformSid);
    }
  });
});

describe('a passport site', () => {
  const USERS: Express.User[] = [
    { id: 1, name: 'Ada', email: 'ada@example.com', emailVerified: true, role: 'reader', credentialsVersion: 1 },
    { id: 2, name: 'Mallory', email: 'mallory@example.com', emailVerified: true, role: 'reader', credentialsVersion: 1 },
  ];
  const PASSWORD = 'correct horse battery staple';

  async function passportApp(viafoura: ViafouraBridge) {
    const passport = new Passport();
    passport.use(new LocalStrategy((username, password, done) => done(null, (password === PASSWORD && USERS.find((u) => u.email === username)) || false)));
    passport.serializeUser((user, done) => done(null, (user as { id: number }).id));
    passport.deserializeUser((id: number, done) => done(null, USERS.find((u) => u.id === id) ?? false));
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: viafoura.sessionStore }));
    app.use(express.urlencoded({ extended: false }));
    app.use(passport.initialize());
    app.use(passport.session());
    app.use(viafouraPassport(viafoura, (user: { id: number; name: string; email: string }) => ({ id: `acme-${user.id}`, name: user.name, email: user.email })));
    app.use(viafoura.middleware);
    app.post('/login', passport.authenticate('local', { failureRedirect: '/?failed' }), (_req, res) => res.redirect(303, '/'));
    app.get('/', (_req, res) => res.send(res.locals.viafoura.embedTag));
    const server = await listenLocally(app);
    cleanups.push(() => closeServer(server));
    return server;
  }
  const cookieOf = (res: request.Response) => /connect\.sid=[^;]+/.exec(String(res.headers['set-cookie']))![0];
  const logIn = (server: http.Server, email: string, password: string, cookie?: string) => {
    const req = request(server).post('/login').type('form');
    if (cookie) req.set('Cookie', cookie);
    return req.send({ username: email, password });
  };

  it("a session planted before the victim's login keeps neither reader's platform session", async () => {
    const viafoura = await bridgeFor();
    const server = await passportApp(viafoura);
    const planted = cookieOf(await logIn(server, 'mallory@example.com', PASSWORD).expect(303));
    const malloryPage = await request(server).get('/').set('Cookie', planted).expect(200);
    const mallorySid = sidOf(malloryPage.text)!;

    // A wrong password on the planted session changes nothing for anyone.
    await logIn(server, 'ada@example.com', 'guess', planted).expect(302);
    const victim = cookieOf(await logIn(server, 'ada@example.com', PASSWORD, planted).expect(303));
    expect(victim).not.toBe(planted);
    const adaSid = sidOf((await request(server).get('/').set('Cookie', victim).expect(200)).text)!;
    expect(emulator.sessionInfo(adaSid)).toMatchObject({ alive: true, name: 'Ada' });

    const seen = await request(server).get('/').set('Cookie', planted).expect(200);
    expect(sidOf(seen.text)).toBeUndefined();
    expect(seen.text).not.toContain(adaSid);
    await viafoura.jobs.run('deliver');
    expect(emulator.sessionInfo(mallorySid)?.alive).toBe(false);
  });
});

describe('the platform session kept in the host session', () => {
  it('reaches no cookie and no header, and a page shows only its own reader', async () => {
    const server = await publisherApp(await bridgeFor());
    const ann = await loggedInReader(server, unique('ann'));
    const bob = await loggedInReader(server, unique('bob'));
    const responses = [await ann.agent.post(`/login/${unique('ann')}`).expect(204), await ann.agent.get('/').expect(200), await bob.agent.get('/').expect(200)];
    const annNow = sidOf(responses[1]!.text)!;
    for (const res of responses) {
      const headers = JSON.stringify(res.headers);
      for (const secret of [ann.platformSid, annNow, bob.platformSid, 'viafouraView']) expect(headers).not.toContain(secret);
      for (const cookie of [res.headers['set-cookie'] ?? []].flat()) expect(cookie).toMatch(/^connect\.sid=s%3A[\w-]+\.[\w%+/-]+; Path=\/; HttpOnly$/);
    }
    expect(responses[2]!.text).not.toContain(annNow);
    expect(responses[1]!.text).not.toContain(bob.platformSid);
  });
});

describe('the embed tag', () => {
  const TAG = /^<script id="viafoura-platform" src="[^"<>]*"( data-uid="[^"<>]*" data-sid="[^"<>]*")? async><\/script>$/;

  it('carries none of the reader\'s own text, however hostile their name and id', async () => {
    const server = await publisherApp(await bridgeFor());
    const agent = request.agent(server);
    const name = `"><script>alert('name')</script><img src=x onerror=alert(1)>`;
    await agent.post('/login-json').send({ id: `acme-"><script>${unique('id')}`, name }).expect(204);
    const page = await agent.get('/').expect(200);
    expect(page.text).toMatch(TAG);
    expect(sidOf(page.text)).toBeDefined();
    expect(page.text).not.toContain('alert');
  });

  it('escapes whatever the platform or the publisher hands it', () => {
    const tag = embedTagHtml('https://cdn.example/x.js?a=1&b="><script>', { userId: `1" onload="alert(1)`, session: `'><script>alert(2)</script>` });
    expect(tag).toMatch(TAG);
    expect(tag).not.toMatch(/<script>|onload="/);
  });
});

describe('secrets', () => {
  it('no API key, hook secret, access token or platform session of another reader reaches a response or a log line', async () => {
    const logger = recordingLogger();
    const viafoura = await bridgeFor({ logger });
    const server = await publisherApp(viafoura, { parsersFirst: [express.json()] });
    const seen: string[] = [];
    const keep = (res: request.Response) => (seen.push(JSON.stringify(res.headers), res.text), res);

    const ann = await loggedInReader(server, unique('ann'));
    const bob = await loggedInReader(server, unique('bob'));
    const token = String(emulator.lastRequest('login')?.headers.authorization ?? '').replace(/^Bearer /, '');
    expect(token).not.toBe('');
    keep(await ann.agent.get('/').expect(200));
    // The hook's every refusal, and one the parser in front makes it unable to check.
    const body = JSON.stringify({ userId: bob.userId });
    keep(await postHook(server, body, signHook('another-secret-another-secret-123456', nowSeconds(), body)));
    keep(await postHook(server, `{ "userId": "${bob.userId}" }`, signHook(HOOK_SECRET, nowSeconds(), `{ "userId": "${bob.userId}" }`)));
    keep(await postHook(server, '{"userId":', signHook(HOOK_SECRET, nowSeconds(), '{"userId":')));
    // The platform failing every way, at a login, a page view and a logout.
    for (const kind of [{ status: 500 }, { status: 401 }, 'drop'] as const) {
      emulator.faults.failAll(kind);
      keep(await ann.agent.post(`/login/${unique('ann')}`));
      emulator.clock.advance(2 * MINUTE);
      keep(await ann.agent.get('/'));
      keep(await ann.agent.post('/logout'));
      emulator.faults.failAll(null);
    }
    await viafoura.jobs.run('deliver');
    expect(logger.lines.length).toBeGreaterThan(0);
    const logged = JSON.stringify(logger.lines);
    const basic = curlBasicAuth(TEST_SITE_ID, TEST_API_KEY).replace(/^Basic /, '');
    for (const secret of [TEST_API_KEY, encodeURIComponent(TEST_API_KEY), basic, HOOK_SECRET, SESSION_SECRET, token, bob.platformSid]) {
      expect(logged).not.toContain(secret);
      for (const text of seen) expect(text).not.toContain(secret);
    }
    expect(logged).not.toContain(ann.platformSid);
  });
});

describe('a tablePrefix with SQL in it', () => {
  const folder = makeTempDir();
  afterAll(() => folder.remove());

  it.each([`vf_; DROP TABLE users; --`, 'vf_"', "vf_'", 'vf_`', 'VF_', 'vf-', 'vf_\n', 'vf_ ', '', '_vf', 'a'.repeat(40), 'vf_\u0000', 'vf_é'])(
    '%j is refused at construction, before the database is opened',
    async (prefix) => {
      const file = path.join(folder.dir, 'never-opened.db');
      const attempt = createViafouraBridge(publisherOptions(emulator, `sqlite:${file}`, { tablePrefix: prefix }));
      await expect(attempt).rejects.toThrow(TypeError);
      await expect(attempt).rejects.toThrow('tablePrefix');
      expect(() => new TablePrefixPlugin(prefix)).toThrow(TypeError);
      expect(fs.existsSync(file)).toBe(false);
    },
  );
});
