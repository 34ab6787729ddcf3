import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { createViafouraBridge, signHook, touchCanCreate, type ViafouraBridge, type ViafouraBridgeOptions } from 'vf-login-bridge';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator';
import { makeTempDir, openTempDatabase } from '../helpers/temp-database';
import { closeServer, listenLocally, publisherOptions, recordingLogger } from './publisher';

const HOOK_SECRET = 'acme-hook-secret-0123456789abcdefghij';
const SESSION_SECRET = 'acme-session-secret-0123456789abcdef';
const HOUR = 60 * 60_000;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** A store of the simplest kind, whose touch writes the whole session back: the worst case for a logout. */
class UpsertingStore extends session.Store {
  readonly rows = new Map<string, string>();
  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
    const row = this.rows.get(sid);
    callback(null, row ? JSON.parse(row) : null);
  }
  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    this.rows.set(sid, JSON.stringify(data));
    callback?.();
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.rows.delete(sid);
    callback?.();
  }
  override touch(sid: string, data: session.SessionData, callback?: () => void): void {
    this.set(sid, data, callback);
  }
}

/** A MemoryStore whose reads can be made to fail, or to wait. */
class TroubledStore extends session.MemoryStore {
  failing = false;
  gate: Promise<void> | undefined;
  readonly reading = deferred();
  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
    if (this.failing) return callback(new Error('the session store is down'));
    if (!this.gate) return super.get(sid, callback);
    this.reading.resolve();
    void this.gate.then(() => super.get(sid, callback));
  }
}

const storeHolds = (store: session.Store, sid: string) => new Promise<boolean>((resolve, reject) => store.get(sid, (err, data) => (err ? reject(err) : resolve(data != null))));


let emulator: TestEmulator;
let database: Awaited<ReturnType<typeof openTempDatabase>>;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  emulator = await startTestEmulator();
  database = await openTempDatabase();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await database.close();
  await emulator.close();
});

function bridgeOptions(overrides: Partial<ViafouraBridgeOptions> = {}): ViafouraBridgeOptions {
  return publisherOptions(emulator, database.db, { logger: recordingLogger(), ...overrides });
}

async function bridgeFor(overrides: Partial<ViafouraBridgeOptions> = {}): Promise<ViafouraBridge> {
  const viafoura = await createViafouraBridge(bridgeOptions(overrides));
  cleanups.push(() => viafoura.close());
  return viafoura;
}

/**
 * A publisher's app as the README has it: the hook router before everything, express-session on
 * the bridge's store, the bridge's middleware, a login, an AJAX logout and a page. `routes` adds
 * the test's own routes before the page.
 */
async function publisherApp(viafoura: ViafouraBridge, routes: (app: express.Express) => void = () => undefined) {
  const app = express();
  app.use('/hooks', viafoura.hookRouter({ secret: HOOK_SECRET }));
  app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: viafoura.sessionStore }));
  app.use(viafoura.middleware);
  app.post('/login/:name', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      viafoura.onLogin(req, { id: `acme-${req.params.name}`, name: req.params.name }).then(() => res.sendStatus(204), next);
    });
  });
  // A forgetful logout: it never ends the session itself. The bridge must make that safe.
  app.post('/logout', (req, res, next) => void viafoura.onLogout(req).then(() => res.sendStatus(204), next));
  routes(app);
  app.get('/', (_req, res) => res.send(res.locals.viafoura.embedTag));
  const server = await listenLocally(app);
  cleanups.push(() => closeServer(server));
  return server;
}

const sidOf = (page: string) => /data-sid="([^"]+)"/.exec(page)?.[1];

function sendSignedHook(server: http.Server, userId: string) {
  const body = JSON.stringify({ userId });
  return request(server)
    .post('/hooks/logout')
    .set('Content-Type', 'application/json')
    .set('X-Hook-Signature', signHook(HOOK_SECRET, Math.floor(emulator.clock.now() / 1000), body))
    .send(body);
}

