// An Express site with a login of its own (no passport), carried into the commenting platform
// by the vf-login-bridge package. Run: VF_SITE_ID=... VF_API_KEY=... node app.js
const express = require('express');
const session = require('express-session');
const { createViafouraBridge } = require('vf-login-bridge');

async function main() {
  const viafoura = await createViafouraBridge({
    siteId: process.env.VF_SITE_ID,
    apiKey: process.env.VF_API_KEY,
    apiUrl: process.env.VF_API_URL, // default https://api.viafoura.co
    embedSrc: process.env.VF_EMBED_SRC, // default the platform's own script
    database: process.env.DATABASE_URL || 'sqlite:./bridge.db', // or postgres://...
  });

  const app = express();
  app.use(express.urlencoded({ extended: false }));
  // Use a persistent session store in production; the bridge keys on req.sessionID.
  app.use(session({ secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false }));
  app.use(viafoura.middleware); // res.locals.viafoura.embedTag on every page

  app.get('/', (req, res) => {
    const who = req.session.user ? `Hello ${escape(req.session.user.name)}` : 'Not logged in';
    res.send(`<!doctype html><title>Acme</title><p>${who}</p>${res.locals.viafoura.embedTag}`);
  });

  // This site's own login: here, whoever gives a name. Yours checks a password.
  app.post('/login', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      const user = { id: `acme-${req.body.name}`, name: req.body.name };
      req.session.user = user;
      // The platform login; a platform that is down never fails the site's own login.
      viafoura.onLogin(req, user).then(() => res.redirect(303, '/'), next);
    });
  });

  app.post('/logout', async (req, res) => {
    await viafoura.onLogout(req); // platform logout, queued durably if the platform is down
    req.session.destroy(() => res.redirect(303, '/'));
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
