// Small inline-SVG charts for the HTML report: no scripts, no external files. Each chart is drawn
// in a 480-wide coordinate system (its viewBox) and scales with the page (no fixed size); the
// legend sits above the plot, so it never covers data or whiskers.
import { sig3 } from './table.js';

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Per point: the 95% CI as [low, high] (drawn as a whisker), or null where there is none. */
  intervals?: ([number, number] | null)[];
  /** Draw each point as a marker (a measured value), not only the line through them. */
  markers?: boolean;
  /** A dashed line (e.g. a distribution read from percentiles, not from samples). */
  dashed?: boolean;
}

// A 480-unit-wide drawing: at a phone's 400 px its 12-unit text is still ~10 px tall.
const W = 480;
const PLOT_H = 210;
const M = { l: 60, r: 14, b: 46 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f1 = (v: number) => v.toFixed(1);

function niceTicks(lo: number, hi: number, n = 5, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  let step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= step0) ?? step0;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Decades between lo and hi (log10 values), as the numbers themselves. */
const decades = (lo: number, hi: number) => Array.from({ length: Math.max(0, Math.floor(hi + 1e-9) - Math.ceil(lo - 1e-9) + 1) }, (_, i) => 10 ** (Math.ceil(lo - 1e-9) + i));
const tickLabel = (v: number) => (Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-4) ? v.toExponential(0) : String(Number(v.toPrecision(6))));

/** Legend entries laid out left to right above the plot, wrapping; returns the SVG and its height. */
function legend(series: { name: string; color: string; dashed?: boolean }[]): { svg: string; height: number } {
  const parts: string[] = [];
  let x = M.l;
  let row = 0;
  for (const s of series) {
    const w = 22 + Math.ceil(s.name.length * 7.2) + 16;
    if (x + w > W - M.r && x > M.l) {
      x = M.l;
      row++;
    }
    const y = 8 + row * 19;
    parts.push(s.dashed
      ? `<line x1="${x}" y1="${y + 5}" x2="${x + 16}" y2="${y + 5}" stroke="${s.color}" stroke-width="2" stroke-dasharray="4 3"/>`
      : `<rect x="${x}" y="${y}" width="16" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${x + 22}" y="${y + 10}" font-size="12">${esc(s.name)}</text>`);
    x += w;
  }
  return { svg: `<g class="legend">${parts.join('\n')}</g>`, height: series.length ? 8 + (row + 1) * 19 : 8 };
}

interface Frame {
  top: number;
  bottom: number;
}

