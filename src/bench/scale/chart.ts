/** A small server-side SVG line chart: categories along x, one line per series, a legend at the right. */
export interface LineChart {
  xLabels: readonly string[];
  yLabel: string;
  series: ReadonlyArray<{ name: string; values: ReadonlyArray<number | undefined>; dashed?: boolean }>;
}

const COLOURS = ['#1b6ca8', '#c0392b', '#27ae60', '#8e44ad', '#d35400', '#7f8c8d'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function lineChart(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const top = Math.max(1, ...all) * 1.1;
  const [width, height, left, bottom, right, topPad] = [760, 360, 64, 40, 280, 20];
  const x = (i: number) => left + (chart.xLabels.length === 1 ? 0 : (i * (width - left - right)) / (chart.xLabels.length - 1));
  const y = (value: number) => height - bottom - (value / top) * (height - bottom - topPad);
  const ticks = Array.from({ length: 5 }, (_, i) => (top * i) / 4);
  const digits = top < 10 ? 1 : 0;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...ticks.map((v) => `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(digits)}</text>`),
    `<text x="14" y="${height / 2}" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">${escape(chart.yLabel)}</text>`,
    ...chart.xLabels.map((text, i) => `<text x="${x(i)}" y="${height - bottom + 18}" text-anchor="middle">${escape(text)}</text>`),
    ...chart.series.map((series, s) => {
      const colour = COLOURS[s % COLOURS.length];
      const known = series.values.flatMap((v, i) => (v === undefined ? [] : [[x(i), y(v)] as const]));
      const legendY = topPad + 10 + s * 20;
      const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
      return (
        `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${known.map(([px, py]) => `${px},${py}`).join(' ')}"/>` +
        known.map(([px, py]) => `<circle cx="${px}" cy="${py}" r="3" fill="${colour}"/>`).join('') +
        `<line x1="${width - right + 16}" x2="${width - right + 36}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash}/>` +
        `<text x="${width - right + 42}" y="${legendY + 4}">${escape(series.name)}</text>`
      );
    }),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}
