import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import request from 'supertest';
import { chain, onlyAt } from '../../src/web/chain';

/** An app whose one layer is `handler`, answering what reached its end or the error handler. */
function appWith(handler: RequestHandler) {
  const app = express();
  app.use(handler);
  app.use((_req, res) => {
    res.json({ reached: 'end', trail: res.locals.trail ?? [] });
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ reached: 'error', message: err.message, trail: res.locals.trail ?? [] });
  });
  return app;
}

const step =
  (name: string): RequestHandler =>
  (_req, res, next) => {
    res.locals.trail = [...((res.locals.trail as string[] | undefined) ?? []), name];
    next();
  };

describe('chain', () => {
  it('runs the handlers in order, then goes on', async () => {
    const res = await request(appWith(chain(step('a'), step('b'), step('c')))).get('/x').expect(200);
    expect(res.body).toEqual({ reached: 'end', trail: ['a', 'b', 'c'] });
  });

  it('an error passed to next skips the rest and reaches the error handler', async () => {
    const failing: RequestHandler = (_req, _res, next) => next(new Error('refused'));
    const res = await request(appWith(chain(step('a'), failing, step('c')))).get('/x').expect(500);
    expect(res.body).toEqual({ reached: 'error', message: 'refused', trail: ['a'] });
  });

  it('a thrown error and a rejected promise reach the error handler, as Express sends them', async () => {
    const throwing: RequestHandler = () => {
      throw new Error('thrown');
    };
    const rejecting: RequestHandler = async () => {
      throw new Error('rejected');
    };
    expect((await request(appWith(chain(step('a'), throwing, step('c')))).get('/x').expect(500)).body).toEqual({ reached: 'error', message: 'thrown', trail: ['a'] });
    expect((await request(appWith(chain(rejecting, step('c')))).get('/x').expect(500)).body).toEqual({ reached: 'error', message: 'rejected', trail: [] });
  });

  it('a handler that answers ends the request there', async () => {
    const answering: RequestHandler = (_req, res) => void res.send('answered');
    const res = await request(appWith(chain(step('a'), answering, step('c')))).get('/x').expect(200);
    expect(res.text).toBe('answered');
  });

  it('an empty chain goes straight on', async () => {
    expect((await request(appWith(chain())).get('/x').expect(200)).body).toEqual({ reached: 'end', trail: [] });
  });
});

describe('onlyAt', () => {
  const answering: RequestHandler = (_req, res) => void res.send('inside');
  const app = appWith(onlyAt(/^\/(healthz|readyz)\/?$/i, answering));

  it.each(['/healthz', '/HEALTHZ', '/readyz/', '/healthz?x=1'])('enters the handler for %s', async (path) => {
    expect((await request(app).get(path).expect(200)).text).toBe('inside');
  });

  it.each(['/', '/healthz/x', '/articles/healthz', '/xhealthz'])('passes %s by', async (path) => {
    expect((await request(app).get(path).expect(200)).body).toEqual({ reached: 'end', trail: [] });
  });
});
