import express, { type RequestHandler, type Router } from 'express';
import type { CommentBoard } from './comments';
import { EMBED_CSS, EMBED_JS } from './embed-assets';
import type { EmulatorState } from './state';
import { readForm } from './wire';

const BODY_LIMIT = '16kb';
const MAX_PAGE_LENGTH = 500;
const MAX_COMMENT_LENGTH = 2000;

/**
 * The embed runs on the publisher's pages, another origin: its calls are answered to any
 * origin without credentials (no cookies are involved; the session id travels in the request).
 */
const allowAnyOrigin: RequestHandler = (req, res, next) => {
  res.set({
    'Access-Control-Allow-Origin': '*',
    // A host page may send Cross-Origin-Embedder-Policy: require-corp.
    'Cross-Origin-Resource-Policy': 'cross-origin',
  });
  if (req.method === 'OPTIONS') {
    res
      .status(204)
      .set({
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type',
        'Access-Control-Max-Age': '600',
      })
      .end();
    return;
  }
  next();
};

function queryString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The script and stylesheet the host page includes, and the small API they call (docs/platform-protocol.md#javascript-api). */
export function embedRouter(deps: { state: EmulatorState; comments: CommentBoard }): Router {
  const { state, comments } = deps;
  const router = express.Router();

  router.get('/embed.js', allowAnyOrigin, (_req, res) => {
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(EMBED_JS);
  });
  router.get('/embed.css', allowAnyOrigin, (_req, res) => {
    res.type('text/css').set('Cache-Control', 'no-cache').send(EMBED_CSS);
  });

  const api = express.Router();
  api.use(allowAnyOrigin);
  api.use(express.raw({ type: () => true, limit: BODY_LIMIT }));
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  // Asking about a session is the activity that keeps it from idling out ("12 hours of user
  // inactivity", docs/platform-protocol.md#idle-expiry).
  api.get('/session', (req, res) => {
    const sid = queryString(req.query['sid']);
    const user = sid === undefined ? null : state.touchSession(sid);
    res.json({ user: user && { id: user.userId, name: user.name } });
  });

  api.post('/logout', (req, res) => {
    const form = readForm(req, ['sid']);
    if (!form.ok || form.fields['sid'] === undefined) {
      res.status(400).json({ error: 'invalid_request', error_description: 'The parameter "sid" is required' });
      return;
    }
    state.logout(form.fields['sid']);
    res.json({ ok: true });
  });

  api.get('/comments', (req, res) => {
    const page = queryString(req.query['page']);
    if (page === undefined || page.length > MAX_PAGE_LENGTH) {
      res.status(400).json({ error: 'invalid_request', error_description: 'The parameter "page" is required' });
      return;
    }
    res.json({ comments: comments.list(page) });
  });

  api.post('/comments', (req, res) => {
    const form = readForm(req, ['sid', 'page', 'text']);
    const fields = form.ok ? form.fields : {};
    const text = fields['text']?.trim();
    const page = fields['page'];
    if (!text || text.length > MAX_COMMENT_LENGTH || !page || page.length > MAX_PAGE_LENGTH) {
      res.status(400).json({ error: 'invalid_request', error_description: 'sid, page and text (at most 2000 characters) are required' });
      return;
    }
    const user = fields['sid'] === undefined ? null : state.touchSession(fields['sid']);
    if (!user) {
      res.status(401).json({ error: 'invalid_session', error_description: 'The session is unknown, logged out or expired' });
      return;
    }
    res.json({ comment: comments.add(page, user, text) });
  });

  router.use('/embed/v1', api);
  return router;
}
