import type { Logger } from './logger';

/** Work a request starts and does not wait for; closing the site waits for it. */
export interface PendingWork {
  /** Runs `work` in the background; a failure is logged under `code`, once. */
  run(code: string, work: () => Promise<void>): void;
  idle(): Promise<void>;
}

export function createPendingWork(logger: Logger): PendingWork {
  const running = new Set<Promise<void>>();
  return {
    run(code, work) {
      const done: Promise<void> = Promise.resolve()
        .then(work)
        .catch((error: unknown) => logger.warn({ code, reason: error instanceof Error ? error.message : String(error) }, 'background work failed'))
        .finally(() => running.delete(done));
      running.add(done);
    },
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
