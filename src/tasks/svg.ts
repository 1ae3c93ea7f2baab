/**
 * A minimal hand-written SVG writer for the examples' plots (no dependencies): escaping, round
 * axis ticks, and a line chart with several series over a shared x axis.
 *
 * ```ts
 * import { svg } from 'rnnkit';
 * const chart = svg.lineChart({ title: 'daily births', series: [{ name: 'truth', values: [1, 3, 2] }] });
 * ```
 * @module
 */

/** Text safe inside an element or a double-quoted attribute. */
export function escapeXml(text: unknown): string {
  const entities: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' };
  return String(text).replace(/[<>&"]/g, (c) => entities[c]);
}

/**
 * Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [low, high], about
 * `count` of them: `niceTicks(0, 1.3)` → `[0, 0.5, 1]`, `niceTicks(0, 1.3, 8)` → `[0, 0.2, 0.4, …, 1.2]`.
 */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) as number;
  const values: number[] = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) values.push(Number(v.toFixed(10)));
  return values;
}

/** One line of a {@link lineChart}. */
export interface LineSeries {
  /** Legend label. */
  name: string;
  /** y values; `x` gives their positions (default 0, 1, 2, …). NaN leaves a gap. */
  values: ArrayLike<number>;
  /** x positions, same length as `values`. */
  x?: ArrayLike<number>;
  /** Stroke colour (default: from a ten-colour palette). */
  color?: string;
  /** SVG stroke-dasharray, e.g. `'4 3'`. */
  dash?: string;
  /** Stroke width (default 1.5). */
  width?: number;
  /** Radius of a dot at every point (default 0: none). */
  dots?: number;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** The lines drawn. */
  series: LineSeries[];
  /** Title above the chart. */
  title?: string;
  /** Label of the x axis. */
  xLabel?: string;
  /** Label of the y axis. */
  yLabel?: string;
  /** Size of the whole document in px (default 860 × 420, plus a legend row and the caption). */
  width?: number;
  /** See `width`. */
  height?: number;
  /** Axis ranges (default: the data's, y padded by 5 %). */
  xRange?: [number, number];
  /** See `xRange`. */
  yRange?: [number, number];
  /** x tick positions (default: round values, see {@link niceTicks}). */
  xTicks?: number[];
  /** Tick label text (default: the number, rounded to 10 digits). */
  xFormat?: (x: number) => string;
  /** See `xFormat`. */
  yFormat?: (y: number) => string;
  /** Vertical marker lines, e.g. where the forecast starts. */
  markers?: {
    /** Where the line is drawn. */
    x: number;
    /** Text beside it. */
    label?: string;
  }[];
  /** Grey lines of text under the chart. */
  caption?: string[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };

const num = (v: number): string => String(Number(v.toFixed(1)));

function dataRange(series: LineSeries[], pick: (s: LineSeries, i: number) => number): [number, number] {
  let low = Infinity, high = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.values.length; i++) {
      const v = pick(s, i);
      if (Number.isFinite(v)) { low = Math.min(low, v); high = Math.max(high, v); }
    }
  }
  if (low === Infinity) return [0, 1];
  return low === high ? [low - 1, high + 1] : [low, high];
}

// "M x,y L x,y …" with a new M after each gap (non-finite value).
function pathData(s: LineSeries, px: (x: number) => number, py: (y: number) => number): string {
  const parts: string[] = [];
  let pen = 'M';
  for (let i = 0; i < s.values.length; i++) {
    const x = s.x ? s.x[i] : i, y = s.values[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = 'M'; continue; }
    parts.push(`${pen}${num(px(x))},${num(py(y))}`);
    pen = 'L';
  }
  return parts.join(' ');
}

