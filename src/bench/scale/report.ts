/**
 * bench/scale.md and its two charts: per database, one table whose columns are the sizes and,
 * last, largest / smallest; the goals of the scale bench; and the plans checked at the largest size.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { formatSpread, spreadOf, type Spread } from '../summary';
import { lineChart } from './chart';
import type { CheckedPlan } from './explain';
import type { DrainFigures, PageRun, PassFigures } from './phases';
import type { ScaleDialect } from './target';

export interface SizeFigures {
  readers: number;
  label: string;
  fillMs: number;
  pageViews: PageRun[];
  loginMs: number[];
  statementsPerLogin: number[];
  memory: { afterViews?: NodeJS.MemoryUsage; afterDrain?: NodeJS.MemoryUsage; afterPasses?: NodeJS.MemoryUsage };
  drainOne?: DrainFigures;
  drainThree?: DrainFigures;
  prune?: PassFigures;
  reconcile?: PassFigures;
}

export interface DatabaseFigures {
  dialect: ScaleDialect;
  sizes: SizeFigures[];
  plans: CheckedPlan[];
}

const NAMES: Record<ScaleDialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const MB = 1024 * 1024;

/** One row: a figure per size as a number (for the ratio) and as the text shown. */
interface Row {
  name: string;
  cells: Array<{ value: number | undefined; text: string }>;
  /** the last column when it is not the plain ratio of the numbers (the page view's round-by-round ratio) */
  ratio?: string;
}

const cell = (value: number | undefined, digits: number) => ({ value, text: value === undefined ? '–' : value.toFixed(digits) });
const spreadCell = (spread: Spread, digits: number) => ({ value: spread.median, text: formatSpread(spread, digits) });
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

function row(name: string, sizes: SizeFigures[], pick: (size: SizeFigures) => number | undefined, digits: number): Row {
  return { name, cells: sizes.map((size) => cell(pick(size), digits)) };
}

function spreadRow(name: string, sizes: SizeFigures[], pick: (run: PageRun) => number, digits: number): Row {
  return { name, cells: sizes.map((size) => spreadCell(spreadOf(size.pageViews.map(pick)), digits)) };
}

/** Largest size's req/s over the smallest's, round by round: measured side by side. */
export function pageViewRatio(sizes: SizeFigures[]): Spread {
  const [small, large] = [sizes[0]!, sizes.at(-1)!];
  return spreadOf(large.pageViews.map((run, i) => run.requests / run.seconds / (small.pageViews[i]!.requests / small.pageViews[i]!.seconds)));
}

function passRows(name: string, sizes: SizeFigures[], pick: (size: SizeFigures) => PassFigures | undefined): Row[] {
  return [
    row(`${name} pass, ms`, sizes, (s) => pick(s)?.ms, 0),
    row(`${name} pass, rows`, sizes, (s) => pick(s)?.rows, 0),
    row(`${name} pass, rows per s`, sizes, (s) => { const p = pick(s); return p && p.ms > 0 ? p.rows / (p.ms / 1000) : undefined; }, 0),
    row(`${name}: longest single statement, ms`, sizes, (s) => pick(s)?.longestStatementMs, 1),
    row(`${name}: page view p99 on another instance without / during the pass (slowest during), ms`, sizes, (s) => pick(s)?.p99During, 1),
    row(`${name}: longest wait for the write lock (SQLite), ms`, sizes, (s) => pick(s)?.longestLockWaitMs, 1),
  ].map((r, i) => (i === 4 ? { ...r, cells: r.cells.map((c, j) => ({ ...c, text: withoutAndDuring(pick(sizes[j]!)) })) } : r));
}

function withoutAndDuring(figures: PassFigures | undefined): string {
  return figures ? `${figures.p99Without.toFixed(1)} / ${figures.p99During.toFixed(1)} (${figures.maxDuring.toFixed(1)})` : '–';
}

function drainRows(name: string, sizes: SizeFigures[], pick: (size: SizeFigures) => DrainFigures | undefined): Row[] {
  return [
    row(`drain, ${name}: logouts per s`, sizes, (s) => pick(s)?.perSecond, 0),
    row(`drain, ${name}: time to empty, s`, sizes, (s) => (pick(s) ? pick(s)!.ms / 1000 : undefined), 2),
    {
      name: `drain, ${name}: platform calls / queued (left)`,
      cells: sizes.map((s) => { const d = pick(s); return { value: d?.platformCalls, text: d ? `${d.platformCalls} / ${d.queued} (${d.left})` : '–' }; }),
    },
  ];
}

