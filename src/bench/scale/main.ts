/**
 * `npm run bench -- --scale[=quick]`: what a logged-in page view, a login, draining the logout
 * outbox, a prune pass and a reconcile pass cost as the database grows, on SQLite and (with
 * DATABASE_URL) PostgreSQL. Each size has its own database and its own site process; the page view
 * and login rounds alternate between sizes (small to large, then back) so the machine's drift
 * falls on every size alike. README.md#performance and bench/scale.md explain the figures.
 *
 *   --scale          10k, 100k and 1M readers; about 20 minutes on 2 cores
 *   --scale=quick    1k and 5k readers, one short round: checks the bench works (CI)
 *   --sizes A,B,...  other sizes, in readers
 *   --out DIR        where scale.md and its charts go (default bench/; with quick a temp folder)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EmulatorStats } from 'vf-platform-emulator';
import { createPasswordHasher } from '../../auth/passwords';
import { PROJECT_ROOT } from '../../web/render';
import { startProcess, type BenchProcess } from '../processes';
import { registerReader } from '../reader';
import { ARTICLE_PATH, BENCH_PASSWORD } from '../settings';
import { fillReaders, queueLogouts } from './fill';
import { runLoad } from '../load';
import { ask, drain, loginRun, pageViewRun, pass, CONNECTIONS, type PageRun } from './phases';
import { explainAll, largeTablesOf, type CheckedPlan, type ExplainContext } from './explain';
import type { CapturedStatement } from './messages';
import { writeScaleReport, type DatabaseFigures, type SizeFigures } from './report';
import { openPostgresTarget, openSqliteTarget, type ScaleDialect, type ScaleTarget } from './target';

export interface ScaleSettings {
  quick: boolean;
  sizes: number[];
  rounds: number;
  seconds: number;
  logins: number;
  out: string;
}

function settingsOf(argv: string[]): ScaleSettings {
  const { values } = parseArgs({ args: argv, options: { scale: { type: 'string', default: '' }, sizes: { type: 'string' }, out: { type: 'string' } } });
  const quick = values.scale === 'quick';
  if (!quick && values.scale !== '') throw new Error(`--scale takes no value or "quick", not "${values.scale}"`);
  const sizes = values.sizes?.split(',').map(Number);
  if (sizes && !sizes.every((n) => Number.isInteger(n) && n >= 100)) throw new Error('--sizes takes readers per size, e.g. 10000,1000000');
  return {
    quick,
    sizes: sizes ?? (quick ? [1_000, 5_000] : [10_000, 100_000, 1_000_000]),
    rounds: quick ? 1 : 4,
    seconds: quick ? 1 : 4,
    logins: quick ? 3 : 10,
    out: values.out ?? (quick ? fs.mkdtempSync(path.join(os.tmpdir(), 'vf-scale-')) : path.join(PROJECT_ROOT, 'bench')),
  };
}

/** `--scale` alone parses as a flag; parseArgs wants a value, so a bare one is given the empty one. */
function normalised(argv: string[]): string[] {
  return argv.map((arg) => (arg === '--scale' ? '--scale=' : arg));
}

