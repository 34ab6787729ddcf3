import { timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Registry } from 'prom-client';
import { withDeadline } from '../store/deadline';

/** A probe that has not answered by then counts as down: /readyz itself answers within about a second. */
const CHECK_TIMEOUT_MS = 1_000;
import { RequestError } from '../errors';

/** The platform's part of `/readyz`: reported, never a reason to be unready. */
export interface PlatformReadiness {
  ok: boolean;
  circuit: string;
  token: string;
  /** why the platform cannot be used yet (not connected, reconnect needed) */
  reason?: string;
  /** queued platform logouts, counted up to 10,000 (that figure: at least as many); -1 when unknown */
  pendingLogouts: number;
}

export interface ReadinessChecks {
  database(): Promise<void>;
  sessionStore(): Promise<void>;
  /** the platform token and circuit state; a platform outage degrades the embed, not the site */
  platform(): Promise<PlatformReadiness>;
}

async function check(probe: () => Promise<void>): Promise<{ ok: boolean }> {
  try {
    await withDeadline(probe(), CHECK_TIMEOUT_MS, () => new Error('no answer in time'));
    return { ok: true };
  } catch {
    return { ok: false };
  }
}

/**
 * `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. No token configured: nobody
 * qualifies. The figures (Node version, memory, platform calls, circuit, queued logouts) tell an
 * attacker what runs here and when it is weak (ASVS 14.3.3).
 */
function hasOpsToken(req: Request, token: string | undefined): boolean {
  const header = req.headers.authorization;
  if (!token || typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function createHealthRoutes(checks: ReadinessChecks, registry: Registry, opsToken: string | undefined): Router {
  const router = Router();

  // Liveness: public, and says nothing but that the process answers.
  router.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });

  // Ready when the database and the session store answer. The platform is reported, not required:
  // pulling every site process out of the balancer because the commenting platform is down
  // would turn its outage into ours. The balancer gets the verdict; the details need the token.
  router.get('/readyz', async (req, res) => {
    const [database, sessionStore, platform] = await Promise.all([
      check(checks.database),
      check(checks.sessionStore),
      withDeadline(checks.platform(), CHECK_TIMEOUT_MS, () => new Error('no answer in time')).catch(() => ({
        ok: false,
        circuit: 'unknown',
        token: 'unknown',
        pendingLogouts: -1,
      })),
    ]);
    const ready = database.ok && sessionStore.ok;
    const body = hasOpsToken(req, opsToken) ? { ready, checks: { database, sessionStore, platform } } : { ready };
    res.status(ready ? 200 : 503).json(body);
  });

  router.get('/metrics', async (req, res) => {
    if (!hasOpsToken(req, opsToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new RequestError('OPS_TOKEN_REQUIRED', 'The metrics need the operations bearer token (METRICS_TOKEN).');
    }
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });

  return router;
}
