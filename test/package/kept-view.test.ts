import http from 'node:http';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import express from 'express';
import session from 'express-session';
import { Kysely, SqliteDialect } from 'kysely';
import request from 'supertest';
import { createViafouraBridge, type ViafouraBridge } from 'vf-login-bridge';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator';
import { makeTempDir } from '../helpers/temp-database';
import { listenLocally, publisherOptions } from './publisher';

const SESSION_SECRET = 'acme-session-secret-0123456789abcdef';
const MINUTE = 60_000;

/** The app's MemoryStore, counting the sessions it is asked to save. */
class CountingStore extends session.MemoryStore {
  saves = 0;
  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    this.saves += 1;
    super.set(sid, data, callback);
  }
}

/** A page view of a logged-in reader, as the adapter serves it: what it costs and what it shows. */
describe('the platform session a page view keeps in the host session', () => {
  let emulator: TestEmulator;
  let temp: { dir: string; remove(): void };
  let statements: string[];
  let db: Kysely<unknown>;
  let viafoura: ViafouraBridge;
  let server: http.Server;
  let store: CountingStore;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    temp = makeTempDir();
    statements = [];
    // The app's own database handle, with every statement the bridge runs on it counted.
    db = new Kysely({ dialect: new SqliteDialect({ database: new BetterSqlite3(path.join(temp.dir, 'acme.db')) }), log: (event) => void statements.push(event.query.sql) });
    store = new CountingStore();
    viafoura = await createViafouraBridge(publisherOptions(emulator, db, { sessionStore: store }));
    const app = express();
    app.use(session({ secret: SESSION_SECRET, resave: false, saveUninitialized: false, store: viafoura.sessionStore }));
    app.use(viafoura.middleware);
    app.post('/login/:name', (req, res, next) =>
      req.session.regenerate((err) => (err ? next(err) : viafoura.onLogin(req, { id: `acme-${req.params.name}`, name: req.params.name }).then(() => res.sendStatus(204), next))),
    );
    app.post('/rename/:name', (req, res, next) => void viafoura.onProfileChange(req, { id: 'acme-kim', name: req.params.name }).then(() => res.sendStatus(204), next));
    app.post('/logout', (req, res, next) => void viafoura.onLogout(req).then(() => res.sendStatus(204), next));
    // An app that regenerates the session id and carries the old session's data over, without telling the bridge.
    app.post('/carry-over', (req, res, next) => {
      const before = { ...(req.session as unknown as Record<string, unknown>) };
      req.session.regenerate((err) => {
        if (err) return next(err);
        for (const [key, value] of Object.entries(before)) if (key !== 'cookie') (req.session as unknown as Record<string, unknown>)[key] = value;
        res.sendStatus(204);
      });
    });
    app.get('/', (_req, res) => res.send(res.locals.viafoura.embedTag));
    server = await listenLocally(app);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await viafoura.close();
    await db.destroy();
    await emulator.close();
    temp.remove();
  });

  const sidOf = (page: string) => /data-sid="([^"]+)"/.exec(page)?.[1];

  it('for a minute serves it with no SQL and no session write; then asks the bridge once, which records the activity', async () => {
    const agent = request.agent(server);
    await agent.post('/login/kim').expect(204);
    const platformSid = sidOf((await agent.get('/').expect(200)).text)!;
    expect(emulator.sessionInfo(platformSid)).toMatchObject({ alive: true, name: 'kim' });

    statements.length = 0;
    const savesBefore = store.saves;
    for (let i = 0; i < 20; i++) expect(sidOf((await agent.get('/').expect(200)).text)).toBe(platformSid);
    expect(statements).toEqual([]);
    expect(store.saves).toBe(savesBefore);

    emulator.clock.advance(MINUTE);
    expect(sidOf((await agent.get('/').expect(200)).text)).toBe(platformSid);
    // The bridge's read of the row and its activity write; then the session's one save, checked against a logout.
    expect(statements).toEqual([
      expect.stringMatching(/^select "host_sid", .* from "vf_bridge_sessions" where "host_sid" = \?$/),
      expect.stringMatching(/^update "vf_bridge_sessions" set "last_activity_at" = \?/),
      expect.stringMatching(/^select "ended_at" from "vf_bridge_sessions"/),
    ]);
    expect(store.saves).toBe(savesBefore + 1);

    statements.length = 0;
    await agent.get('/').expect(200);
    expect(statements).toEqual([]);
  });

  it('shows a renamed reader the new platform session at once', async () => {
    const agent = request.agent(server);
    await agent.post('/login/kim').expect(204);
    const before = sidOf((await agent.get('/').expect(200)).text)!;
    await agent.post('/rename/Kimberly').expect(204);
    const after = sidOf((await agent.get('/').expect(200)).text)!;
    expect(after).not.toBe(before);
    expect(emulator.sessionInfo(after)).toMatchObject({ alive: true, name: 'Kimberly' });
    expect(emulator.sessionInfo(before)?.alive).toBe(false);
  });

  it('is gone with a logout: the next view is anonymous, with no platform login', async () => {
    const agent = request.agent(server);
    await agent.post('/login/lee').expect(204);
    expect(sidOf((await agent.get('/').expect(200)).text)).toBeDefined();
    await agent.post('/logout').expect(204);
    const logins = emulator.stats().calls.login;
    expect(sidOf((await agent.get('/').expect(200)).text)).toBeUndefined();
    expect(emulator.stats().calls.login).toBe(logins);
  });

  it('is not trusted past the platform idle limit: the view after 12 idle hours logs in again', async () => {
    const agent = request.agent(server);
    await agent.post('/login/max').expect(204);
    const first = sidOf((await agent.get('/').expect(200)).text)!;
    emulator.clock.advance(12 * 60 * MINUTE);
    expect(emulator.sessionInfo(first)?.alive).toBe(false);
    const second = sidOf((await agent.get('/').expect(200)).text)!;
    expect(second).not.toBe(first);
    expect(emulator.sessionInfo(second)?.alive).toBe(true);
  });

  it('is never trusted under another session id: data carried into a regenerated session makes the view ask the bridge', async () => {
    const agent = request.agent(server);
    await agent.post('/login/ola').expect(204);
    const old = sidOf((await agent.get('/').expect(200)).text)!;
    await agent.post('/carry-over').expect(204);
    statements.length = 0;
    const fresh = sidOf((await agent.get('/').expect(200)).text)!;
    expect(statements.some((sql) => sql.includes('"vf_bridge_sessions"'))).toBe(true);
    expect(fresh).not.toBe(old);
    expect(emulator.sessionInfo(fresh)).toMatchObject({ alive: true, name: 'ola' });
  });
});
