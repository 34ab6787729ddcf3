import { Router } from 'express';
import type { Registry } from 'prom-client';
import { withDeadline } from '../store/deadline';

/** A probe that has not answered by then counts as down: /readyz itself answers within about a second. */
const CHECK_TIMEOUT_MS = 1_000;

/** The platform's part of `/readyz`: reported, never a reason to be unready. */
export interface PlatformReadiness {
  ok: boolean;
  circuit: string;
  token: string;
  /** why the platform cannot be used yet (not connected, reconnect needed) */
  reason?: string;
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

export function createHealthRoutes(checks: ReadinessChecks, registry: Registry): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ ok: true });
  });

  // Ready when the database and the session store answer. The platform is reported, not required:
  // pulling every site process out of the balancer because the commenting platform is down
  // would turn its outage into ours.
  router.get('/readyz', async (_req, res) => {
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
    res.setHeader('Cache-Control', 'no-store');
    res.status(ready ? 200 : 503).json({ ready, checks: { database, sessionStore, platform } });
  });

  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });

  return router;
}