export function tableRows(sizes: SizeFigures[]): Row[] {
  const ratio = pageViewRatio(sizes);
  return [
    row('fill, s', sizes, (s) => s.fillMs / 1000, 1),
    { ...spreadRow('logged-in page view, req/s', sizes, (r) => r.requests / r.seconds, 0), ratio: formatSpread(ratio, 2) },
    spreadRow('page view p50, ms', sizes, (r) => r.latency.p50, 2),
    spreadRow('page view p99, ms', sizes, (r) => r.latency.p99, 2),
    spreadRow('server CPU per view, µs', sizes, (r) => r.cpuMicrosPerRequest, 0),
    row('SQL statements per view', sizes, (s) => spreadOf(s.pageViews.map((r) => r.statementsPerView)).median, 3),
    row('login (POST /login), median ms', sizes, (s) => spreadOf(s.loginMs).median, 1),
    row('login, p99 ms', sizes, (s) => percentile(s.loginMs, 99), 1),
    row('SQL statements per login cycle (form, login, logout)', sizes, (s) => spreadOf(s.statementsPerLogin).median, 1),
    ...drainRows('1 instance', sizes, (s) => s.drainOne),
    ...drainRows('3 instances', sizes, (s) => s.drainThree),
    ...passRows('prune', sizes, (s) => s.prune),
    ...passRows('reconcile', sizes, (s) => s.reconcile),
    row('site RSS after page views and logins, MB', sizes, (s) => (s.memory.afterViews ? s.memory.afterViews.rss / MB : undefined), 0),
    row('site heap used after page views and logins, MB', sizes, (s) => (s.memory.afterViews ? s.memory.afterViews.heapUsed / MB : undefined), 0),
    row('site RSS after the drain, MB', sizes, (s) => (s.memory.afterDrain ? s.memory.afterDrain.rss / MB : undefined), 0),
    row('site heap used after the drain, MB', sizes, (s) => (s.memory.afterDrain ? s.memory.afterDrain.heapUsed / MB : undefined), 0),
    row('RSS of the instance that ran prune and reconcile, MB', sizes, (s) => (s.memory.afterPasses ? s.memory.afterPasses.rss / MB : undefined), 0),
  ];
}

function markdownTable(sizes: SizeFigures[]): string[] {
  const ratioName = `${sizes.at(-1)!.label} / ${sizes[0]!.label}`;
  const lines = [`| figure | ${sizes.map((s) => s.label).join(' | ')} | ${ratioName} |`, `|---|${sizes.map(() => '---|').join('')}---|`];
  for (const r of tableRows(sizes)) {
    const [first, last] = [r.cells[0]!.value, r.cells.at(-1)!.value];
    const ratio = r.ratio ?? (first !== undefined && last !== undefined && first !== 0 ? (last / first).toFixed(2) : '–');
    lines.push(`| ${r.name} | ${r.cells.map((c) => c.text).join(' | ')} | ${ratio} |`);
  }
  return lines;
}

export interface Goal {
  name: string;
  value: string;
  met: boolean;
}

/** The issue's goals for the scale bench, judged on the largest size against the smallest. */
export function scaleGoals(db: DatabaseFigures): Goal[] {
  const sizes = db.sizes;
  const [small, large] = [sizes[0]!, sizes.at(-1)!];
  const ratio = pageViewRatio(sizes);
  const login = spreadOf(large.loginMs).median / spreadOf(small.loginMs).median;
  const passes = [large.prune, large.reconcile].filter((p): p is PassFigures => p !== undefined);
  const longest = Math.max(0, ...passes.map((p) => p.longestStatementMs));
  const worstP99 = Math.max(0, ...passes.map((p) => p.p99During / Math.max(p.p99Without, 1)));
  const drains = sizes.flatMap((s) => [s.drainOne, s.drainThree]).filter((d): d is DrainFigures => d !== undefined);
  const rss = sizes.map((s) => s.memory.afterViews?.rss ?? 0);
  const scans = db.plans.filter((p) => !p.ok);
  return [
    { name: `page view req/s, ${large.label} / ${small.label}`, value: formatSpread(ratio, 2), met: ratio.median >= 0.9 },
    { name: `login median, ${large.label} / ${small.label}`, value: login.toFixed(2), met: login <= 1.2 },
    { name: `longest prune or reconcile statement at ${large.label}, ms`, value: longest.toFixed(1), met: longest <= 100 },
    { name: `page view p99 during a pass / without, at ${large.label}`, value: worstP99.toFixed(2), met: worstP99 <= 2 },
    { name: `drain from one instance at ${large.label}, logouts per s`, value: (large.drainOne?.perSecond ?? 0).toFixed(0), met: (large.drainOne?.perSecond ?? 0) >= 500 },
    { name: 'every queued logout sent exactly once (1 and 3 instances, every size)', value: drains.every((d) => d.platformCalls === d.queued && d.left === 0) ? 'yes' : 'no', met: drains.every((d) => d.platformCalls === d.queued && d.left === 0) },
    { name: 'RSS across sizes, largest / smallest', value: (Math.max(...rss) / Math.min(...rss)).toFixed(2), met: Math.max(...rss) / Math.min(...rss) <= 1.1 },
    { name: `statements that read a whole table at ${large.label}`, value: `${scans.length} of ${db.plans.length}`, met: scans.length === 0 },
  ];
}

