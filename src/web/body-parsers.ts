import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type RequestHandler } from 'express';

/** body-parser turns what `verify` throws into an error of this status and `type`. */
function refused(status: number, type: string, message: string): Error {
  return Object.assign(new Error(message), { status, type });
}

/**
 * The site reads UTF-8 only. Without this check a body with stray bytes would be decoded with
 * U+FFFD in place of them and stored as if the reader had typed that.
 */
function utf8Only(_req: IncomingMessage, _res: ServerResponse, body: Buffer, charset: string): void {
  if (charset !== 'utf-8') throw refused(415, 'charset.unsupported', 'charset other than UTF-8');
  if (!isUtf8(body)) throw refused(400, 'encoding.invalid', 'body is not UTF-8');
}

/** A form's bytes may be ASCII while its percent-escapes spell bytes that are not UTF-8 (`%FF`). */
function utf8FormOnly(req: IncomingMessage, res: ServerResponse, body: Buffer, charset: string): void {
  utf8Only(req, res, body, charset);
  // Only runs of well-formed escapes: a bare `%` (as `curl -d` sends it) stays literal text.
  for (const escapes of body.toString('latin1').match(/(?:%[0-9A-Fa-f]{2})+/g) ?? []) {
    try {
      decodeURIComponent(escapes);
    } catch {
      throw refused(400, 'encoding.invalid', 'form field is not UTF-8');
    }
  }
}

/** Forms: small and flat (no nested keys), at most 20 fields. */
export const formBody = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20, verify: utf8FormOnly });

/** JSON: small, an object or an array at the top. */
export const jsonBody = express.json({ limit: '16kb', strict: true, verify: utf8Only });

/**
 * Both parsers, as one middleware that a request without a body (every page view) passes at once:
 * the parsers would only find that out themselves, each after its own checks.
 */
export const requestBodies: RequestHandler = (req, res, next) => {
  if (!hasBody(req)) {
    // What the parsers leave on a request without a body.
    if (!Object.hasOwn(req, 'body')) req.body = undefined;
    return next();
  }
  formBody(req, res, (err?: unknown) => (err ? next(err) : jsonBody(req, res, next)));
};

/** Whether a request carries a body, judged as the parsers judge it (type-is's hasBody). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || !Number.isNaN(Number(req.headers['content-length']));
}
