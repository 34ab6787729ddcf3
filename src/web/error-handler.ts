import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { AppError, RateLimitedError, RequestError, isAppError, type AnyAppError, type ErrorCode } from '../errors';
import { wantsJson } from './negotiate';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../store/unavailable';
import type { Render } from './render';

/** What body-parser and friends throw, by their `type`, as our codes and plain messages. */
const PARSER_ERRORS: Record<string, [ErrorCode, string]> = {
  'entity.too.large': ['PAYLOAD_TOO_LARGE', 'The request body is too large.'],
  'parameters.too.many': ['PAYLOAD_TOO_LARGE', 'The form has too many fields.'],
  'entity.parse.failed': ['MALFORMED_BODY', 'The request body could not be read.'],
  'encoding.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'That content encoding is not supported.'],
  'charset.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'That character set is not supported; send UTF-8.'],
  'encoding.invalid': ['MALFORMED_BODY', 'The request body is not valid UTF-8.'],
  'request.aborted': ['BAD_REQUEST', 'The request was cut short.'],
  'request.size.invalid': ['BAD_REQUEST', 'The request body does not match its length.'],
};

export function toAppError(error: unknown): AnyAppError {
  if (isAppError(error)) return error;
  if (isDatabaseUnavailable(error)) return new DatabaseUnavailableError(error);
  const e = error as { type?: unknown; status?: unknown; statusCode?: unknown } | null;
  const known = typeof e?.type === 'string' ? PARSER_ERRORS[e.type] : undefined;
  if (known) return new RequestError(known[0], known[1], { cause: error });
  const status = Number(e?.status ?? e?.statusCode);
  if (status >= 400 && status < 500) return new RequestError('BAD_REQUEST', 'The request could not be understood.', { cause: error, status });
  return new AppError('INTERNAL', 'Something went wrong on our side. Please try again.', { cause: error });
}

export function sendError(req: Request, res: Response, render: Render, error: AnyAppError): void {
  if (error instanceof RateLimitedError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  // A store that is down for a moment: clients and proxies may try again shortly.
  else if (error.status === 503) res.setHeader('Retry-After', '5');
  res.locals.errorCode = error.code;
  if (wantsJson(req)) {
    res.status(error.status).json({ error: { code: error.code, message: error.message } });
  } else {
    render(res, 'error', { title: error.status === 404 ? 'Not found' : 'Something is wrong', status: error.status, message: error.message }, error.status);
  }
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new RequestError('NOT_FOUND', 'There is nothing at this address.'));
};

/**
 * The one error handler: logged once (by the request logger, with the code and, for 5xx only,
 * the error), answered as a page or as JSON, never with a stack trace.
 */
export function createErrorHandler(render: Render): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) res.err = error instanceof Error ? error : new Error(String(error));
    if (res.headersSent) {
      res.end();
      return;
    }
    try {
      sendError(req, res, render, appError);
    } catch (renderError) {
      // The error page itself failed: a plain line, never the framework's page with a stack.
      res.err ??= renderError instanceof Error ? renderError : new Error(String(renderError));
      res.status(500).type('text/plain').send('Something went wrong on our side. Please try again.');
    }
  };
}

declare module 'http' {
  interface ServerResponse {
    /** the error to log with the request line (src/web/request-log.ts) */
    err?: Error;
  }
}
