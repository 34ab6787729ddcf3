/**
 * The measurements of one scale database (src/bench/scale/main.ts): each takes the site
 * instances it drives and returns plain figures; none of them prints.
 */
import type { EmulatorStats } from 'vf-platform-emulator';
import { runLoad, type LoadResult } from '../load';
import type { BenchProcess } from '../processes';
import { timeLogins } from '../reader';
import { ARTICLE_PATH } from '../settings';
import type { CapturedStatement, JobRun, ScaleQuestion } from './messages';
import type { ScaleTarget } from './target';

export const CONNECTIONS = 10;

export type PageRun = LoadResult & { cpuMicrosPerRequest: number; statementsPerView: number };

export function ask<T>(site: BenchProcess, question: ScaleQuestion): Promise<T> {
  return site.ask<T>(question);
}

/** One load run of the logged-in article on `site`, with the server's CPU and statements per view. */
export async function pageViewRun(site: BenchProcess, cookie: string, seconds: number): Promise<PageRun> {
  const cpuBefore = site.cpuMicros();
  const statsBefore = await site.stats();
  const result = await runLoad({ url: site.url + ARTICLE_PATH, headers: { cookie }, connections: CONNECTIONS, seconds });
  const statsAfter = await site.stats();
  return {
    ...result,
    cpuMicrosPerRequest: (site.cpuMicros() - cpuBefore) / result.requests,
    statementsPerView: (statsAfter.statements - statsBefore.statements) / result.requests,
  };
}

/** `count` logins of one filled reader, each followed by its logout; ms per POST /login and statements per cycle. */
export async function loginRun(site: BenchProcess, email: string, count: number): Promise<{ ms: number[]; statementsPerCycle: number }> {
  const before = await site.stats();
  const ms = await timeLogins(site.url, email, count);
  const after = await site.stats();
  return { ms, statementsPerCycle: (after.statements - before.statements) / count };
}

export interface DrainFigures {
  queued: number;
  instances: number;
  ms: number;
  perSecond: number;
  platformCalls: number;
  left: number;
}

/** Every instance runs its delivery job at once; the outbox's backlog is what `target` holds now. */
export async function drain(target: ScaleTarget, instances: BenchProcess[], platformStats: () => Promise<EmulatorStats>): Promise<DrainFigures> {
  const queued = await target.count('vf_pending_logouts');
  const callsBefore = (await platformStats()).calls.logout;
  const started = performance.now();
  await Promise.all(instances.map((site) => ask<JobRun>(site, { ask: 'job', job: 'deliver' })));
  const ms = performance.now() - started;
  const platformCalls = (await platformStats()).calls.logout - callsBefore;
  return { queued, instances: instances.length, ms, perSecond: queued / (ms / 1000), platformCalls, left: await target.count('vf_pending_logouts') };
}

export interface PassFigures {
  ms: number;
  /** rows the pass removed (prune) or ended (reconcile) */
  rows: number;
  longestStatementMs: number;
  statements: CapturedStatement[];
  /** the page view on another instance, in a run of the same length without a pass and during one */
  p99Without: number;
  p99During: number;
  maxDuring: number;
  /** SQLite: the longest another writer waited for the write lock during the pass */
  longestLockWaitMs: number | undefined;
}

export interface PassSetup {
  target: ScaleTarget;
  /** serves the page views */
  viewer: BenchProcess;
  cookie: string;
  /** runs the pass */
  worker: BenchProcess;
  seconds: number;
  startProbe: (() => Promise<BenchProcess>) | undefined;
}

/** How the pass is counted: rows gone from the bridge table (prune), tombstones made (reconcile). */
const PASS_ROWS: Record<'prune' | 'reconcile', (target: ScaleTarget) => Promise<number>> = {
  prune: (target) => target.count('vf_bridge_sessions'),
  reconcile: async (target) => -(await target.count('vf_bridge_sessions', 'ended_at is not null')),
};

/** One prune or reconcile pass on `worker` while `viewer` serves logged-in page views. */
export async function pass(job: 'prune' | 'reconcile', setup: PassSetup): Promise<PassFigures> {
  const { target, viewer, cookie, worker, seconds } = setup;
  const load = () => runLoad({ url: viewer.url + ARTICLE_PATH, headers: { cookie }, connections: CONNECTIONS, seconds });
  const without = await load();
  const rowsBefore = await PASS_ROWS[job](target);
  const probe = await setup.startProbe?.();
  await ask(worker, { ask: 'capture', on: true });
  const [during, run] = await Promise.all([load(), ask<JobRun>(worker, { ask: 'job', job })]);
  const statements = await ask<CapturedStatement[]>(worker, { ask: 'capture', on: false });
  const lock = probe ? await probe.ask<{ longestMs: number }>({}) : undefined;
  await probe?.stop();
  return {
    ms: run.ms,
    rows: rowsBefore - (await PASS_ROWS[job](target)),
    longestStatementMs: Math.max(0, ...statements.map((s) => s.maxMs)),
    statements,
    p99Without: without.latency.p99,
    p99During: during.latency.p99,
    maxDuring: during.latency.max,
    longestLockWaitMs: lock?.longestMs,
  };
}
