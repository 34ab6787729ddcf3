// A CommonJS TypeScript app (module node16): `import = require` and named imports alike.
import express = require('express');
import session = require('express-session');
import bridge = require('vf-login-bridge');
import { viafouraPassport } from 'vf-login-bridge/passport';
import type { ViafouraBridge, ViafouraBridgeOptions, ViafouraLocals, HostUser, BridgeErrorCode } from 'vf-login-bridge';

const options: ViafouraBridgeOptions = {
  siteId: 'acme',
  apiKey: 'key',
  database: 'sqlite:./bridge.db',
  sessionStore: new session.MemoryStore(),
  tablePrefix: 'acme_vf_',
  // Every counted outcome, typed: a last hour of the app's own, say.
  onOutcome: (outcome) => void (outcome.kind === 'logout' && outcome.count > 0 && outcome.outcome.length > 0),
};
// @ts-expect-error the database is required: the options are typed, not `any`
const incomplete: ViafouraBridgeOptions = { siteId: 'acme', apiKey: 'key', sessionStore: new session.MemoryStore() };

export async function start(): Promise<ViafouraBridge> {
  const viafoura = await bridge.createViafouraBridge(options);
  const app = express();
  app.use(session({ store: viafoura.sessionStore, secret: 'a-secret-of-thirty-two-characters!', resave: false, saveUninitialized: false }));
  app.use('/hooks', viafoura.hookRouter({ secret: 'a-hook-secret-of-at-least-32-chars' }));
  app.use(viafoura.middleware);
  // after passport.initialize() and passport.session(), in an app that has passport
  app.use(viafouraPassport<{ id: number; displayName: string }>(viafoura, (user) => ({ id: String(user.id), name: user.displayName })));
  app.get('/', (_req, res) => {
    const locals = res.locals['viafoura'] as ViafouraLocals;
    res.send(locals.embedTag);
  });
  app.post('/login', async (req, res) => {
    const user: HostUser = { id: '42', name: 'Wanda', email: 'wanda@example.com' };
    await viafoura.onLogin(req, user);
    res.redirect(303, '/');
  });
  app.post('/logout', async (req, res) => {
    try {
      await viafoura.onLogout(req);
    } catch (error) {
      if (bridge.isAppError(error)) {
        const code: string = error.code;
        res.status(error.status).send(code);
        return;
      }
      throw error;
    }
    req.session.destroy(() => res.redirect(303, '/'));
  });
  const ended: number = await viafoura.logoutUser('42');
  const ran: boolean = await viafoura.jobs.run('deliver');
  void [ended, ran, incomplete];
  const known: BridgeErrorCode = 'HOOK_SIGNATURE_INVALID';
  void known;
  return viafoura;
}
