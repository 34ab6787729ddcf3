import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import type { Level } from 'pino';
import type { Logger } from '../logger';

/** Query keys whose values are never logged, at any depth (`password`, `user[password]`, `auth.token`, ...). */
const SECRET_KEY = /pass|token|secret|session|sid|code|key|auth|sig|cookie|csrf/i;

/** The request's path and query, every secret-looking query value replaced (ASVS 7.1.1). */
export function redactedTarget(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const pairs = url.slice(at + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    let key = rawKey;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: judge the key as sent.
    }
    return eq >= 0 && SECRET_KEY.test(key) ? `${rawKey}=[redacted]` : pair;
  });
  return `${url.slice(0, at)}?${pairs.join('&')}`;
}

/** Safe to log at debug: never cookies, authorization, CSRF tokens or signatures. */
const DEBUG_HEADERS = ['user-agent', 'referer', 'accept', 'content-type', 'content-length'] as const;

/**
 * One log line per request, built once when the response is done and only when its level is on:
 * a successful page view (GET or HEAD below 400) at `debug`, any other request at `info`, a 4xx at
 * `warn` and a 5xx at `error` (docs/architecture.md#request-logging). Every answer carries its
 * request id in `X-Request-Id`, so a reader's report can be matched with its line.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const id = randomUUID();
    res.setHeader('X-Request-Id', id);
    // 'close' comes once per answer: a plain listener, without once()'s wrapper.
    res.on('close', () => {
      const status = res.statusCode;
      const error = res.err;
      const level: Level =
        error || status >= 500 ? 'error' : status >= 400 ? 'warn' : (req.method === 'GET' || req.method === 'HEAD') && res.writableFinished ? 'debug' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Math.round((performance.now() - started) * 100) / 100;
      const url = redactedTarget(req.originalUrl);
      const line: Record<string, unknown> = { reqId: id, method: req.method, path: url, status, ms };
      const code: unknown = res.locals?.errorCode;
      if (typeof code === 'string') line.code = code;
      if (!res.writableFinished) line.aborted = true;
      if (error) line.err = error;
      if (logger.isLevelEnabled('debug')) {
        for (const name of DEBUG_HEADERS) {
          const value = req.headers[name];
          // A Referer is a URL like any other: one a browser sends from a link page (one that
          // ignores the site's Referrer-Policy) carries the link's token.
          if (value !== undefined) line[name] = name === 'referer' ? redactedTarget(value) : value;
        }
      }
      logger[level](line, `${req.method} ${url} ${status} ${ms} ms`);
    });
    next();
  };
}