function frame(body: string, title: string, xLabel: string, yLabel: string, f: Frame, legendSvg: string): string {
  const h = f.bottom + M.b;
  const mid = f.top + (f.bottom - f.top) / 2;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" class="chart" preserveAspectRatio="xMidYMid meet" role="img" aria-label="${esc(title)}">
<title>${esc(title)}</title>
<rect x="0" y="0" width="${W}" height="${h}" fill="#fff"/>
${legendSvg}
${body}
<text x="${M.l + (W - M.l - M.r) / 2}" y="${h - 8}" text-anchor="middle" font-size="13">${esc(xLabel)}</text>
<text x="14" y="${f1(mid)}" text-anchor="middle" font-size="13" transform="rotate(-90 14 ${f1(mid)})">${esc(yLabel)}</text>
</svg>`;
}

function axes(f: Frame, xTicks: { label: string; x: number }[], yTicks: { label: string; y: number }[]): string {
  const parts = [`<line x1="${M.l}" y1="${f.bottom}" x2="${W - M.r}" y2="${f.bottom}" stroke="#333"/>`, `<line x1="${M.l}" y1="${f.top}" x2="${M.l}" y2="${f.bottom}" stroke="#333"/>`];
  for (const t of xTicks) {
    // A label centred on a tick at the right edge would leave the frame: end it just past the tick.
    const half = t.label.length * 3.7;
    const anchor = t.x + half > W - 2 ? `x="${f1(Math.min(W - 2, t.x + 6))}" y="${f.bottom + 16}" text-anchor="end"` : `x="${f1(t.x)}" y="${f.bottom + 16}" text-anchor="middle"`;
    parts.push(`<line x1="${f1(t.x)}" y1="${f.bottom}" x2="${f1(t.x)}" y2="${f.bottom + 4}" stroke="#333"/><text ${anchor} font-size="12">${esc(t.label)}</text>`);
  }
  for (const t of yTicks) parts.push(`<line x1="${M.l - 4}" y1="${f1(t.y)}" x2="${W - M.r}" y2="${f1(t.y)}" stroke="#eee"/><text x="${M.l - 6}" y="${f1(t.y + 4)}" text-anchor="end" font-size="12">${esc(t.label)}</text>`);
  return parts.join('\n');
}

const whisker = (x: number, yHi: number, yLo: number, color = '#000') =>
  `<path class="ci" d="M${f1(x)} ${f1(yHi)}V${f1(yLo)}M${f1(x - 4)} ${f1(yHi)}h8M${f1(x - 4)} ${f1(yLo)}h8" stroke="${color}" fill="none"/>`;

export interface LineOptions {
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  /** Log y (a CCDF: the tail's fractions 0.01, 0.001 get room of their own). */
  logY?: boolean;
  yMin?: number;
  /** Ticks on whole numbers only (counts, e.g. guests running). */
  integerX?: boolean;
  /** x ranges shaded behind the lines. */
  bands?: [number, number][];
}

/** Lines over numeric x and y, with optional markers and CI whiskers per point. */
export function lineChart(title: string, series: Series[], o: LineOptions): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const lg = legend(series);
  const f: Frame = { top: lg.height + 8, bottom: lg.height + 8 + PLOT_H };
  const fx = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-9)) : v);
  const fy = (v: number) => (o.logY ? Math.log10(Math.max(v, 1e-12)) : v);
  const ys = [...all.map((p) => p[1]), ...series.flatMap((s) => (s.intervals ?? []).flatMap((i) => (i ? i : [])))].filter(Number.isFinite);
  let x0 = Math.min(...all.map((p) => fx(p[0])));
  let x1 = Math.max(...all.map((p) => fx(p[0])));
  if (o.logX) {
    // Whole decades, so a range narrower than one still has ticks at both ends.
    x0 = Math.floor(x0 + 1e-9);
    x1 = Math.ceil(x1 - 1e-9);
  }
  if (o.integerX && !o.logX) {
    x0 = Math.floor(x0) - 0.5;
    x1 = Math.ceil(x1) + 0.5;
  }
  if (x1 === x0) x1 = x0 + 1;
  let y0: number;
  let y1: number;
  if (o.logY) {
    y0 = Math.floor(Math.min(...ys.filter((v) => v > 0).map(fy)));
    y1 = Math.ceil(Math.max(...ys.filter((v) => v > 0).map(fy)));
    if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [-3, 0];
    if (y1 === y0) y0 = y1 - 1;
  } else {
    y0 = o.yMin ?? Math.min(...ys);
    y1 = Math.max(...ys);
    if (y1 === y0) y1 = y0 + 1;
    if (o.yMin === undefined) y0 = Math.min(0, y0);
  }
  const sx = (v: number) => M.l + ((fx(v) - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (v: number) => f.bottom - ((fy(v) - y0) / (y1 - y0)) * (f.bottom - f.top);
  const xt = o.logX ? decades(x0, x1) : niceTicks(x0, x1, 5, o.integerX);
  const yt = o.logY ? decades(y0, y1) : niceTicks(y0, y1);
  const clampX = (v: number) => Math.min(W - M.r, Math.max(M.l, sx(v)));
  const body = [
    ...(o.bands ?? []).map(([a, b]) => `<rect x="${f1(clampX(a))}" y="${f.top}" width="${f1(Math.max(0, clampX(b) - clampX(a)))}" height="${PLOT_H}" fill="#f4c7c3" fill-opacity="0.6"/>`),
    axes(f, xt.map((v) => ({ label: tickLabel(v), x: sx(v) })), yt.map((v) => ({ label: tickLabel(v), y: sy(v) }))),
  ];
  for (const s of series) {
    body.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${s.points.map((p) => `${f1(sx(p[0]))},${f1(sy(p[1]))}`).join(' ')}"/>`);
    s.points.forEach((p, i) => {
      const ci = s.intervals?.[i];
      if (ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1]) && ci[1] > ci[0]) body.push(whisker(sx(p[0]), sy(ci[1]), sy(ci[0]), s.color));
      if (s.markers) body.push(`<circle cx="${f1(sx(p[0]))}" cy="${f1(sy(p[1]))}" r="3.5" fill="${s.color}" stroke="#fff"/>`);
    });
  }
  return frame(body.join('\n'), title, o.xLabel, o.yLabel, f, lg.svg);
}

export interface Bar {
  group: string;
  name: string;
  color: string;
  value: number;
  /** Half-width of the 95% CI (0: none). */
  ci: number;
}

/** Grouped bars with 95% CI whiskers, drawn in full (the axis extends below 0 if a CI does). */
export function barChart(title: string, bars: Bar[], yLabel: string): string {
  if (bars.length === 0) return '';
  const groups = [...new Set(bars.map((b) => b.group))];
  const names = [...new Set(bars.map((b) => b.name))];
  const lg = legend(names.map((n) => ({ name: n, color: bars.find((b) => b.name === n)!.color })));
  const f: Frame = { top: lg.height + 8, bottom: lg.height + 8 + PLOT_H };
  const y1 = Math.max(...bars.map((b) => b.value + b.ci)) || 1;
  const y0 = Math.min(0, ...bars.map((b) => b.value - b.ci));
  const gw = (W - M.l - M.r) / groups.length;
  const bw = Math.min(40, (gw * 0.8) / names.length);
  const sy = (v: number) => f.bottom - ((v - y0) / (y1 - y0)) * PLOT_H;
  const parts = [axes(f, groups.map((g, i) => ({ label: g, x: M.l + gw * (i + 0.5) })), niceTicks(y0, y1).map((v) => ({ label: tickLabel(v), y: sy(v) })))];
  groups.forEach((g, gi) => {
    names.forEach((n, ni) => {
      const b = bars.find((x) => x.group === g && x.name === n);
      if (!b) return;
      const x = M.l + gw * gi + (gw - bw * names.length) / 2 + ni * bw;
      const top = sy(Math.max(0, b.value));
      parts.push(`<rect x="${f1(x)}" y="${f1(top)}" width="${f1(bw - 2)}" height="${f1(Math.abs(sy(b.value) - sy(0)))}" fill="${b.color}"><title>${esc(`${g} ${n}: ${sig3(b.value)} ± ${sig3(b.ci)}`)}</title></rect>`);
      if (b.ci > 0) parts.push(whisker(x + (bw - 2) / 2, sy(b.value + b.ci), sy(b.value - b.ci)));
    });
  });
  return frame(parts.join('\n'), title, '', yLabel, f, lg.svg);
}
