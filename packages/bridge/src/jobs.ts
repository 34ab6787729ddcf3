import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from './clock';
import { isAppError } from './errors';
import type { Logger } from './logger';
import type { Bridge } from './core';
import { claimJobLease } from './store/job-lease';
import type { BridgeSchema } from './store/schema';

export type JobName = 'deliver' | 'prune' | 'reconcile' | 'credentials';

export interface JobSchedule {
  /** Queued platform logouts are retried this often. Each row is claimed, so every instance may run it. */
  deliverEveryMs: number;
  /** Ended and long-expired bridge rows are forgotten this often, by one instance per period. */
  pruneEveryMs: number;
  /** Bridge rows whose host session the store lost are ended this often, by one instance per period. */
  reconcileEveryMs: number;
}

export const DEFAULT_SCHEDULE: JobSchedule = { deliverEveryMs: 5_000, pruneEveryMs: 15 * 60_000, reconcileEveryMs: 10 * 60_000 };

export interface BackgroundJobs {
  /** Runs one job now, if this instance wins its period; resolves whether it ran. Tests move the clock and call this. */
  run(name: JobName): Promise<boolean>;
  /** Starts the timers (unref'd: they never keep the process alive); a second call does nothing. */
  start(): void;
  /** Stops the timers and waits for the runs under way; `start()` may start them again. */
  stop(): Promise<void>;
}

export interface BackgroundJobDeps {
  clock: Clock;
  logger: Logger;
  db: Kysely<BridgeSchema>;
  bridge: Bridge;
  /** whether the session store holds this host session: false only when sure, rejects on a store error */
  hostSessionExists(sid: string): Promise<boolean>;
  /** the same for a page of ids in one query, when the store can (the ids it holds): reconciliation then asks once a page */
  hostSessionsExisting?: ((sids: readonly string[]) => Promise<ReadonlySet<string>>) | undefined;
  /** the app's own expired records, pruned with the bridge rows under the same lease (the site: rate-limit counters) */
  onPrune?: (() => Promise<void>) | undefined;
  /** the app's own queued work, run with each delivery pass; it claims its own rows, as the logouts do (the site: mail) */
  onDeliver?: (() => Promise<unknown>) | undefined;
  schedule?: Partial<JobSchedule> | undefined;
  /**
   * The platform credentials check (`platform.credentials`): run once when the jobs start and
   * then on a short timer; it asks the platform only when its own backoff says so, and never
   * again once it had a token. Each instance checks its own settings, so no lease.
   */
  credentialsCheck?: { run(): Promise<unknown> } | undefined;
}

/** How often the credentials check is offered a turn; its backoff (on the clock) decides whether it asks. */
const CREDENTIALS_TICK_MS = 1_000;

/**
 * One line per failed run, never swallowed: a known failure (the platform, the database, the
 * session store) is a warning under its code, anything else an error with its message.
 */
function reportFailure(logger: Logger, job: JobName, error: unknown): void {
  if (isAppError(error)) logger.warn({ code: error.code, job }, 'background job failed; the next run tries again');
  else logger.error({ code: 'INTERNAL', job, reason: error instanceof Error ? error.message : String(error) }, 'background job failed; the next run tries again');
}

/**
 * The work no request does: retrying queued platform logouts, pruning bridge rows, reconciling
 * them with the session store. Several instances run the same timers; a lease in the database
 * makes exactly one of them do each periodic job per period, and one that dies hands it on when
 * its lease runs out (docs/architecture.md, "Background work").
 */
export function createBackgroundJobs(deps: BackgroundJobDeps): BackgroundJobs {
  const { clock, logger, db, bridge } = deps;
  const schedule = { ...DEFAULT_SCHEDULE, ...deps.schedule };
  const holder = randomUUID();
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<JobName, Promise<boolean>>();

  const periodOf = (name: JobName) => (name === 'prune' ? schedule.pruneEveryMs : schedule.reconcileEveryMs);

  async function work(name: JobName): Promise<boolean> {
    if (name === 'credentials') {
      await deps.credentialsCheck?.run();
      return deps.credentialsCheck !== undefined;
    }
    if (name === 'deliver') {
      // Neither waits on the other: a platform that is down holds up no mail.
      const results = await Promise.allSettled([bridge.deliverPendingLogouts(), deps.onDeliver?.()]);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      return true;
    }
    if (!(await claimJobLease(db, name, holder, clock.now(), periodOf(name)))) return false;
    if (name === 'prune') {
      await bridge.pruneSessions();
      await deps.onPrune?.();
    } else {
      const existing = deps.hostSessionsExisting;
      await bridge.reconcile(existing ? { existing } : deps.hostSessionExists);
    }
    return true;
  }

  function run(name: JobName): Promise<boolean> {
    // A slow run is not overtaken by the next tick of its own timer.
    const under = running.get(name);
    if (under) return under;
    const started = work(name)
      .catch((error: unknown) => {
        reportFailure(logger, name, error);
        return false;
      })
      .finally(() => running.delete(name));
    running.set(name, started);
    return started;
  }

  return {
    run,
    start() {
      if (timers.length > 0) return;
      const every = (name: JobName, ms: number) => {
        const timer = setInterval(() => void run(name), ms);
        timer.unref();
        timers.push(timer);
      };
      every('deliver', schedule.deliverEveryMs);
      every('prune', schedule.pruneEveryMs);
      every('reconcile', schedule.reconcileEveryMs);
      if (deps.credentialsCheck) {
        // At once, beside whatever the caller does next (listening): the check never delays it.
        void run('credentials');
        every('credentials', CREDENTIALS_TICK_MS);
      }
    },
    async stop() {
      for (const timer of timers.splice(0)) clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}
