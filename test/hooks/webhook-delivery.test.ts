import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import express, { type ErrorRequestHandler } from 'express';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import {
  createHookRoutes,
  createReplayGuard,
  createViafouraBridge,
  isAppError,
  standardWebhookHeaders,
  WEBHOOK_ID_RETENTION_MS,
  type ViafouraBridge,
} from 'vf-login-bridge';
import { WEBHOOK_CLAIM_MS } from '../../packages/bridge/src/hooks';
import { closeServer, listenLocally, publisherOptions, recordingLogger } from '../package/publisher';
import { startTestSite, type TestSite } from '../helpers/site';
import { waitFor } from '../helpers/wait-for';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const NEXT_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const nowSeconds = () => Math.floor(t.clock.now() / 1000);
let sequence = 0;
const newId = () => `msg_delivery_${Date.now().toString(36)}_${++sequence}`;
const signed = (id: string, body: string, secret = SECRET) => standardWebhookHeaders(secret, id, nowSeconds(), body);

const asJson: ErrorRequestHandler = (error, _req, res, _next) => {
  res.status(isAppError(error) ? error.status : 500).json({ error: { code: isAppError(error) ? error.code : 'INTERNAL' } });
};

/** The hook routes over the site's own database, with a logout the test controls. */
function hookApp(logOutUser: (userId: string) => Promise<number>) {
  const app = express();
  app.use('/hooks', createHookRoutes({ secret: undefined, webhookSecrets: [SECRET], clock: t.clock, db: t.site.database.db, logOutUser }), asJson);
  return app;
}

function post(app: express.Express | http.Server, id: string, body = JSON.stringify({ userId: 'u-1' })) {
  return request(app).post('/hooks/logout').set('Content-Type', 'application/json').set(signed(id, body)).send(body);
}

