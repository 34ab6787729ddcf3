import express from 'express';
import session from 'express-session';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createMemoryLogger } from '../../src/logger';
import { createPlatform, type HostUser } from 'vf-login-bridge';
import { openTempDatabase } from '../helpers/temp-database';
import { startTestEmulator, TEST_API_KEY, TEST_SITE_ID } from '../helpers/emulator';

/**
 * The bridge in an Express app with a login system of its own and no passport: the same
 * four calls the README shows.
 */
describe('the bridge in another Express app', () => {
  it('logs a reader in to the platform, renders the tag, and logs out', async () => {
    const emulator = await startTestEmulator();
    const database = await openTempDatabase();
    const { logger } = createMemoryLogger();
    const platform = createPlatform({
      baseUrl: emulator.url,
      siteId: TEST_SITE_ID,
      apiKey: TEST_API_KEY,
      timeoutMs: 2000,
      clock: emulator.clock,
      logger,
      db: database.db,
      registry: new Registry(),
    });

    const app = express();
    app.use(session({ secret: 'another-app-secret-0123456789abcdef', resave: false, saveUninitialized: false }));
    // This app's own "login": whoever names themselves is logged in.
    app.post('/my-login/:name', (req, res, next) => {
      req.session.regenerate(async (err) => {
        if (err) return next(err);
        const reader: HostUser = { id: `acme-${req.params.name}`, name: req.params.name };
        (req.session as unknown as { reader: HostUser }).reader = reader;
        await platform.bridge.onLogin(req.sessionID, reader);
        res.sendStatus(204);
      });
    });
    app.get('/page', async (req, res) => {
      const reader = (req.session as unknown as { reader?: HostUser }).reader;
      const vf = reader ? await platform.bridge.platformSessionFor(req.sessionID, reader) : null;
      res.send(`<script id="viafoura-platform" data-uid="${vf?.userId ?? ''}" data-sid="${vf?.session ?? ''}"></script>`);
    });
    app.post('/my-logout', async (req, res) => {
      await platform.bridge.onLogout(req.sessionID);
      req.session.destroy(() => res.sendStatus(204));
    });

    try {
      const agent = request.agent(app);
      await agent.post('/my-login/Wanda').expect(204);
      const page = await agent.get('/page').expect(200);
      const sid = /data-sid="([^"]+)"/.exec(page.text)?.[1];
      expect(emulator.sessionInfo(sid!)).toMatchObject({ alive: true, hostId: 'acme-Wanda', name: 'Wanda' });
      await agent.post('/my-logout').expect(204);
      expect(emulator.sessionInfo(sid!)?.alive).toBe(false);
    } finally {
      await platform.close();
      await database.close();
      await emulator.close();
    }
  });
});
