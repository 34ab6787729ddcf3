import type { RequestHandler } from 'express';

/** A header middleware that cannot be run once for every request: it reads the request, or does more than set headers. */
export class HeadersNotFixedError extends Error {
  readonly code = 'HEADERS_NOT_FIXED';
  constructor(detail: string) {
    super(`these headers differ from request to request, so they cannot be computed once: ${detail}`);
    this.name = 'HeadersNotFixedError';
  }
}

type HeaderStep = readonly ['set', string, string | number | readonly string[]] | readonly ['remove', string];

/** An object whose every property read throws, naming what was read. */
function untouchable(what: string): object {
  return new Proxy(
    {},
    {
      get: (_target, property) => {
        throw new HeadersNotFixedError(`it reads ${what}.${String(property)}`);
      },
    },
  );
}

/**
 * The headers a middleware sets on every answer, computed once. The middleware (helmet with a
 * policy of fixed strings: no nonce, no function of the request) runs once at start-up against a
 * recorder, and each request then gets the same `setHeader` and `removeHeader` calls in the same
 * order, without the middleware's chain of a dozen steps. One that reads the request, touches the
 * response otherwise, fails or answers later is refused here, at start-up, so a policy that comes to
 * vary per request (a nonce) cannot be frozen by mistake.
 */
export function fixedHeaders(middleware: RequestHandler): RequestHandler {
  const steps: HeaderStep[] = [];
  const recorder = new Proxy(
    {
      setHeader(name: string, value: string | number | readonly string[]) {
        steps.push(['set', name, value]);
      },
      removeHeader(name: string) {
        steps.push(['remove', name]);
      },
    },
    {
      get: (target, property) => {
        if (property === 'setHeader' || property === 'removeHeader') return target[property];
        throw new HeadersNotFixedError(`it reads res.${String(property)}`);
      },
    },
  );
  let outcome: { err: unknown } | undefined;
  // Express's types want a whole request and response; the proxies stand in for them, and any use beyond the two calls throws.
  middleware(untouchable('req') as never, recorder as never, (err?: unknown) => {
    outcome = { err };
  });
  if (!outcome) throw new HeadersNotFixedError('it did not call next at once');
  if (outcome.err) throw new HeadersNotFixedError(`it failed: ${String(outcome.err)}`);

  return (_req, res, next) => {
    for (const step of steps) {
      if (step[0] === 'set') res.setHeader(step[1], step[2]);
      else res.removeHeader(step[1]);
    }
    next();
  };
}
