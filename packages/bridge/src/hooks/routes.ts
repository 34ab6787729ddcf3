import { isUtf8 } from 'node:buffer';
import express, { Router, type Request, type Response } from 'express';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import { AppError, RequestError } from '../errors';
import type { Logger } from '../logger';
import type { BridgeSchema } from '../store/schema';
import { createReplayGuard } from './replay-guard';
import { verifyHookSignature } from './signature';

export interface HookDeps {
  secret: string | undefined;
  clock: Clock;
  db: Kysely<BridgeSchema>;
  /** ends every host and platform session of one user; returns how many host sessions ended */
  logOutUser(hostUserId: string): Promise<number>;
  /** where a body parser mounted before the router is reported (HOOK_BODY_CONSUMED) */
  logger?: Logger | undefined;
}

/** The largest hook body accepted (README.md#the-logout-hook). */
const BODY_LIMIT_BYTES = 4 * 1024;

/** The hook's body: exactly `{"userId": "<1-64 characters>"}`; the id trimmed. */
function logoutUserId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const keys = Object.keys(body);
  const userId = (body as { userId?: unknown }).userId;
  if (keys.length !== 1 || typeof userId !== 'string') return undefined;
  const trimmed = userId.trim();
  return trimmed.length >= 1 && trimmed.length <= 64 ? trimmed : undefined;
}

const REFUSED = {
  malformed: 'The hook signature header is missing or malformed.',
  stale: 'The hook signature is too old.',
  mismatch: 'The hook signature does not match.',
} as const;

const CONSUMED_FIX =
  'a body parser before the hook router read the hook body, so its signature cannot be checked: mount the hook router before express.json() and the other body parsers (or keep the raw body as req.rawBody in their verify option)';

/**
 * The bytes the signature covers. `exact`: these are the bytes as sent. Otherwise a parser
 * mounted before this router read the body and only gave back what it parsed: its canonical
 * form is tried, which is what a compact JSON sender signs.
 */
type HookBody = { raw: Buffer; exact: boolean };

/** Whether the request came with a body at all (what type-is's hasBody asks). */
function sentBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
}

function hookBodyOf(req: Request): HookBody | undefined {
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return { raw: body, exact: true };
  // The usual idiom of an app that needs raw bodies: `express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })`.
  const kept = (req as { rawBody?: unknown }).rawBody;
  if (Buffer.isBuffer(kept)) return { raw: kept, exact: true };
  if (!sentBody(req)) return { raw: Buffer.alloc(0), exact: true };
  if (typeof body === 'string') return { raw: Buffer.from(body, 'utf8'), exact: false };
  if (typeof body === 'object' && body !== null) return { raw: compactForm(body), exact: false };
  return undefined;
}

/**
 * A parsed body's compact form. One nested too deep for JSON.stringify (a RangeError, sent by
 * anyone, before any signature is checked) is far over the hook's size limit: refused as such,
 * never a 500.
 */
function compactForm(body: object): Buffer {
  try {
    return Buffer.from(JSON.stringify(body), 'utf8');
  } catch {
    throw new RequestError('PAYLOAD_TOO_LARGE', 'The hook body is too large.');
  }
}

/** Fails as HOOK_BODY_CONSUMED: the app must be fixed, and one line in its log says how. */
function bodyConsumed(logger: Logger | undefined): AppError {
  logger?.error({ code: 'HOOK_BODY_CONSUMED' }, CONSUMED_FIX);
  return new AppError('HOOK_BODY_CONSUMED', 'The hook body was read before its signature could be checked.');
}

/** The signed bytes, once the signature over them holds; throws the refusal otherwise. */
function verifiedBody(deps: HookDeps, req: Request, now: number): { raw: Buffer; v1: string; timestamp: number } {
  const body = hookBodyOf(req);
  if (!body) throw bodyConsumed(deps.logger);
  // What a parser read as JSON was JSON: any other type is refused as it would have been.
  if (!body.exact && !req.is('application/json')) throw new RequestError('UNSUPPORTED_MEDIA_TYPE', 'Send the hook body as application/json.');
  if (body.raw.length > BODY_LIMIT_BYTES) throw new RequestError('PAYLOAD_TOO_LARGE', 'The hook body is too large.');
  const check = verifyHookSignature(deps.secret!, req.get('x-hook-signature'), body.raw, Math.floor(now / 1000));
  if (check.ok) return { raw: body.raw, v1: check.v1, timestamp: check.timestamp };
  // A mismatch over bytes rebuilt from a parsed body proves nothing about the signature: never a silent 401.
  if (check.reason === 'mismatch' && !body.exact) throw bodyConsumed(deps.logger);
  throw new RequestError(check.reason === 'stale' ? 'HOOK_SIGNATURE_STALE' : 'HOOK_SIGNATURE_INVALID', REFUSED[check.reason]);
}

function parseUserId(req: Request, raw: Buffer): string {
  if (!req.is('application/json')) throw new RequestError('UNSUPPORTED_MEDIA_TYPE', 'Send the hook body as application/json.');
  if (!isUtf8(raw)) throw new RequestError('MALFORMED_BODY', 'The hook body is not valid UTF-8.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RequestError('MALFORMED_BODY', 'The hook body is not valid JSON.');
  }
  const userId = logoutUserId(parsed);
  if (userId === undefined) throw new RequestError('VALIDATION_FAILED', 'The hook body must be {"userId": "<host user id>"}.');
  return userId;
}

/**
 * `POST /hooks/logout` (README.md#the-logout-hook): signed server-to-server logout of one user.
 * Best mounted before any body parser, so the signature is checked over the bytes as sent; with
 * one before it, a raw Buffer kept as `req.rawBody` is used, else a JSON body's canonical form.
 */
export function createHookRoutes(deps: HookDeps): Router {
  const router = Router();
  const replays = createReplayGuard(deps.db);

  async function logout(req: Request, res: Response): Promise<void> {
    if (!deps.secret) throw new RequestError('HOOK_DISABLED', 'Logout hooks are not enabled on this site.');
    const now = deps.clock.now();
    const { raw, v1, timestamp } = verifiedBody(deps, req, now);
    const userId = parseUserId(req, raw);
    if (!(await replays.firstUse(v1, timestamp, now))) {
      throw new RequestError('HOOK_REPLAYED', 'This hook signature has been used already.');
    }
    res.json({ loggedOut: await deps.logOutUser(userId) });
  }

  // The signature covers the raw bytes, so the body is read raw and parsed only once it is trusted.
  // The promise is handed to next() by hand: Express 4 does not catch a rejected handler.
  router.post('/logout', express.raw({ type: () => true, limit: BODY_LIMIT_BYTES }), (req, res, next) => {
    logout(req, res).catch(next);
  });

  return router;
}