describe('a session logged out while one of its requests is under way', () => {
  const stores: Array<[string, () => session.Store]> = [
    ['a MemoryStore', () => new session.MemoryStore()],
    ['a store whose touch writes the session', () => new UpsertingStore()],
  ];
  const logouts: Array<[string, (ctx: { viafoura: ViafouraBridge; server: http.Server; agent: request.Agent; userId: string }) => Promise<unknown>]> = [
    ['the signed hook', ({ server, userId }) => sendSignedHook(server, userId).expect(200, { loggedOut: 1 })],
    ['an AJAX logout (onLogout)', ({ agent }) => agent.post('/logout').expect(204)],
    ['viafoura.logoutUser', async ({ viafoura, userId }) => expect(await viafoura.logoutUser(userId)).toBe(1)],
  ];

  describe.each(stores)('on %s', (_label, makeStore) => {
    it.each(logouts)('is never saved back after %s, and never logs the reader in again', async (kind, logOut) => {
      const viafoura = await bridgeFor({ sessionStore: makeStore() });
      const gate = deferred();
      const entered = deferred();
      let hostSid = '';
      const server = await publisherApp(viafoura, (app) =>
        app.post('/slow', async (req, res) => {
          hostSid = req.sessionID;
          entered.resolve();
          await gate.promise;
          (req.session as unknown as { views: number }).views = 1;
          res.send('done');
        }),
      );
      const name = `reader-${kind.replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2)}`;
      const agent = request.agent(server);
      await agent.post(`/login/${name}`).expect(204);
      const platformSid = sidOf((await agent.get('/').expect(200)).text)!;
      expect(emulator.sessionInfo(platformSid)?.alive).toBe(true);

      const slow = agent.post('/slow').then((res) => res);
      await entered.promise;
      await logOut({ viafoura, server, agent, userId: `acme-${name}` });
      expect(emulator.sessionInfo(platformSid)?.alive).toBe(false);
      gate.resolve();
      expect((await slow).status).toBe(200);

      const inner = (viafoura.sessionStore as unknown as { inner: session.Store }).inner;
      expect(await storeHolds(inner, hostSid)).toBe(false);

      // An hour on, the tombstone is pruned: the browser's old cookie must still find nobody logged in.
      emulator.clock.advance(HOUR + 60_000);
      expect(await viafoura.bridge.pruneSessions()).toBeGreaterThan(0);
      const loginsBefore = emulator.stats().calls.login;
      const page = await agent.get('/').expect(200);
      expect(sidOf(page.text)).toBeUndefined();
      expect(emulator.stats().calls.login).toBe(loginsBefore);
    });
  });

  it.each<[string, () => session.Store & { holds(sid: string): Promise<boolean> }]>([
    ['a store whose touch writes the session', () => Object.assign(new UpsertingStore(), { holds(this: UpsertingStore, sid: string) { return storeHolds(this, sid); } })],
    ['a MemoryStore, whose touches go unguarded', () => Object.assign(new session.MemoryStore(), { holds(this: session.Store, sid: string) { return storeHolds(this, sid); } })],
  ])('is not touched back either by a request that left it unmodified, on %s', async (label, makeStore) => {
    const store = makeStore();
    // A name of its own: the same hook body in the same second would be refused as a replay.
    const name = `toucher-${label.split(' ')[1]}`;
    const viafoura = await bridgeFor({ sessionStore: store });
    const gate = deferred();
    const entered = deferred();
    let hostSid = '';
    const server = await publisherApp(viafoura, (app) =>
      app.get('/slow', async (req, res) => {
        hostSid = req.sessionID;
        entered.resolve();
        await gate.promise;
        res.send('done');
      }),
    );
    const agent = request.agent(server);
    await agent.post(`/login/${name}`).expect(204);
    const slow = agent.get('/slow').then((res) => res);
    await entered.promise;
    await sendSignedHook(server, `acme-${name}`).expect(200, { loggedOut: 1 });
    gate.resolve();
    expect((await slow).status).toBe(200);
    expect(await store.holds(hostSid)).toBe(false);
  });
});

