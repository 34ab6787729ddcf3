import type { QueryRun } from 'vf-login-bridge';

/** A distinct statement a scale site ran while capturing: how often, its longest run, one set of parameters. */
export interface CapturedStatement {
  sql: string;
  parameters: readonly unknown[];
  count: number;
  maxMs: number;
}

/** What src/bench/scale/main.ts asks a scale site (src/bench/scale/site-process.ts). */
export type ScaleQuestion =
  | { ask: 'capture'; on: boolean }
  | { ask: 'explain'; statements: CapturedStatement[] }
  | { ask: 'memory' }
  | { ask: 'job'; job: 'deliver' | 'prune' | 'reconcile' };

export interface JobRun {
  /** false: another instance held the job's lease */
  ran: boolean;
  ms: number;
}

/** Keeps one entry per distinct SQL text; bench-only (parameters are held, never written out). */
export function recordStatement(captured: Map<string, CapturedStatement>, sql: string, ran: QueryRun): void {
  const seen = captured.get(sql);
  if (seen) {
    seen.count += 1;
    seen.maxMs = Math.max(seen.maxMs, ran.durationMs);
  } else captured.set(sql, { sql, parameters: ran.parameters, count: 1, maxMs: ran.durationMs });
}