function planLines(plans: CheckedPlan[]): string[] {
  return [
    '| phase | statement | runs | longest ms | plan | |',
    '|---|---|---|---|---|---|',
    ...plans.map((p) => `| ${p.phase} | \`${p.sql.slice(0, 160).replace(/\|/g, '\\|')}${p.sql.length > 160 ? '…' : ''}\` | ${p.count} | ${p.maxMs.toFixed(1)} | ${p.plan.map((l) => l.trim().replace(/\|/g, '\\|')).join('<br>')} | ${p.ok ? 'index' : `**reads ${p.scans.join(', ')} whole**`} |`),
  ];
}

export function scaleMarkdown(databases: DatabaseFigures[], context: { quick: boolean }): string {
  const lines = [
    '# Scale bench',
    '',
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}${context.quick ? ', quick mode (sizes and rounds too small to judge)' : ''}. ` +
      'Made by `npm run bench -- --scale`; README.md#performance explains each figure. Medians with (min-max) over interleaved rounds.',
    '',
    '![logged-in page view latency against size](scale-latency.svg)',
    '',
    '![outbox drain rate against size](scale-drain.svg)',
  ];
  for (const db of databases) {
    lines.push('', `## ${NAMES[db.dialect]}`, '', ...markdownTable(db.sizes), '', '| goal | measured | |', '|---|---|---|');
    lines.push(...scaleGoals(db).map((g) => `| ${g.name} | ${g.value} | ${g.met ? 'met' : '**not met**'} |`));
    lines.push('', `### Plans checked at ${db.sizes.at(-1)!.label}`, '', ...planLines(db.plans));
  }
  return `${lines.join('\n')}\n`;
}

export function scaleCharts(databases: DatabaseFigures[]): { latency: string; drain: string } {
  const xLabels = databases[0]!.sizes.map((s) => s.label);
  const median = (values: number[]) => spreadOf(values).median;
  const latency = lineChart({
    xLabels,
    yLabel: 'logged-in page view latency, ms',
    series: databases.flatMap((db) => [
      { name: `${NAMES[db.dialect]} p50`, values: db.sizes.map((s) => median(s.pageViews.map((r) => r.latency.p50))) },
      { name: `${NAMES[db.dialect]} p99`, values: db.sizes.map((s) => median(s.pageViews.map((r) => r.latency.p99))), dashed: true },
    ]),
  });
  const drain = lineChart({
    xLabels,
    yLabel: 'queued logouts sent per second',
    series: databases.flatMap((db) => [
      { name: `${NAMES[db.dialect]}, 1 instance`, values: db.sizes.map((s) => s.drainOne?.perSecond) },
      { name: `${NAMES[db.dialect]}, 3 instances`, values: db.sizes.map((s) => s.drainThree?.perSecond), dashed: true },
    ]),
  });
  return { latency, drain };
}

/** Writes scale.md and the charts into `out`, prints the tables; returns the files written. */
export function writeScaleReport(out: string, databases: DatabaseFigures[], context: { quick: boolean }): string[] {
  fs.mkdirSync(out, { recursive: true });
  const markdown = scaleMarkdown(databases, context);
  const charts = scaleCharts(databases);
  const files = { 'scale.md': markdown, 'scale-latency.svg': charts.latency, 'scale-drain.svg': charts.drain };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(out, name), text);
  process.stdout.write(`\n${markdown}`);
  return Object.keys(files).map((name) => path.join(out, name));
}