describe('whether a store needs its touches guarded', () => {
  it('a MemoryStore touches only what it holds: no guard, so a page view spends no read on it', async () => {
    const store = new session.MemoryStore();
    expect(await touchCanCreate(store, Date.now())).toBe(false);
    expect(await new Promise((resolve) => store.length((_error, n) => resolve(n)))).toBe(0);
  });

  it('a store whose touch writes the session is guarded, and the probe leaves nothing behind', async () => {
    const store = new UpsertingStore();
    expect(await touchCanCreate(store, Date.now())).toBe(true);
    expect(store.rows.size).toBe(0);
  });

  it('a store that cannot answer is guarded', async () => {
    const store = new TroubledStore();
    store.failing = true;
    expect(await touchCanCreate(store, Date.now())).toBe(true);
  });

  it('a store that does not answer yet is guarded, without holding up the start', async () => {
    const store = new TroubledStore();
    store.gate = new Promise<void>(() => undefined);
    expect(await touchCanCreate(store, Date.now(), 50)).toBe(true);
  });
});

describe('an app whose session setup the bridge cannot rely on', () => {
  it('without express-session, every page is a 500 and one line says to add it', async () => {
    const logger = recordingLogger();
    const viafoura = await bridgeFor({ logger });
    const app = express().use(viafoura.middleware).get('/', (_req, res) => res.send('never'));
    const server = await listenLocally(app);
    cleanups.push(() => closeServer(server));

    const res = await request(server).get('/').expect(500);
    expect(res.type).toBe('text/plain');
    expect(res.text).not.toContain('never');
    expect(logger.lines).toEqual([{ level: 'error', fields: { code: 'SESSION_MISSING' }, message: expect.stringContaining('app.use(session(...)) before the bridge') }]);
  });

  it("with express-session on a store of its own, every page is a 500 and one line names the bridge's store", async () => {
    const logger = recordingLogger();
    const viafoura = await bridgeFor({ logger });
    const app = express()
      .use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: new session.MemoryStore() }))
      .use(viafoura.middleware)
      .get('/', (_req, res) => res.send('never'));
    const server = await listenLocally(app);
    cleanups.push(() => closeServer(server));

    const res = await request(server).get('/').expect(500);
    expect(res.text).not.toContain('never');
    expect(logger.lines).toEqual([
      { level: 'error', fields: { code: 'SESSION_STORE_NOT_BRIDGED' }, message: expect.stringContaining('pass store: viafoura.sessionStore to express-session') },
    ]);
  });

  it('onLogin and onLogout refuse such a request with a SessionSetupError', async () => {
    const viafoura = await bridgeFor();
    const req = { sessionID: 'sid-1', sessionStore: new session.MemoryStore(), session: {} } as unknown as express.Request;
    await expect(viafoura.onLogin(req, { id: 'u', name: 'U' })).rejects.toMatchObject({ name: 'SessionSetupError', code: 'SESSION_STORE_NOT_BRIDGED', status: 500 });
    await expect(viafoura.onLogout({ session: {} } as unknown as express.Request)).rejects.toMatchObject({ code: 'SESSION_MISSING' });
  });
});

