import { Router, type Request, type RequestHandler, type Response } from 'express';
import { RequestError } from '../errors';
import { ARTICLES, findArticle } from './articles';
import type { Render } from './render';

export function createPageRoutes(render: Render, withPlatform: RequestHandler, csrfTokenFor: (req: Request, res: Response) => string): Router {
  const router = Router();

  router.get('/', withPlatform, (req, res) => {
    // Where a deleted account lands (src/accounts/account-data-routes.ts); only a logged-out browser is told.
    const accountDeleted = req.query.deleted === '1' && !req.user;
    render(res, 'home', { title: 'Front page', articles: ARTICLES, accountDeleted });
  });

  router.get('/articles/:slug', withPlatform, (req, res) => {
    const article = findArticle(String(req.params.slug));
    if (!article) throw new RequestError('NOT_FOUND', 'There is no article at this address.');
    render(res, 'article', { title: article.title, article });
  });

  // For the browser script: who is logged in, and the embed's platform session (README.md#routes).
  router.get('/api/session', withPlatform, (req, res) => {
    const user = req.user ? { id: req.user.id, name: req.user.name, email: req.user.email } : null;
    const platform = res.locals.platform ? { uid: res.locals.platform.userId, sid: res.locals.platform.session } : null;
    res.json({ user, platform, ...(user ? { csrfToken: csrfTokenFor(req, res) } : {}) });
  });

  return router;
}
