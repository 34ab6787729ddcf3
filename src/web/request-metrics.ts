import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Methods counted by name; anything else (Node's parser takes a few dozen) is `OTHER`, so the label stays bounded. */
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A page view takes a few milliseconds; a slow platform login or an argon2 hash, up to seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What a request that matched no route of the site is counted under: no part of its path is kept. */
export const UNMATCHED_ROUTE = 'unmatched';
/** The files under /public (the vendor scripts keep their route, `/public/vendor/:file`): one label for all of them. */
export const STATIC_ROUTE = 'static';

type LabelNames = 'method' | 'route' | 'status';

export interface RequestMetrics {
  /** The step every request passes: counts it and times it once its answer is done. */
  handler: RequestHandler;
}

/**
 * `http_requests_total` and `http_request_duration_seconds` by method, route pattern and status
 * class, on the site's own registry. The route is the pattern Express matched (`/articles/:slug`),
 * `static` for the public files or `unmatched`: never the path as sent, an id or a query, so a
 * scanner's thousand paths add no series. The status is `aborted` when the client left first. Each request costs one listener, one label object and
 * two updates of prom-client's, about a microsecond of CPU (docs/architecture.md#a-page-view).
 */
export function createRequestMetrics(registry: Registry): RequestMetrics {
  const requests = new Counter<LabelNames>({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status class',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram<LabelNames>({
    name: 'http_request_duration_seconds',
    help: 'Time from the request reaching the site to its answer being done, by method, route pattern and status class',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const handler: RequestHandler = (req, res, next) => {
    const started = performance.now();
    // 'close' comes once per answer, finished or aborted: a plain listener, as the request log's.
    res.on('close', () => {
      const labels = { method: METHODS.has(req.method) ? req.method : 'OTHER', route: routeOf(req), status: res.writableFinished ? statusClassOf(res) : ABORTED };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
  return { handler };
}

/** The status label of an answer the client went away from before it was done: its status code never reached anyone. */
export const ABORTED = 'aborted';

/** `2xx` ... `5xx`; a status outside 100-599 (never sent by this site) counts as `5xx`. */
export function statusClassOf(res: Response): string {
  const status = res.statusCode;
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : '5xx';
}

/** The static files' mount, matched as Express matches it: in any case. */
const PUBLIC_FILES = /^\/public\//i;

/** What a route label may hold: a pattern of the site's, never percent escapes, dots or a query. */
const ROUTE_LABEL = /^(\/[a-z0-9:_-]*)+$/;

/**
 * The route pattern that answered, with its router's mount path; only string patterns are taken,
 * and every route of the site is one. Express leaves `req.route` set once a route matched, even
 * when its handler failed and the error handler answered; anything that does not look like a
 * pattern (it cannot happen, short of a route that takes one from the request) counts as unmatched.
 */
export function routeOf(req: Request): string {
  const route: unknown = req.route;
  const pattern = route ? (route as { path?: unknown }).path : undefined;
  if (typeof pattern !== 'string') return PUBLIC_FILES.test(req.originalUrl) ? STATIC_ROUTE : UNMATCHED_ROUTE;
  const mount = mountOf(req, pattern);
  const label = mount !== '' && pattern === '/' ? mount : mount + pattern;
  return label.length <= 100 && ROUTE_LABEL.test(label) ? label : UNMATCHED_ROUTE;
}

/**
 * The mount path of the router whose route answered (`/hooks`). While that router answers it is
 * `req.baseUrl`; once a failure has left the router for the error handler Express has emptied it,
 * and for a literal pattern it is what precedes the pattern in the path. Either way it is the part
 * of the path that matched a fixed mount string of the site's, so only its case can differ from
 * that string; lower-cased, it is the string again.
 */
function mountOf(req: Request, pattern: string): string {
  if (req.baseUrl !== '') return req.baseUrl.toLowerCase().replace(/\/+$/, '');
  if (pattern.includes(':') || pattern.includes('*')) return '';
  const path = req.path.toLowerCase().replace(/\/+$/, '');
  const tail = pattern === '/' ? '' : pattern.toLowerCase();
  return path.endsWith(tail) ? path.slice(0, path.length - tail.length) : '';
}