describe('the logout hook behind body parsers', () => {
  /** An app that parses bodies before the hook router, as many do. */
  async function appWithParsers(parsers: express.RequestHandler[], logger = recordingLogger()) {
    const viafoura = await bridgeFor({ logger });
    const app = express();
    app.use(...parsers);
    app.use('/hooks', viafoura.hookRouter({ secret: HOOK_SECRET }));
    const server = await listenLocally(app);
    cleanups.push(() => closeServer(server));
    return { server, logger };
  }
  const unique = () => `nobody-${Math.random().toString(36).slice(2)}`;
  const keepRawBody = (req: http.IncomingMessage, _res: http.ServerResponse, buffer: Buffer) => {
    (req as unknown as { rawBody: Buffer }).rawBody = buffer;
  };

  it.each<[string, () => express.RequestHandler[]]>([
    ['express.json()', () => [express.json()]],
    ['express.urlencoded()', () => [express.urlencoded({ extended: false })]],
    ['express.text()', () => [express.text()]],
    ['express.text() for every type', () => [express.text({ type: () => true })]],
    ['all three', () => [express.json(), express.urlencoded({ extended: true }), express.text()]],
  ])('a correctly signed hook works after %s', async (_label, parsers) => {
    const { server, logger } = await appWithParsers(parsers());
    await sendSignedHook(server, unique()).expect(200, { loggedOut: 0 });
    expect(logger.lines).toEqual([]);
  });

  it('a body signed as sent, not compact, is checked over the raw Buffer the app kept', async () => {
    const { server } = await appWithParsers([express.json({ verify: keepRawBody })]);
    const body = `{ "userId": "${unique()}" }`;
    const signature = signHook(HOOK_SECRET, Math.floor(emulator.clock.now() / 1000), body);
    await request(server).post('/hooks/logout').set('Content-Type', 'application/json').set('X-Hook-Signature', signature).send(body).expect(200, { loggedOut: 0 });
    const forged = signHook('another-secret-another-secret-123456', Math.floor(emulator.clock.now() / 1000), body);
    const refused = await request(server).post('/hooks/logout').set('Content-Type', 'application/json').set('X-Hook-Signature', forged).send(body).expect(401);
    expect(refused.body.error.code).toBe('HOOK_SIGNATURE_INVALID');
  });

  it('where the bytes as sent are gone, it answers 500 HOOK_BODY_CONSUMED and one line says where to mount it', async () => {
    const { server, logger } = await appWithParsers([express.json()]);
    const body = `{ "userId": "${unique()}" }`;
    const signature = signHook(HOOK_SECRET, Math.floor(emulator.clock.now() / 1000), body);
    const res = await request(server).post('/hooks/logout').set('Content-Type', 'application/json').set('X-Hook-Signature', signature).send(body).expect(500);
    expect(res.body.error.code).toBe('HOOK_BODY_CONSUMED');
    expect(logger.lines).toEqual([{ level: 'error', fields: { code: 'HOOK_BODY_CONSUMED' }, message: expect.stringContaining('mount the hook router before express.json()') }]);
  });
});

describe('Cache-Control on pages that carry a platform session', () => {
  it('is private, no-store on a logged-in page, and left alone on an anonymous one', async () => {
    const server = await publisherApp(await bridgeFor());
    const agent = request.agent(server);
    expect((await agent.get('/').expect(200)).headers['cache-control']).toBeUndefined();
    await agent.post('/login/cached').expect(204);
    const page = await agent.get('/').expect(200);
    expect(sidOf(page.text)).toBeDefined();
    expect(page.headers['cache-control']).toBe('private, no-store');
  });

  it('is left to the app with cacheControl: false', async () => {
    const server = await publisherApp(await bridgeFor({ cacheControl: false }));
    const agent = request.agent(server);
    await agent.post('/login/uncached').expect(204);
    const page = await agent.get('/').expect(200);
    expect(sidOf(page.text)).toBeDefined();
    expect(page.headers['cache-control']).toBeUndefined();
  });
});

