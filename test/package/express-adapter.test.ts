import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { createViafouraBridge, signHook, type PlatformOutcome, type ViafouraBridge } from 'vf-login-bridge';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator';
import { openTempDatabase } from '../helpers/temp-database';
import { publisherOptions } from './publisher';

const HOOK_SECRET = 'acme-hook-secret-0123456789abcdefghij';

describe('the Express adapter of the package', () => {
  let emulator: TestEmulator;
  let database: Awaited<ReturnType<typeof openTempDatabase>>;
  let viafoura: ViafouraBridge;
  let app: express.Express;
  const outcomes: PlatformOutcome[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    database = await openTempDatabase();
    viafoura = await createViafouraBridge(publisherOptions(emulator, database.db, { onOutcome: (outcome) => void outcomes.push(outcome) }));
    app = express();
    app.use('/hooks', viafoura.hookRouter({ secret: HOOK_SECRET }));
    app.use(session({ secret: 'acme-session-secret-0123456789abcdef', resave: false, saveUninitialized: false, store: viafoura.sessionStore }));
    app.use(viafoura.middleware);
    app.post('/login/:name', (req, res, next) => {
      req.session.regenerate((err) => {
        if (err) return next(err);
        viafoura.onLogin(req, { id: `acme-${req.params.name}`, name: `<${req.params.name}>` }).then(() => res.sendStatus(204), next);
      });
    });
    app.get('/', (_req, res) => res.send(res.locals.viafoura.embedTag));
  });

  afterAll(async () => {
    await viafoura.close();
    await database.close();
    await emulator.close();
  });

  it('renders the escaped embed tag, and a signed hook logs the reader out of both sites', async () => {
    const agent = request.agent(app);
    expect((await agent.get('/')).text).toBe(`<script id="viafoura-platform" src="${emulator.embedSrc}" async></script>`);
    await agent.post('/login/Zed').expect(204);
    const tag = (await agent.get('/')).text;
    const sid = /data-sid="([^"]+)"/.exec(tag)![1]!;
    expect(emulator.sessionInfo(sid)).toMatchObject({ alive: true, name: '<Zed>' });

    const body = JSON.stringify({ userId: 'acme-Zed' });
    const unsigned = await request(app).post('/hooks/logout').set('Content-Type', 'application/json').send(body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body).toEqual({ error: { code: 'HOOK_SIGNATURE_INVALID', message: expect.any(String) } });
    expect(emulator.sessionInfo(sid)?.alive).toBe(true);

    const signed = await request(app)
      .post('/hooks/logout')
      .set('Content-Type', 'application/json')
      .set('X-Hook-Signature', signHook(HOOK_SECRET, Math.floor(emulator.clock.now() / 1000), body))
      .send(body);
    expect(signed.status).toBe(200);
    expect(signed.body).toEqual({ loggedOut: 1 });
    expect(emulator.sessionInfo(sid)?.alive).toBe(false);
    expect((await agent.get('/')).text).not.toContain('data-sid');
    // The app's onOutcome heard the login and the logout as the counters count them.
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { kind: 'login', outcome: 'ok', endpoint: undefined, count: 1 },
        { kind: 'logout', outcome: 'ok', endpoint: undefined, count: 1 },
        { kind: 'call', outcome: 'ok', endpoint: 'login', count: 1 },
      ]),
    );
  });

  it('refuses to start without credentials or a database, naming the option', async () => {
    const sessionStore = new session.MemoryStore();
    await expect(createViafouraBridge({ siteId: '', apiKey: 'k', database: database.db, sessionStore })).rejects.toThrow('siteId');
    await expect(createViafouraBridge({ siteId: 'a:b', apiKey: 'k', database: database.db, sessionStore })).rejects.toThrow('siteId must not contain ":"');
    await expect(createViafouraBridge({ siteId: 's', apiKey: 'k', database: '', sessionStore })).rejects.toThrow('database');
    // @ts-expect-error a listener is a function
    await expect(createViafouraBridge({ siteId: 's', apiKey: 'k', database: database.db, sessionStore, onOutcome: 'log' })).rejects.toThrow('createViafouraBridge: onOutcome must be a function');
  });
});
