import express, { type Router } from 'express';
import { z } from 'zod';
import type { AdjustableClock } from 'vf-login-bridge';
import type { EmulatorFaults, EmulatorStats, FaultKind } from './types';

const endpointSchema = z.enum(['token', 'login', 'logout', 'any']);
const faultKindSchema = z
  .object({
    status: z.number().int().min(400).max(599).optional(),
    drop: z.literal(true).optional(),
    endpoint: endpointSchema.optional(),
  })
  .strict();

const faultsRequestSchema = z
  .object({
    reset: z.literal(true).optional(),
    latencyMs: z.number().min(0).max(600_000).optional(),
    latencyEndpoint: endpointSchema.optional(),
    failNext: faultKindSchema
      .extend({ count: z.number().int().min(1).max(1_000_000) })
      .refine((value) => (value.status === undefined) !== (value.drop === undefined), 'give either status or drop')
      .optional(),
    // An object without status or drop switches the "platform down" mode off for its endpoint.
    failAll: faultKindSchema
      .refine((value) => !(value.status !== undefined && value.drop !== undefined), 'give status or drop, not both')
      .nullable()
      .optional(),
    expireTokens: z.literal(true).optional(),
    revokeRefreshTokens: z.literal(true).optional(),
  })
  .strict();

const clockRequestSchema = z.object({ advanceMs: z.number().min(0).max(366 * 24 * 3600 * 1000) }).strict();

function faultKind(value: { status?: number | undefined; drop?: true | undefined }): FaultKind | null {
  if (value.drop) return 'drop';
  return value.status === undefined ? null : { status: value.status };
}

function problemOf(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}

/**
 * `/_emulator/*`: the fault and time knobs for a standalone emulator, driven over HTTP by
 * benchmarks and manual tests. There is no authentication: the emulator binds to loopback.
 */
export function adminRouter(deps: {
  faults: EmulatorFaults;
  clock: AdjustableClock;
  stats: () => EmulatorStats;
  revokeRefreshTokens: () => void;
}): Router {
  const router = express.Router();
  router.use(express.json({ limit: '16kb' }));

  router.get('/stats', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(deps.stats());
  });

  router.post('/faults', (req, res) => {
    const parsed = faultsRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_request', error_description: problemOf(parsed.error) });
      return;
    }
    const request = parsed.data;
    if (request.reset) deps.faults.reset();
    if (request.latencyMs !== undefined) deps.faults.setLatency(request.latencyMs, request.latencyEndpoint);
    if (request.failNext) deps.faults.failNext(request.failNext.count, faultKind(request.failNext)!, request.failNext.endpoint);
    if (request.failAll === null) deps.faults.failAll(null);
    else if (request.failAll) deps.faults.failAll(faultKind(request.failAll), request.failAll.endpoint);
    if (request.expireTokens) deps.faults.expireAllTokens();
    if (request.revokeRefreshTokens) deps.revokeRefreshTokens();
    res.json({ ok: true });
  });

  router.post('/clock', (req, res) => {
    const parsed = clockRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid_request', error_description: problemOf(parsed.error) });
      return;
    }
    deps.clock.advance(parsed.data.advanceMs);
    res.json({ now: deps.clock.now() });
  });

  return router;
}
