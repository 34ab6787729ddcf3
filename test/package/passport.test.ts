import http from 'node:http';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import request from 'supertest';
import { createViafouraBridge, type ViafouraBridge } from 'vf-login-bridge';
import { defaultHostUser, viafouraPassport } from 'vf-login-bridge/passport';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator';
import { openTempDatabase } from '../helpers/temp-database';
import { listenLocally, publisherOptions } from './publisher';

const SESSION_SECRET = 'acme-session-secret-0123456789abcdef';

/** The passport site's own users: passport-local checks the password, the bridge never sees it. */
const USERS: Express.User[] = [
  { id: 1, name: 'Ada', email: 'ada@example.com', emailVerified: true, role: 'reader', credentialsVersion: 1 },
  { id: 2, name: 'Grace', email: 'grace@example.com', emailVerified: true, role: 'reader', credentialsVersion: 1 },
];
const PASSWORD = 'correct horse battery staple';

function sitePassport() {
  const passport = new Passport();
  passport.use(new LocalStrategy((username, password, done) => done(null, (password === PASSWORD && USERS.find((u) => u.email === username)) || false)));
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id: number, done) => done(null, USERS.find((u) => u.id === id) ?? false));
  return passport;
}

describe('vf-login-bridge/passport', () => {
  let emulator: TestEmulator;
  let database: Awaited<ReturnType<typeof openTempDatabase>>;
  let viafoura: ViafouraBridge;
  let server: http.Server;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    database = await openTempDatabase();
    viafoura = await createViafouraBridge(publisherOptions(emulator, database.db));
    const passport = sitePassport();
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: viafoura.sessionStore }));
    app.use(express.urlencoded({ extended: false }));
    app.use(passport.initialize());
    app.use(passport.session());
    // The one line a passport site adds.
    app.use(viafouraPassport(viafoura, (user: Express.User) => ({ id: `acme-${user.id}`, name: user.name, email: user.email })));
    app.use(viafoura.middleware);
    app.post('/login', passport.authenticate('local', { failureRedirect: '/?failed' }), (_req, res) => res.redirect(303, '/'));
    app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.redirect(303, '/'))));
    app.get('/', (_req, res) => res.send(res.locals.viafoura.embedTag));
    server = await listenLocally(app);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await viafoura.close();
    await database.close();
    await emulator.close();
  });

  const sidOf = (page: string) => /data-sid="([^"]+)"/.exec(page)?.[1];
  const logIn = (agent: request.Agent, email: string) => agent.post('/login').type('form').send({ username: email, password: PASSWORD }).expect(303).expect('Location', '/');

  it("passport's login logs the reader in to the platform, and its logout logs them out", async () => {
    const agent = request.agent(server);
    expect(sidOf((await agent.get('/')).text)).toBeUndefined();

    await logIn(agent, 'ada@example.com');
    const sid = sidOf((await agent.get('/').expect(200)).text);
    expect(sid).toBeDefined();
    expect(emulator.sessionInfo(sid!)).toMatchObject({ alive: true, hostId: 'acme-1', name: 'Ada' });

    await agent.post('/logout').expect(303);
    expect(emulator.sessionInfo(sid!)?.alive).toBe(false);
    const loginsBefore = emulator.stats().calls.login;
    expect(sidOf((await agent.get('/').expect(200)).text)).toBeUndefined();
    expect(emulator.stats().calls.login).toBe(loginsBefore);
  });

  it('a second login in the same browser replaces the first, platform session and all', async () => {
    const agent = request.agent(server);
    await logIn(agent, 'ada@example.com');
    const first = sidOf((await agent.get('/')).text)!;
    await logIn(agent, 'grace@example.com');
    const second = sidOf((await agent.get('/')).text)!;
    expect(emulator.sessionInfo(first)?.alive).toBe(false);
    expect(emulator.sessionInfo(second)).toMatchObject({ alive: true, name: 'Grace' });
  });

  it('a failed password logs nobody in anywhere', async () => {
    const agent = request.agent(server);
    const loginsBefore = emulator.stats().calls.login;
    await agent.post('/login').type('form').send({ username: 'ada@example.com', password: 'wrong' }).expect(302).expect('Location', '/?failed');
    expect(sidOf((await agent.get('/')).text)).toBeUndefined();
    expect(emulator.stats().calls.login).toBe(loginsBefore);
  });

  it('mounted before passport, it refuses with PASSPORT_NOT_INITIALIZED naming the fix', async () => {
    const seen: unknown[] = [];
    const app = express()
      .use(viafouraPassport(viafoura))
      .use(((error, _req, res, _next) => {
        seen.push(error);
        res.sendStatus(500);
      }) as express.ErrorRequestHandler);
    const bare = await listenLocally(app);
    try {
      await request(bare).get('/').expect(500);
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
    expect(seen).toEqual([expect.objectContaining({ code: 'PASSPORT_NOT_INITIALIZED', message: expect.stringContaining('passport.initialize()') })]);
  });

  it("maps a user by its own id, name and email unless told otherwise, and refuses one it cannot", () => {
    expect(defaultHostUser({ id: 7, displayName: 'Lin', email: 'lin@example.com' })).toEqual({ id: '7', name: 'Lin', email: 'lin@example.com' });
    expect(() => defaultHostUser({ id: 7 })).toThrow('toHostUser');
    expect(() => viafouraPassport({} as ViafouraBridge)).toThrow(TypeError);
  });
});
