/**
 * bench/latency.svg: latency percentile curves per scenario, one panel per load, drawn by hand.
 * x: percentile on a "nines" scale (0, 90, 99, 99.9 evenly spaced), y: milliseconds, log scale.
 */
export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: Array<{ percentile: number; ms: number }>;
}

export interface Panel {
  title: string;
  series: Series[];
}

const WIDTH = 520;
const HEIGHT = 360;
const MARGIN = { left: 58, right: 16, top: 36, bottom: 46 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom - 70;
const MAX_NINES = 3; // 99.9

const nines = (percentile: number): number =>
  Math.min(MAX_NINES, -Math.log10(Math.max(1e-3, 1 - percentile / 100)));

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(p: Panel, offsetX: number): string {
  const values = p.series.flatMap((s) => s.points.map((point) => point.ms)).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const x = (percentile: number): number => MARGIN.left + (nines(percentile) / MAX_NINES) * PLOT_W;
  const y = (ms: number): number =>
    MARGIN.top +
    PLOT_H -
    ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * PLOT_H;
  const parts: string[] = [];
  parts.push(`<g transform="translate(${offsetX},0)">`);
  parts.push(
    `<text x="${MARGIN.left + PLOT_W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(p.title)}</text>`,
  );
  // Grid: decades and the in-between 2 and 5.
  for (let decade = lo; decade <= hi; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m;
      if (v > hi) break;
      const yy = y(v).toFixed(1);
      parts.push(
        `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_W}" y1="${yy}" y2="${yy}" stroke="#ddd" stroke-width="${m === 1 ? 1 : 0.5}"/>`,
      );
      parts.push(
        `<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" font-size="10">${v >= 1 ? v : v.toPrecision(1)}</text>`,
      );
    }
  }
  for (const [percentile, label] of [
    [0, '0'],
    [50, '50'],
    [90, '90'],
    [99, '99'],
    [99.9, '99.9'],
  ] as const) {
    const xx = x(percentile).toFixed(1);
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}" stroke="#ddd"/>`,
    );
    parts.push(
      `<text x="${xx}" y="${MARGIN.top + PLOT_H + 14}" text-anchor="middle" font-size="10">${label}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#888"/>`,
  );
  parts.push(
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${MARGIN.top + PLOT_H + 30}" text-anchor="middle" font-size="11">percentile</text>`,
  );
  parts.push(
    `<text transform="translate(14,${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle" font-size="11">latency, ms (log)</text>`,
  );
  for (const s of p.series) {
    const d = s.points
      .map(
        (point, i) =>
          `${i === 0 ? 'M' : 'L'}${x(point.percentile).toFixed(1)},${y(point.ms).toFixed(1)}`,
      )
      .join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
  }
  p.series.forEach((s, i) => {
    const lx = MARGIN.left + (i % 2) * (PLOT_W / 2);
    const ly = MARGIN.top + PLOT_H + 48 + Math.floor(i / 2) * 16;
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    parts.push(
      `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle" font-size="11">${escape(s.name)}</text>`,
    );
  });
  parts.push('</g>');
  return parts.join('\n');
}

export function latencySvg(panels: Panel[], caption: string): string {
  const width = WIDTH * panels.length;
  const height = HEIGHT + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * WIDTH)),
    `<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="10" fill="#555">${escape(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
