import { isUtf8 } from 'node:buffer';
import express, { Router, type Request, type Response } from 'express';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import { AppError, isAppError, RequestError } from '../errors';
import type { Logger } from '../logger';
import type { BridgeSchema } from '../store/schema';
import { deliverOnce } from './delivery';
import { createReplayGuard } from './replay-guard';
import { SIGNATURE_TOLERANCE_SECONDS, verifyHookSignature } from './signature';
import { createWebhookSigners, verifyStandardWebhook } from './standard-webhooks';

export interface HookDeps {
  /** `X-Hook-Signature`'s secret (HOOK_SECRET); unset: that header is refused */
  secret: string | undefined;
  /** Standard Webhooks secrets, `whsec_...` (HOOK_SECRETS), every one accepted; none: those headers are refused */
  webhookSecrets?: readonly string[] | undefined;
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

/** The two signature schemes (docs/webhooks.md), each with its refusals. */
type Scheme = 'x-hook' | 'standard';
type Refusal = 'malformed' | 'stale' | 'mismatch';
type SignatureCheck<T> = ({ ok: true } & T) | { ok: false; reason: Refusal };

const REFUSED: Record<Scheme, Record<Refusal, string>> = {
  'x-hook': {
    malformed: 'The hook signature header is missing or malformed.',
    stale: 'The hook signature is too old.',
    mismatch: 'The hook signature does not match.',
  },
  standard: {
    malformed: 'The webhook-id, webhook-timestamp or webhook-signature header is missing or malformed.',
    stale: 'The webhook-timestamp is more than 5 minutes from now.',
    mismatch: 'No webhook-signature matches.',
  },
};

/** Any `webhook-*` header makes the request a Standard Webhook; otherwise it is judged by X-Hook-Signature. */
function schemeOf(req: Request): Scheme {
  return ['webhook-id', 'webhook-timestamp', 'webhook-signature'].some((name) => req.headers[name] !== undefined) ? 'standard' : 'x-hook';
}

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

/** The signed bytes and what the check found, once the signature over them holds; throws the refusal otherwise. */
function verifiedBody<T>(logger: Logger | undefined, req: Request, scheme: Scheme, check: (raw: Buffer) => SignatureCheck<T>): T & { raw: Buffer } {
  const body = hookBodyOf(req);
  if (!body) throw bodyConsumed(logger);
  // What a parser read as JSON was JSON: any other type is refused as it would have been.
  if (!body.exact && !req.is('application/json')) throw new RequestError('UNSUPPORTED_MEDIA_TYPE', 'Send the hook body as application/json.');
  if (body.raw.length > BODY_LIMIT_BYTES) throw new RequestError('PAYLOAD_TOO_LARGE', 'The hook body is too large.');
  const result = check(body.raw);
  if (result.ok) return { ...result, raw: body.raw };
  // A mismatch over bytes rebuilt from a parsed body proves nothing about the signature: never a silent 401.
  if (result.reason === 'mismatch' && !body.exact) throw bodyConsumed(logger);
  throw new RequestError(result.reason === 'stale' ? 'HOOK_SIGNATURE_STALE' : 'HOOK_SIGNATURE_INVALID', REFUSED[scheme][result.reason]);
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
 * `POST /hooks/logout` (README.md#the-logout-hook, docs/webhooks.md): signed server-to-server
 * logout of one user, by `X-Hook-Signature` or by Standard Webhooks. Best mounted before any body
 * parser, so the signature is checked over the bytes as sent; with one before it, a raw Buffer
 * kept as `req.rawBody` is used, else a JSON body's canonical form.
 */
export function createHookRoutes(deps: HookDeps): Router {
  const router = Router();
  const replays = createReplayGuard(deps.db);
  const signers = createWebhookSigners(deps.webhookSecrets ?? [], 'createHookRoutes');
  const nowSeconds = () => Math.floor(deps.clock.now() / 1000);

  /** The old scheme: a signature is used once, and a replay is refused. */
  async function xHookLogout(req: Request, res: Response): Promise<void> {
    if (!deps.secret) throw new RequestError('HOOK_DISABLED', 'Hooks signed with X-Hook-Signature are not enabled on this site.');
    const now = deps.clock.now();
    const { raw, v1, timestamp } = verifiedBody(deps.logger, req, 'x-hook', (bytes) => verifyHookSignature(deps.secret!, req.get('x-hook-signature'), bytes, Math.floor(now / 1000)));
    const userId = parseUserId(req, raw);
    if (!(await replays.firstUse(v1, (timestamp + SIGNATURE_TOLERANCE_SECONDS + 60) * 1000, now))) {
      throw new RequestError('HOOK_REPLAYED', 'This hook signature has been used already.');
    }
    res.json({ loggedOut: await deps.logOutUser(userId) });
  }

  /** Standard Webhooks: a webhook-id is handled once; its senders' retries are answered as duplicates. */
  async function standardLogout(req: Request, res: Response): Promise<void> {
    if (signers.length === 0) throw new RequestError('HOOK_DISABLED', 'Standard Webhooks are not enabled on this site.');
    const headers = { id: req.get('webhook-id'), timestamp: req.get('webhook-timestamp'), signature: req.get('webhook-signature') };
    const { raw, id } = verifiedBody(deps.logger, req, 'standard', (bytes) => verifyStandardWebhook(signers, headers, bytes, nowSeconds()));
    const userId = parseUserId(req, raw);
    const delivery = await deliverOnce(replays, id, () => deps.clock.now(), () => deps.logOutUser(userId)).catch((error: unknown) => {
      if (isAppError(error) && error.code === 'HOOK_IN_PROGRESS') res.set('Retry-After', '60');
      throw error;
    });
    if (delivery.duplicate) {
      deps.logger?.info({ webhookId: id }, 'logout hook: webhook-id already handled, answered as a duplicate');
      res.json({ duplicate: true });
      return;
    }
    res.json({ loggedOut: delivery.result });
  }

  async function logout(req: Request, res: Response): Promise<void> {
    if (!deps.secret && signers.length === 0) throw new RequestError('HOOK_DISABLED', 'Logout hooks are not enabled on this site.');
    await (schemeOf(req) === 'standard' ? standardLogout(req, res) : xHookLogout(req, res));
  }

  // The signature covers the raw bytes, so the body is read raw and parsed only once it is trusted.
  // The promise is handed to next() by hand: Express 4 does not catch a rejected handler.
  router.post('/logout', express.raw({ type: () => true, limit: BODY_LIMIT_BYTES }), (req, res, next) => {
    logout(req, res).catch(next);
  });

  return router;
}
