import express, { type Request } from 'express';
import session from 'express-session';
import { createViafouraBridge, embedTagHtml, type HostUser, type ViafouraLocals } from 'vf-login-bridge';
import { findArticle } from '../web/articles';
import { articlePage } from './adapter-page';
import { ARTICLE_PATH, BENCH_API_KEY, BENCH_READER, BENCH_SESSION_SECRET, BENCH_SITE_ID } from './settings';
import { exitWithParent, tell } from './child';
import { listenOnLoopback } from './listen';

type ReaderSession = { reader?: HostUser };
const readerOf = (req: Request): HostUser | undefined => (req.session as unknown as ReaderSession).reader;

/**
 * A publisher's app at its smallest: Express, express-session on its MemoryStore, a login route
 * and a logged-in article page. BENCH_ADAPTER=on adds what the library's README asks of such an
 * app (createViafouraBridge, its middleware, onLogin after the app's own login, the embed tag it
 * builds); off is the same app without it, showing the anonymous embed tag every page of such an
 * app would carry. The difference is what the library costs a publisher's page.
 */
async function main(): Promise<void> {
  const env = process.env;
  const embedSrc = env['BENCH_EMBED_SRC']!;
  const article = findArticle(ARTICLE_PATH.split('/').pop()!);
  if (!article) throw new Error('the bench article is gone');
  // The same store kind either way: the library wraps the app's store, it brings none of its own.
  const store = new session.MemoryStore();
  const viafoura =
    env['BENCH_ADAPTER'] === 'on'
      ? await createViafouraBridge({ siteId: BENCH_SITE_ID, apiKey: BENCH_API_KEY, apiUrl: env['BENCH_API_URL']!, embedSrc, database: env['BENCH_DATABASE_URL']!, sessionStore: store })
      : undefined;

  const app = express();
  app.use(session({ store: viafoura?.sessionStore ?? store, secret: BENCH_SESSION_SECRET, resave: false, saveUninitialized: false }));
  if (viafoura) app.use(viafoura.middleware);
  // The app's own login, for the bench's one reader; the bridge learns of it once, here.
  app.post('/login', (req, res, next) => {
    req.session.regenerate(async (error: unknown) => {
      if (error) return next(error);
      try {
        (req.session as unknown as ReaderSession).reader = BENCH_READER;
        await viafoura?.onLogin(req, BENCH_READER);
        res.status(204).end();
      } catch (failure) {
        next(failure);
      }
    });
  });
  const anonymousTag = embedTagHtml(embedSrc, null);
  app.get(ARTICLE_PATH, (req, res) => {
    const reader = readerOf(req);
    if (!reader) return void res.status(401).end();
    const embedTag = viafoura ? (res.locals.viafoura as ViafouraLocals).embedTag : anonymousTag;
    res.type('html').send(articlePage(article, reader.name, embedTag));
  });

  const server = await listenOnLoopback(app);
  exitWithParent(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await viafoura?.close();
  });
  tell({ type: 'ready', url: server.url });
}

void main();