/** A promise settled from outside: a logout that takes as long as the test wants. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('a Standard Webhook delivered more than once', () => {
  it('while the first delivery is still logging out, a second is answered 409 "in progress", then 200 duplicate once it is done', async () => {
    const running = deferred<number>();
    let calls = 0;
    const app = hookApp(() => {
      calls++;
      return running.promise;
    });
    const id = newId();
    const first = post(app, id).then((res) => res);
    await waitFor(() => calls === 1, 'the first logout to start');

    const during = await post(app, id).expect(409);
    expect(during.body.error.code).toBe('HOOK_IN_PROGRESS');
    expect(during.headers['retry-after']).toBe('60');

    running.resolve(3);
    expect((await first).body).toEqual({ loggedOut: 3 });
    await post(app, id).expect(200, { duplicate: true });
    expect(calls).toBe(1);
  });

  it('a logout that failed gives the id back: the sender\'s retry does the work', async () => {
    let calls = 0;
    const app = hookApp(async () => {
      if (++calls === 1) throw new Error('the session store is down');
      return 2;
    });
    const id = newId();
    await post(app, id).expect(500);
    await post(app, id).expect(200, { loggedOut: 2 });
    await post(app, id).expect(200, { duplicate: true });
    expect(calls).toBe(2);
  });

  it('an id held by a process that died mid-logout is taken again once the claim runs out', async () => {
    const id = newId();
    // What a process that died right after claiming the id leaves behind.
    await createReplayGuard(t.site.database.db).firstUse(`swh-claim:${id}`, t.clock.now() + WEBHOOK_CLAIM_MS, t.clock.now());
    let calls = 0;
    const app = hookApp(async () => ++calls);
    expect((await post(app, id).expect(409)).body.error.code).toBe('HOOK_IN_PROGRESS');
    t.clock.advance(WEBHOOK_CLAIM_MS + 1000);
    await post(app, id).expect(200, { loggedOut: 1 });
    expect(calls).toBe(1);
  });

  it(`a handled id is remembered for ${WEBHOOK_ID_RETENTION_MS / 86_400_000} days, then forgotten`, async () => {
    let calls = 0;
    const app = hookApp(async () => ++calls);
    const id = newId();
    await post(app, id).expect(200, { loggedOut: 1 });
    t.clock.advance(WEBHOOK_ID_RETENTION_MS - 60_000);
    await post(app, id).expect(200, { duplicate: true });
    t.clock.advance(2 * 60_000);
    await post(app, id).expect(200, { loggedOut: 2 });
  });
});

describe('the replay guard other receivers share', () => {
  it('takes a namespaced key once, on any instance, until it expires', async () => {
    const key = `test:${newId()}`;
    const now = t.clock.now();
    const [one, two] = [createReplayGuard(t.site.database.db), createReplayGuard(t.site.database.db)];
    const firsts = await Promise.all([one.firstUse(key, now + 60_000, now), two.firstUse(key, now + 60_000, now)]);
    expect(firsts.sort()).toEqual([false, true]);
    expect(await one.heldUntil(key, now)).toBe(now + 60_000);
    expect(await two.firstUse(key, now + 120_000, now + 61_000)).toBe(true);
  });
});

describe("the library's hookRouter with Standard Webhooks secrets", () => {
  const keepRawBody = (req: http.IncomingMessage, _res: http.ServerResponse, buffer: Buffer) => {
    (req as unknown as { rawBody: Buffer }).rawBody = buffer;
  };

  async function bridgeApp(parsers: express.RequestHandler[], webhookSecrets: string | string[] = [NEXT_SECRET, SECRET]) {
    const logger = recordingLogger();
    const viafoura: ViafouraBridge = await createViafouraBridge(publisherOptions(t.emulator, t.stores.databaseUrl, { tablePrefix: 'lib_', logger }));
    const app = express();
    if (parsers.length > 0) app.use(...parsers);
    app.use('/hooks', viafoura.hookRouter({ webhookSecrets }));
    const server = await listenLocally(app);
    cleanups.push(async () => {
      await closeServer(server);
      await viafoura.close();
    });
    // What the hook logs, apart from the start-up lines of the bridge's other parts.
    return { server, hookLines: () => logger.lines.filter((line) => String(line.fields['code'] ?? '').startsWith('HOOK_')) };
  }

  it.each<[string, () => express.RequestHandler[]]>([
    ['no body parser', () => []],
    ['express.json()', () => [express.json()]],
    ['express.text() for every type', () => [express.text({ type: () => true })]],
    ['express.json(), express.urlencoded() and express.text()', () => [express.json(), express.urlencoded({ extended: true }), express.text()]],
  ])('takes a hook signed by the library with any of its secrets, after %s', async (_label, parsers) => {
    const { server, hookLines } = await bridgeApp(parsers());
    for (const secret of [SECRET, NEXT_SECRET]) {
      const body = JSON.stringify({ userId: `nobody-${newId()}` });
      const id = newId();
      const at = nowSeconds();
      const signature = new Webhook(secret).sign(id, new Date(at * 1000), body);
      await request(server)
        .post('/hooks/logout')
        .set({ 'Content-Type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': signature })
        .send(body)
        .expect(200, { loggedOut: 0 });
    }
    expect(hookLines()).toEqual([]);
  });

  it('takes one secret as a plain string too', async () => {
    const { server } = await bridgeApp([], SECRET);
    const body = JSON.stringify({ userId: 'nobody' });
    await request(server).post('/hooks/logout').set('Content-Type', 'application/json').set(signed(newId(), body)).send(body).expect(200, { loggedOut: 0 });
  });

  it('after express.json(), a body signed as sent but not compact is checked over req.rawBody, or answered HOOK_BODY_CONSUMED with one line saying why', async () => {
    const body = `{ "userId": "nobody-${newId()}" }`;
    const kept = await bridgeApp([express.json({ verify: keepRawBody })]);
    await request(kept.server).post('/hooks/logout').set('Content-Type', 'application/json').set(signed(newId(), body)).send(body).expect(200, { loggedOut: 0 });

    const lost = await bridgeApp([express.json()]);
    const res = await request(lost.server).post('/hooks/logout').set('Content-Type', 'application/json').set(signed(newId(), body)).send(body).expect(500);
    expect(res.body.error.code).toBe('HOOK_BODY_CONSUMED');
    expect(lost.hookLines()).toEqual([{ level: 'error', fields: { code: 'HOOK_BODY_CONSUMED' }, message: expect.stringContaining('mount the hook router before express.json()') }]);
  });

  it('refuses bad secrets at construction, naming the option and never repeating the secret', async () => {
    const viafoura = await createViafouraBridge(publisherOptions(t.emulator, t.stores.databaseUrl, { tablePrefix: 'lib_' }));
    cleanups.push(() => viafoura.close());
    const short = `whsec_${randomBytes(16).toString('base64')}`;
    const cases: Array<[Parameters<ViafouraBridge['hookRouter']>[0], string]> = [
      [{ webhookSecrets: [SECRET, short] }, 'webhookSecrets[1] must hold 24 to 64 bytes'],
      [{ webhookSecrets: 'not-a-whsec-secret-at-all-0123456789' }, 'webhookSecrets[0] must start with whsec_'],
      [{ webhookSecrets: 'whsec_not base64!' }, 'webhookSecrets[0] must be whsec_ followed by standard base64'],
      [{ webhookSecrets: [] }, 'secret (32+ characters) or webhookSecrets (whsec_...) is required'],
      [{}, 'secret (32+ characters) or webhookSecrets (whsec_...) is required'],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      try {
        viafoura.hookRouter(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect((thrown as Error).message).toContain(message);
      expect((thrown as Error).message).not.toContain(short.slice(6));
    }
  });
});