/** The axes box, grid, ticks, labels and markers. */
function axes(o: LineChartOptions, box: { x: number; y: number; w: number; h: number }, xr: [number, number],
  yr: [number, number], px: (x: number) => number, py: (y: number) => number): string[] {
  const xFormat = o.xFormat ?? ((v: number) => String(v));
  const yFormat = o.yFormat ?? ((v: number) => String(v));
  const out = [`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="none" stroke="#999"/>`];
  for (const v of niceTicks(yr[0], yr[1], 8)) {
    out.push(`<line x1="${box.x}" x2="${box.x + box.w}" y1="${num(py(v))}" y2="${num(py(v))}" stroke="#eee"/>`,
      `<text x="${box.x - 6}" y="${num(py(v) + 4)}" text-anchor="end">${escapeXml(yFormat(v))}</text>`);
  }
  for (const v of o.xTicks ?? niceTicks(xr[0], xr[1], 8)) {
    out.push(`<line x1="${num(px(v))}" x2="${num(px(v))}" y1="${box.y + box.h}" y2="${box.y + box.h + 4}" stroke="#999"/>`,
      `<text x="${num(px(v))}" y="${box.y + box.h + 17}" text-anchor="middle">${escapeXml(xFormat(v))}</text>`);
  }
  for (const m of o.markers ?? []) {
    out.push(`<line x1="${num(px(m.x))}" x2="${num(px(m.x))}" y1="${box.y}" y2="${box.y + box.h}" stroke="#555" stroke-dasharray="2 3"/>`);
    if (m.label) out.push(`<text x="${num(px(m.x) + 4)}" y="${box.y + 14}" fill="#555">${escapeXml(m.label)}</text>`);
  }
  if (o.title) out.push(`<text x="${box.x}" y="${box.y - 14}" font-weight="bold" font-size="14">${escapeXml(o.title)}</text>`);
  if (o.xLabel) out.push(`<text x="${box.x + box.w / 2}" y="${box.y + box.h + 36}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) {
    out.push(`<text transform="translate(16 ${box.y + box.h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  }
  return out;
}

/** A legend row centred under the chart at height `y`: a short line and the name per series. */
function legend(series: LineSeries[], colors: string[], centre: number, y: number): string[] {
  // Text width estimated at 6.5 px per character of a 12 px sans-serif font.
  const widths = series.map((s) => 30 + 6.5 * s.name.length + 18);
  let x = centre - widths.reduce((a, b) => a + b, 0) / 2;
  return series.flatMap((s, i) => {
    const dash = s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : '';
    const items = [`<line x1="${num(x)}" x2="${num(x + 24)}" y1="${y - 4}" y2="${y - 4}" stroke="${escapeXml(colors[i])}" stroke-width="2"${dash}/>`,
      `<text x="${num(x + 30)}" y="${y}">${escapeXml(s.name)}</text>`];
    x += widths[i];
    return items;
  });
}

/**
 * A standalone SVG document: the series as lines over shared axes, with grid, ticks, optional
 * markers, a legend row under the x axis, and the caption.
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 860;
  const caption = options.caption ?? [];
  const height = (options.height ?? 420) + 22 + 16 * caption.length; // + the legend row
  const box = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: (options.height ?? 420) - MARGIN.top - MARGIN.bottom };
  const xr = options.xRange ?? dataRange(options.series, (s, i) => (s.x ? s.x[i] : i));
  let yr = options.yRange;
  if (!yr) {
    const [low, high] = dataRange(options.series, (s, i) => s.values[i]);
    yr = [low - 0.05 * (high - low), high + 0.05 * (high - low)];
  }
  const [x0, x1] = xr, [y0, y1] = yr;
  const px = (x: number): number => box.x + ((x - x0) / (x1 - x0 || 1)) * box.w;
  const py = (y: number): number => box.y + box.h - ((y - y0) / (y1 - y0 || 1)) * box.h;
  const colors = options.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const lines = options.series.flatMap((s, i) => {
    const dash = s.dash ? ` stroke-dasharray="${escapeXml(s.dash)}"` : '';
    const out = [`<path d="${pathData(s, px, py)}" fill="none" stroke="${escapeXml(colors[i])}" stroke-width="${s.width ?? 1.5}"${dash}/>`];
    for (let j = 0; s.dots && j < s.values.length; j++) {
      const x = s.x ? s.x[j] : j, y = s.values[j];
      if (Number.isFinite(x) && Number.isFinite(y)) out.push(`<circle cx="${num(px(x))}" cy="${num(py(y))}" r="${s.dots}" fill="${escapeXml(colors[i])}"/>`);
    }
    return out;
  });
  const legendY = box.y + box.h + 60;
  const captionLines = caption.map((line, i) => `<text x="${width / 2}" y="${legendY + 22 + 16 * i}" `
    + `text-anchor="middle" fill="#555" font-size="11">${escapeXml(line)}</text>`);
  const body = [...axes(options, box, [x0, x1], [y0, y1], px, py), ...lines, ...legend(options.series, colors, box.x + box.w / 2, legendY), ...captionLines];
  return svgDocument(width, height, body);
}

/** Wraps elements into a standalone document with a white background. */
export function svgDocument(width: number, height: number, elements: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" `
    + `font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${elements.join('\n')}\n</svg>\n`;
}

/** Options of {@link heatMap}. */
export interface HeatMapOptions {
  /** Title above the map. */
  title: string;
  /** Labels of the columns (shown above them) and of the rows (left of them). */
  columns: readonly string[];
  /** See `columns`. */
  rows: readonly string[];
  /** `values[row][column]` in [0, 1]: white at 0, dark blue at 1. */
  values: readonly (readonly number[])[];
  /** Side of a cell in pixels (default 28). */
  cell?: number;
}

/**
 * A matrix of values in [0, 1] as shaded cells with row and column labels — e.g. attention weights,
 * output tokens down, source tokens across.
 */
export function heatMap(options: HeatMapOptions): string {
  const { title, columns, rows, values } = options;
  const cell = options.cell ?? 28;
  const left = 12 + 8 * Math.max(1, ...rows.map((r) => r.length)), top = 56;
  const width = left + cell * columns.length + 16, height = top + cell * rows.length + 16;
  const shade = (v: number): string => {
    const t = Math.min(1, Math.max(0, v));
    const channel = (from: number, to: number): number => Math.round(from + (to - from) * t);
    return `rgb(${channel(255, 8)},${channel(255, 48)},${channel(255, 107)})`;
  };
  const elements = [`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`];
  columns.forEach((label, j) => elements.push(
    `<text x="${left + cell * (j + 0.5)}" y="${top - 8}" text-anchor="middle">${escapeXml(label)}</text>`));
  rows.forEach((label, i) => {
    elements.push(`<text x="${left - 6}" y="${top + cell * (i + 0.5) + 4}" text-anchor="end">${escapeXml(label)}</text>`);
    columns.forEach((_, j) => {
      const v = values[i]?.[j] ?? 0;
      elements.push(`<rect x="${left + cell * j}" y="${top + cell * i}" width="${cell}" height="${cell}" fill="${shade(v)}" stroke="#ddd">`
        + `<title>${escapeXml(`${label} ← ${columns[j]}: ${v.toFixed(3)}`)}</title></rect>`);
    });
  });
  return svgDocument(width, height, elements);
}
