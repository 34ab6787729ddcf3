import { isUtf8 } from 'node:buffer';
import express, { Router } from 'express';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock';
import { RequestError } from '../errors';
import type { BridgeSchema } from '../store/schema';
import { createReplayGuard } from './replay-guard';
import { verifyHookSignature } from './signature';

export interface HookDeps {
  secret: string | undefined;
  clock: Clock;
  db: Kysely<BridgeSchema>;
  /** ends every host and platform session of one user; returns how many host sessions ended */
  logOutUser(hostUserId: string): Promise<number>;
}

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

/** `POST /hooks/logout` (README.md#the-logout-hook): signed server-to-server logout of one user. */
export function createHookRoutes(deps: HookDeps): Router {
  const router = Router();
  const replays = createReplayGuard(deps.db);

  // The signature covers the raw bytes, so the body is read raw and parsed only once it is trusted.
  router.post('/logout', express.raw({ type: () => true, limit: '4kb' }), async (req, res) => {
    if (!deps.secret) throw new RequestError('HOOK_DISABLED', 'Logout hooks are not enabled on this site.');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const now = deps.clock.now();
    const check = verifyHookSignature(deps.secret, req.get('x-hook-signature'), raw, Math.floor(now / 1000));
    if (!check.ok) {
      throw new RequestError(check.reason === 'stale' ? 'HOOK_SIGNATURE_STALE' : 'HOOK_SIGNATURE_INVALID', REFUSED[check.reason]);
    }
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
    if (!(await replays.firstUse(check.v1, check.timestamp, now))) {
      throw new RequestError('HOOK_REPLAYED', 'This hook signature has been used already.');
    }
    res.json({ loggedOut: await deps.logOutUser(userId) });
  });

  return router;
}
