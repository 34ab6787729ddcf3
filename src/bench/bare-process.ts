import express from 'express';
import { createRenderer } from '../web/render';
import { findArticle } from '../web/articles';
import { embedTagFor } from '../web/embed';
import { ARTICLE_PATH } from './settings';
import { exitWithParent, tell } from './child';
import { listenOnLoopback } from './listen';

/**
 * The limit of this stack: Express 5 and the same Eta templates rendering the same article with
 * the same data an anonymous reader gets, and nothing else (no headers, sessions, logging).
 */
async function main(): Promise<void> {
  const embedSrc = process.env['BENCH_EMBED_SRC']!;
  const app = express();
  const render = createRenderer();
  app.get('/articles/:slug', (req, res) => {
    const article = findArticle(String(req.params.slug))!;
    res.locals.user = null;
    res.locals.embed = embedTagFor(embedSrc, null);
    res.locals.path = req.originalUrl.split('?')[0]!;
    res.locals.csrf = () => '';
    render(res, 'article', { title: article.title, article });
  });
  if (!findArticle(ARTICLE_PATH.split('/').pop()!)) throw new Error('the bench article is gone');
  const server = await listenOnLoopback(app);
  exitWithParent(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  tell({ type: 'ready', url: server.url });
}

void main();
