import { formatSpread, spreadOf, type Spread } from './summary';
import type { LoadResult } from './load';

export interface VariantFigures {
  name: string;
  /** one per round */
  runs: Array<LoadResult & { cpuMicrosPerRequest: number; platformCalls: number }>;
}

/** One line of the results: a figure, what it was measured at, and whether it reached its goal. */
export interface Figure {
  name: string;
  value: string;
  goal: string;
  met: boolean | undefined;
}

export function variantTable(variants: readonly VariantFigures[]): string[] {
  const header = '| variant | req/s | p50 ms | p99 ms | server CPU µs/req |';
  const rows = variants.map((variant) => {
    const rate = spreadOf(variant.runs.map((run) => run.requests / run.seconds));
    const p50 = spreadOf(variant.runs.map((run) => run.latency.p50));
    const p99 = spreadOf(variant.runs.map((run) => run.latency.p99));
    const cpu = spreadOf(variant.runs.map((run) => run.cpuMicrosPerRequest));
    return `| ${variant.name} | ${formatSpread(rate, 0)} | ${formatSpread(p50, 2)} | ${formatSpread(p99, 2)} | ${formatSpread(cpu, 0)} |`;
  });
  return [header, '|---|---|---|---|---|', ...rows];
}

/** The ratio of two variants' req/s, round by round. */
export function ratioOf(a: VariantFigures, b: VariantFigures): { spread: Spread; rounds: number[] } {
  const rounds = a.runs.map((run, i) => run.requests / run.seconds / (b.runs[i]!.requests / b.runs[i]!.seconds));
  return { spread: spreadOf(rounds), rounds };
}

export function figureTable(figures: readonly Figure[]): string[] {
  return [
    '| figure | measured | goal | |',
    '|---|---|---|---|',
    ...figures.map((f) => `| ${f.name} | ${f.value} | ${f.goal} | ${f.met === undefined ? '' : f.met ? 'met' : '**not met**'} |`),
  ];
}

const COLOURS = ['#1b6ca8', '#c0392b', '#27ae60', '#8e44ad', '#d35400'];

/** Latency percentiles per variant (medians over rounds), as a line chart. */
export function latencyChart(variants: readonly VariantFigures[]): string {
  const percentiles = [
    ['p50', (run: LoadResult) => run.latency.p50],
    ['p90', (run: LoadResult) => run.latency.p90],
    ['p99', (run: LoadResult) => run.latency.p99],
    ['p99.9', (run: LoadResult) => run.latency.p999],
  ] as const;
  const series = variants.map((variant) => percentiles.map(([, pick]) => spreadOf(variant.runs.map(pick)).median));
  const top = Math.max(1, ...series.flat()) * 1.1;
  const [width, height, left, bottom, right, topPad] = [760, 360, 56, 40, 290, 20];
  const x = (i: number) => left + (i * (width - left - right)) / (percentiles.length - 1);
  const y = (ms: number) => height - bottom - (ms / top) * (height - bottom - topPad);
  const ticks = Array.from({ length: 5 }, (_, i) => (top * i) / 4);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...ticks.map((ms) => `<line x1="${left}" x2="${width - right}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/><text x="${left - 6}" y="${y(ms) + 4}" text-anchor="end">${ms.toFixed(1)}</text>`),
    `<text x="14" y="${height / 2}" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">latency, ms (median of rounds)</text>`,
    ...percentiles.map(([label], i) => `<text x="${x(i)}" y="${height - bottom + 18}" text-anchor="middle">${label}</text>`),
    ...series.map((values, s) => {
      const colour = COLOURS[s % COLOURS.length];
      const points = values.map((ms, i) => `${x(i)},${y(ms)}`).join(' ');
      const legendY = topPad + 10 + s * 20;
      return (
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>` +
        values.map((ms, i) => `<circle cx="${x(i)}" cy="${y(ms)}" r="3" fill="${colour}"/>`).join('') +
        `<line x1="${width - right + 16}" x2="${width - right + 36}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="2"/>` +
        `<text x="${width - right + 42}" y="${legendY + 4}">${variants[s]!.name}</text>`
      );
    }),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}