export async function runScale(argv: string[]): Promise<void> {
  const settings = settingsOf(normalised(argv));
  const started: BenchProcess[] = [];
  const start = async (script: string, env: Record<string, string>) => {
    const child = await startProcess(script, env);
    started.push(child);
    return child;
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vf-scale-db-'));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const emulator = await start('emulator-process', {});
    const platformStats = async (): Promise<EmulatorStats> => (await fetch(`${emulator.url}/_emulator/stats`)).json() as Promise<EmulatorStats>;
    const passwordHash = await createPasswordHasher().hash(BENCH_PASSWORD);
    say(`vf-login-bridge scale bench: ${os.cpus().length} cores, node ${process.version}, sizes ${settings.sizes.join(', ')} readers`);
    const databases: DatabaseFigures[] = [];
    const dialects: ScaleDialect[] = ['sqlite'];
    const databaseUrl = process.env['DATABASE_URL'];
    if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) dialects.push('postgres');
    else say('PostgreSQL skipped: DATABASE_URL is not set to a postgres:// URL');
    for (const dialect of dialects) {
      const open = (name: string) => (dialect === 'sqlite' ? openSqliteTarget(dir, name) : openPostgresTarget(databaseUrl!, name));
      const siteEnv = { BENCH_API_URL: emulator.url, BENCH_EMBED_SRC: emulator.embedSrc! };
      databases.push(await measureDatabase({ dialect, settings, open, start, siteEnv, platformStats, passwordHash, say }));
    }
    const written = writeScaleReport(settings.out, databases, { quick: settings.quick });
    say(`\nwritten to ${written.join(', ')}`);
  } finally {
    await Promise.all(started.map((child) => child.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface DatabaseRun {
  dialect: ScaleDialect;
  settings: ScaleSettings;
  open: (name: string) => Promise<ScaleTarget>;
  start: (script: string, env: Record<string, string>) => Promise<BenchProcess>;
  siteEnv: Record<string, string>;
  platformStats: () => Promise<EmulatorStats>;
  passwordHash: string;
  say: (line: string) => void;
}

interface SizeSetup {
  readers: number;
  target: ScaleTarget;
  site: BenchProcess;
  cookie: string;
  figures: SizeFigures;
}

const label = (readers: number) => (readers >= 1_000_000 ? `${readers / 1_000_000}M` : `${readers / 1_000}k`);

async function prepareSize(run: DatabaseRun, readers: number): Promise<SizeSetup> {
  const target = await run.open(label(readers).toLowerCase());
  const fillMs = await fillReaders(target, { readers, now: Date.now(), passwordHash: run.passwordHash });
  run.say(`${run.dialect} ${label(readers)}: filled in ${(fillMs / 1000).toFixed(1)} s`);
  const site = await run.start('scale/site-process', { ...run.siteEnv, BENCH_DATABASE_URL: target.url });
  const cookie = await registerReader(site.url, 'reader@bench.example');
  return { readers, target, site, cookie, figures: { readers, label: label(readers), fillMs, pageViews: [], loginMs: [], statementsPerLogin: [], memory: {} } };
}

/** Page views and logins, the sizes alternating within each round. */
async function interleavedRounds(run: DatabaseRun, sizes: SizeSetup[]): Promise<void> {
  const { settings } = run;
  for (const size of sizes) await runLoad({ url: size.site.url + ARTICLE_PATH, headers: { cookie: size.cookie }, connections: CONNECTIONS, seconds: Math.min(2, settings.seconds) });
  for (let round = 1; round <= settings.rounds; round += 1) {
    const order = round % 2 === 1 ? sizes : [...sizes].reverse();
    for (const size of order) size.figures.pageViews.push(await pageViewRun(size.site, size.cookie, settings.seconds));
    for (const size of order) {
      const logins = await loginRun(size.site, `reader${Math.ceil(size.readers / 2)}@scale.example`, settings.logins);
      size.figures.loginMs.push(...logins.ms);
      size.figures.statementsPerLogin.push(logins.statementsPerCycle);
    }
    run.say(`${run.dialect} round ${round}: ${order.map((s) => `${s.figures.label} ${rate(s.figures.pageViews.at(-1)!).toFixed(0)} req/s`).join(', ')}`);
  }
}

const rate = (r: PageRun) => r.requests / r.seconds;

async function measureDatabase(run: DatabaseRun): Promise<DatabaseFigures> {
  const sizes: SizeSetup[] = [];
  const plans: CheckedPlan[] = [];
  try {
    for (const readers of run.settings.sizes) sizes.push(await prepareSize(run, readers));
    await interleavedRounds(run, sizes);
    // Every size's at the same moment: a process's RSS shrinks as it idles, so a later reading would flatter it.
    for (const size of sizes) size.figures.memory.afterViews = await ask(size.site, { ask: 'memory' });
    const largest = sizes.at(-1)!;
    const context = await largeTablesOf(largest.target);
    plans.push(...(await explainPageAndLogin(largest, context)));
    for (const size of sizes) await backgroundWork(run, size, size === largest ? { plans, context } : undefined);
  } finally {
    for (const size of sizes) {
      await size.site.stop();
      await size.target.close();
    }
  }
  return { dialect: run.dialect, sizes: sizes.map((s) => s.figures), plans };
}

/** The statements of a page view and a login at the largest size, through EXPLAIN. */
async function explainPageAndLogin(size: SizeSetup, context: ExplainContext): Promise<CheckedPlan[]> {
  await ask(size.site, { ask: 'capture', on: true });
  await runLoad({ url: size.site.url + ARTICLE_PATH, headers: { cookie: size.cookie }, connections: 2, seconds: 1 });
  await loginRun(size.site, `reader${Math.ceil(size.readers / 3)}@scale.example`, 2);
  const statements = await ask<CapturedStatement[]>(size.site, { ask: 'capture', on: false });
  return explainAll(size.site, context, statements, 'page view and login');
}

/** The outbox drained by one instance then three, a prune pass and a reconcile pass; `explain`: at the largest size. */
async function backgroundWork(run: DatabaseRun, size: SizeSetup, explain: { plans: CheckedPlan[]; context: ExplainContext } | undefined): Promise<void> {
  const { figures, site, target } = size;
  const planOf = async (on: BenchProcess, statements: CapturedStatement[], phase: string) => {
    if (explain) explain.plans.push(...(await explainAll(on, explain.context, statements, phase)));
  };
  await ask(site, { ask: 'capture', on: true });
  figures.drainOne = await drain(target, [site], run.platformStats);
  await planOf(site, await ask(site, { ask: 'capture', on: false }), 'outbox');
  figures.memory.afterDrain = await ask(site, { ask: 'memory' });
  await queueLogouts(target, figures.drainOne.queued, Date.now(), 'b');
  const startSite = () => run.start('scale/site-process', { ...run.siteEnv, BENCH_DATABASE_URL: target.url });
  const others = [await startSite(), await startSite()];
  try {
    figures.drainThree = await drain(target, [site, ...others], run.platformStats);
    const startProbe = target.dialect === 'sqlite' ? () => run.start('scale/lock-probe-process', { BENCH_SQLITE_FILE: target.url.slice('sqlite:'.length) }) : undefined;
    const setup = { target, viewer: site, cookie: size.cookie, worker: others[0]!, seconds: run.settings.seconds, startProbe };
    figures.prune = await pass('prune', setup);
    figures.reconcile = await pass('reconcile', setup);
    figures.memory.afterPasses = await ask(others[0]!, { ask: 'memory' });
    await planOf(others[0]!, figures.prune.statements, 'prune');
    await planOf(others[0]!, figures.reconcile.statements, 'reconcile');
  } finally {
    await Promise.all(others.map((other) => other.stop()));
  }
  run.say(
    `${run.dialect} ${figures.label}: drain ${figures.drainOne.perSecond.toFixed(0)}/s (1 instance), ${figures.drainThree.perSecond.toFixed(0)}/s (3); ` +
      `prune ${figures.prune.ms.toFixed(0)} ms, reconcile ${figures.reconcile.ms.toFixed(0)} ms`,
  );
}
