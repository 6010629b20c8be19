/**
 * Tiny hand-written SVG chart primitives for the self-contained HTML report (no external assets, no
 * dependencies): linear scales, "nice" ticks, line/scatter charts and grouped bar charts.
 */

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Round-number ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const start = Math.ceil(lo / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1);
  return String(+v.toPrecision(4));
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  line?: boolean;
  markers?: boolean;
  dashed?: boolean;
  /** Marker shape. */
  shape?: "circle" | "square" | "diamond";
  /** Optional per-point label drawn next to the marker. */
  labels?: string[];
  /** Optional per-point hover titles. */
  titles?: string[];
}

export interface ChartFrame {
  width?: number;
  height?: number;
  title: string;
  xLabel: string;
  yLabel: string;
}

const M = { left: 58, right: 16, top: 34, bottom: 46 };

/** Legend items laid out left to right, wrapping at the plot width. */
function legendLayout(items: { name: string; color: string }[], width: number): { x: number; row: number; name: string; color: string }[] {
  const out: { x: number; row: number; name: string; color: string }[] = [];
  let x = M.left + 4, row = 0;
  for (const it of items) {
    const w = 24 + it.name.length * 6.2;
    if (x + w > width - M.right && x > M.left + 4) { row++; x = M.left + 4; }
    out.push({ x, row, ...it });
    x += w;
  }
  return out;
}

function frame(f: ChartFrame, xd: [number, number], yd: [number, number], xTicks: number[], yTicks: number[], yFmt = fmtTick, xFmt = fmtTick, legendItems: { name: string; color: string }[] = []) {
  const W = f.width ?? 560, H = f.height ?? 320;
  const leg = legendLayout(legendItems, W);
  const rows = leg.length ? leg[leg.length - 1].row + 1 : 0;
  const top = 26 + rows * 14 + 6;
  const pw = W - M.left - M.right, ph = H - top - M.bottom;
  const sx = (x: number) => M.left + ((x - xd[0]) / (xd[1] - xd[0] || 1)) * pw;
  const sy = (y: number) => top + ph - ((y - yd[0]) / (yd[1] - yd[0] || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(f.title)}" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${M.left}" y="18" font-size="13" font-weight="600" fill="#222">${esc(f.title)}</text>`);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${esc(yFmt(t))}</text>`);
  }
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top + ph}" y2="${top + ph + 4}" stroke="#888"/>`);
    parts.push(`<text x="${x}" y="${top + ph + 16}" text-anchor="middle" fill="#555">${esc(xFmt(t))}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" fill="#333">${esc(f.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(f.yLabel)}</text>`);
  for (const l of leg) {
    const y = 34 + l.row * 14;
    parts.push(`<rect x="${l.x}" y="${y - 8}" width="10" height="10" fill="${l.color}"/>`);
    parts.push(`<text x="${l.x + 14}" y="${y}" fill="#333">${esc(l.name)}</text>`);
  }
  return { W, H, pw, ph, sx, sy, parts, top };
}

function marker(shape: Series["shape"], x: number, y: number, color: string, title?: string): string {
  const t = title ? `<title>${esc(title)}</title>` : "";
  const X = x.toFixed(1), Y = y.toFixed(1);
  if (shape === "square") return `<rect x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" fill="${color}" stroke="#fff">${t}</rect>`;
  if (shape === "diamond") return `<path d="M${X} ${(y - 6).toFixed(1)} L${(x + 6).toFixed(1)} ${Y} L${X} ${(y + 6).toFixed(1)} L${(x - 6).toFixed(1)} ${Y} Z" fill="${color}" stroke="#fff">${t}</path>`;
  return `<circle cx="${X}" cy="${Y}" r="4" fill="${color}" stroke="#fff">${t}</circle>`;
}

export interface LineChartSpec extends ChartFrame {
  series: Series[];
  xDomain?: [number, number];
  yDomain?: [number, number];
  integerX?: boolean;
  yFormat?: (v: number) => string;
}

export function lineChart(spec: LineChartSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  let xd: [number, number] = spec.xDomain ?? [Math.min(...xs), Math.max(...xs)];
  let yd: [number, number] = spec.yDomain ?? [Math.min(...ys), Math.max(...ys)];
  if (!(xd[1] > xd[0])) xd = [xd[0] - 1, xd[0] + 1];
  if (!(yd[1] > yd[0])) yd = [yd[0] - 0.05, yd[0] + 0.05];
  let xTicks = niceTicks(xd[0], xd[1], 8);
  if (spec.integerX) xTicks = xTicks.filter((v) => Number.isInteger(v));
  const yTicks = niceTicks(yd[0], yd[1], 5).filter((v) => v >= yd[0] - 1e-12 && v <= yd[1] + 1e-12);
  const f = frame(spec, xd, yd, xTicks, yTicks, spec.yFormat, undefined, spec.series);
  for (const s of spec.series) {
    const pts = s.points;
    if (s.line !== false && pts.length > 1) {
      const d = pts.map((p, i) => `${i ? "L" : "M"}${f.sx(p[0]).toFixed(1)} ${f.sy(p[1]).toFixed(1)}`).join(" ");
      f.parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ""}/>`);
    }
    if (s.markers !== false) {
      pts.forEach((p, i) => {
        f.parts.push(marker(s.shape, f.sx(p[0]), f.sy(p[1]), s.color, s.titles?.[i]));
        const lab = s.labels?.[i];
        if (lab) f.parts.push(`<text x="${(f.sx(p[0]) + 6).toFixed(1)}" y="${(f.sy(p[1]) - 6).toFixed(1)}" font-size="10" fill="${s.color}">${esc(lab)}</text>`);
      });
    }
  }
  f.parts.push("</svg>");
  return f.parts.join("");
}

export interface BarChartSpec extends ChartFrame {
  categories: string[];
  groups: { name: string; color: string; values: number[] }[];
  yFormat?: (v: number) => string;
}

export function barChart(spec: BarChartSpec): string {
  const maxV = Math.max(1e-12, ...spec.groups.flatMap((g) => g.values));
  const yTicks = niceTicks(0, maxV, 5);
  if (yTicks.length > 1 && yTicks[yTicks.length - 1] < maxV) yTicks.push(+(2 * yTicks[yTicks.length - 1] - yTicks[yTicks.length - 2]).toPrecision(12));
  const yd: [number, number] = [0, Math.max(maxV, yTicks[yTicks.length - 1])];
  const C = spec.categories.length;
  const f = frame(spec, [0, C], yd, [], yTicks, spec.yFormat, undefined, spec.groups);
  const slot = f.pw / Math.max(1, C);
  const G = spec.groups.length;
  const bw = (slot * 0.8) / Math.max(1, G);
  spec.categories.forEach((c, i) => {
    const x0 = M.left + i * slot + slot * 0.1;
    spec.groups.forEach((g, j) => {
      const v = g.values[i] ?? 0;
      const y = f.sy(v), h = f.sy(0) - y;
      f.parts.push(`<rect x="${(x0 + j * bw).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${g.color}"><title>${esc(`${g.name}, ${c}: ${fmtTick(v)}`)}</title></rect>`);
    });
    if (C <= 24 || i % Math.ceil(C / 24) === 0) {
      f.parts.push(`<text x="${(M.left + (i + 0.5) * slot).toFixed(1)}" y="${f.top + f.ph + 16}" text-anchor="middle" fill="#555">${esc(c)}</text>`);
    }
  });
  f.parts.push("</svg>");
  return f.parts.join("");
}
