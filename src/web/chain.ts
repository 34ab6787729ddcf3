import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Several middleware run one after another as one: the same order and the same errors as
 * `app.use(a, b, c)`, without a router layer (its path match, bookkeeping and `next` closure) for
 * each. Every request passes the site's front middleware, so each layer saved is saved on every page
 * view (docs/architecture.md#a-page-view). A handler's thrown error or rejected promise goes to the
 * error handler, as Express does it; `next('route')` and `next('router')` are not for these.
 */
export function chain(...handlers: readonly RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, done: NextFunction) => {
    let index = 0;
    const next = (err?: unknown): void => {
      if (err) return done(err);
      const handler = handlers[index];
      index += 1;
      if (!handler) return done();
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise) result.catch((error: unknown) => done(error || new Error('Rejected promise')));
      } catch (error) {
        done(error);
      }
    };
    next();
  };
}

/**
 * A handler that only paths matching `pattern` reach; others pass by without entering it. For a
 * router whose few paths are known, this spares every other request the router's walk.
 */
export function onlyAt(pattern: RegExp, handler: RequestHandler): RequestHandler {
  return (req, res, next) => (pattern.test(req.path) ? handler(req, res, next) : next());
}
