// A site with a login of its own, carried into the commenting platform by vf-login-bridge.
// npm install vf-login-bridge express express-session better-sqlite3 csrf-sync
// SESSION_SECRET=... VF_SITE_ID=... VF_API_KEY=... node app.js
const express = require('express');
const session = require('express-session');
const { csrfSync } = require('csrf-sync');
const { createViafouraBridge } = require('vf-login-bridge');

if (!process.env.SESSION_SECRET) {
  console.error('SESSION_SECRET is not set: give it a long random value, e.g. `openssl rand -hex 32`');
  process.exit(1);
}

async function main() {
  const viafoura = await createViafouraBridge({
    siteId: process.env.VF_SITE_ID,
    apiKey: process.env.VF_API_KEY,
    apiUrl: process.env.VF_API_URL, // default https://api.viafoura.co
    embedSrc: process.env.VF_EMBED_SRC, // default the platform's own script
    database: process.env.DATABASE_URL || 'sqlite:./bridge.db', // or postgres://...
    // Your sessions' store (connect-pg-simple, connect-redis...); MemoryStore is for trying it out.
    sessionStore: new session.MemoryStore(),
  });

  const app = express();
  app.use(express.json());
  app.use(express.urlencoded({ extended: false }));
  // Signed logouts from your other systems (VF_HOOK_SECRET: 32+ characters). Before session and
  // CSRF: a hook carries a signature, not a cookie.
  if (process.env.VF_HOOK_SECRET) app.use('/hooks', viafoura.hookRouter({ secret: process.env.VF_HOOK_SECRET }));
  app.use(session({
    store: viafoura.sessionStore, // yours, wrapped: a session logged out elsewhere stays logged out
    secret: process.env.SESSION_SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: process.env.NODE_ENV === 'production' },
  }));
  const { csrfSynchronisedProtection, generateToken } = csrfSync({ getTokenFromRequest: (req) => req.body?._csrf });
  app.use(csrfSynchronisedProtection);
  app.use(viafoura.middleware); // res.locals.viafoura.embedTag on every page

  app.get('/', (req, res) => {
    const csrf = `<input type="hidden" name="_csrf" value="${escape(generateToken(req))}">`;
    const body = req.session.user
      ? `<p>Hello ${escape(req.session.user.name)}</p><form method="post" action="/logout">${csrf}<button>Log out</button></form>`
      : `<form method="post" action="/login">${csrf}<input name="name" required><button>Log in</button></form>`;
    // The platform's embed renders the comments into .viafoura, logged in when the reader is.
    res.send(`<!doctype html><title>Acme</title>${body}<div class="viafoura"></div>${res.locals.viafoura.embedTag}`);
  });

  // This site's own login: here, whoever gives a name. Yours checks a password.
  app.post('/login', (req, res, next) => {
    const name = String(req.body.name || '').trim();
    if (!name) return res.redirect(303, '/');
    req.session.regenerate(async (err) => {
      if (err) return next(err);
      const user = { id: `acme-${name}`, name }; // and email, when your users have one
      req.session.user = user;
      try {
        // The platform login; a platform that is down never fails the site's own login.
        await viafoura.onLogin(req, user);
        res.redirect(303, '/');
      } catch (error) {
        next(error);
      }
    });
  });

  app.post('/logout', async (req, res, next) => {
    try {
      await viafoura.onLogout(req); // the platform logout, queued durably if the platform is down
      req.session.destroy(() => res.redirect(303, '/'));
    } catch (error) {
      next(error);
    }
  });

  app.use((err, req, res, next) => {
    if (err.status !== 403) console.error(err);
    res.status(err.status || 500).send(err.status === 403 ? 'Reload the page and try again.' : 'Something went wrong.');
  });

  const server = app.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
    console.log(`Acme is at http://127.0.0.1:${server.address().port}/`);
  });
  process.on('SIGTERM', () => server.close(() => viafoura.close()));
}

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

main().catch((error) => {
  console.error(`Acme failed to start: ${error.message}`);
  process.exit(1);
});