describe('the background jobs', () => {
  /** A reader logged in through the app, and old enough for reconcile to check its session. */
  async function readerOldEnoughToReconcile(viafoura: ViafouraBridge) {
    const server = await publisherApp(viafoura);
    await request.agent(server).post(`/login/jobs-${Math.random().toString(36).slice(2)}`).expect(204);
    emulator.clock.advance(6 * 60_000);
  }

  it('a failing job logs one line with its code, and the next run tries again', async () => {
    const jobsDatabase = await openTempDatabase();
    cleanups.push(() => jobsDatabase.close());
    const store = new TroubledStore();
    const logger = recordingLogger();
    const viafoura = await bridgeFor({ database: jobsDatabase.db, sessionStore: store, logger });
    await readerOldEnoughToReconcile(viafoura);

    store.failing = true;
    expect(await viafoura.jobs.run('reconcile')).toBe(false);
    expect(logger.lines).toEqual([{ level: 'warn', fields: { code: 'SESSION_STORE_UNAVAILABLE', job: 'reconcile' }, message: expect.any(String) }]);

    store.failing = false;
    emulator.clock.advance(11 * 60_000);
    expect(await viafoura.jobs.run('reconcile')).toBe(true);
    expect(logger.lines).toHaveLength(1);
  });

  describe('on timers', () => {
    beforeEach(() => {
      // Only the jobs' intervals are faked: the database, HTTP and the store keep real time.
      jest.useFakeTimers({
        doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout'],
      });
    });
    afterEach(() => jest.useRealTimers());

    it('run on their periods, and close() stops them after waiting for the run under way', async () => {
      const jobsDatabase = await openTempDatabase();
      cleanups.push(() => jobsDatabase.close());
      const store = new TroubledStore();
      const viafoura = await createViafouraBridge(bridgeOptions({ database: jobsDatabase.db, sessionStore: store, background: true }));
      const deliveries = jest.spyOn(viafoura.bridge, 'deliverPendingLogouts');
      expect(jest.getTimerCount()).toBe(3);
      jest.advanceTimersByTime(5_000);
      expect(deliveries).toHaveBeenCalledTimes(1);

      await readerOldEnoughToReconcile(viafoura);
      const gate = deferred();
      store.gate = gate.promise;
      const reconciling = viafoura.jobs.run('reconcile');
      await store.reading.promise;
      let closed = false;
      const closing = viafoura.close().then(() => (closed = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(closed).toBe(false);
      gate.resolve();
      await closing;
      expect(await reconciling).toBe(true);

      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(HOUR);
      expect(deliveries).toHaveBeenCalledTimes(1);
    });

    it('stay off with background: false', async () => {
      const viafoura = await bridgeFor({ background: false });
      expect(jest.getTimerCount()).toBe(0);
      expect(typeof viafoura.jobs.run).toBe('function');
    });
  });
});

describe('wrong options', () => {
  const folder = makeTempDir();
  afterAll(() => folder.remove());
  const neverOpened = () => path.join(folder.dir, 'never-opened.db');

  it.each<[string, Partial<Record<keyof ViafouraBridgeOptions, unknown>>]>([
    ['sessionStore', { sessionStore: undefined }],
    ['sessionStore', { sessionStore: {} }],
    ['database', { database: {} }],
    ['database', { database: 'mysql://localhost/db' }],
    ['tablePrefix', { tablePrefix: 'Bad-Prefix' }],
    ['siteId', { siteId: '' }],
    ['apiKey', { apiKey: '' }],
    ['apiUrl', { apiUrl: 'ftp://example.com' }],
    ['timeoutMs', { timeoutMs: -1 }],
    ['cacheControl', { cacheControl: 'no' }],
  ])('are one TypeError naming %s, before anything is opened', async (option, wrong) => {
    const database = wrong.database ?? `sqlite:${neverOpened()}`;
    const attempt = createViafouraBridge({ ...bridgeOptions(), database, ...wrong } as ViafouraBridgeOptions);
    await expect(attempt).rejects.toThrow(TypeError);
    await expect(attempt).rejects.toThrow(option);
    expect(fs.existsSync(neverOpened())).toBe(false);
  });

  it('hookRouter takes no sessionStore of its own: the one given at construction is used', async () => {
    const viafoura = await bridgeFor();
    expect(() => viafoura.hookRouter({ secret: HOOK_SECRET, sessionStore: new session.MemoryStore() } as never)).toThrow(TypeError);
    expect(() => viafoura.hookRouter({ secret: 'short' })).toThrow('secret');
  });
});
