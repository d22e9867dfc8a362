// Small inline-SVG charts for the HTML report: no scripts, no external files.

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const W = 640;
const H = 320;
const M = { l: 64, r: 16, t: 16, b: 48 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= step0) ?? step0;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function frame(body: string, title: string, xLabel: string, yLabel: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<title>${esc(title)}</title>
<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>
${body}
<text x="${M.l + (W - M.l - M.r) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>
<text x="14" y="${M.t + (H - M.t - M.b) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${M.t + (H - M.t - M.b) / 2})">${esc(yLabel)}</text>
</svg>`;
}

function axes(xTicks: { v: number; label: string; x: number }[], yTicks: { label: string; y: number }[]): string {
  const parts = [`<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/>`, `<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`];
  for (const t of xTicks) parts.push(`<line x1="${t.x}" y1="${H - M.b}" x2="${t.x}" y2="${H - M.b + 4}" stroke="#333"/><text x="${t.x}" y="${H - M.b + 16}" text-anchor="middle" font-size="11">${esc(t.label)}</text>`);
  for (const t of yTicks) parts.push(`<line x1="${M.l - 4}" y1="${t.y}" x2="${W - M.r}" y2="${t.y}" stroke="#eee"/><text x="${M.l - 6}" y="${t.y + 4}" text-anchor="end" font-size="11">${esc(t.label)}</text>`);
  return parts.join('\n');
}

function legend(series: { name: string; color: string }[]): string {
  // Top right, on a white box, so it never hides the data under it.
  const x = W - M.r - 130;
  const box = `<rect x="${x - 6}" y="${M.t + 2}" width="132" height="${series.length * 16 + 8}" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>`;
  return box + series.map((s, i) => `<rect x="${x}" y="${M.t + 6 + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${x + 16}" y="${M.t + 15 + i * 16}" font-size="11">${esc(s.name)}</text>`).join('\n');
}

/** Lines over numeric x and y. `logX` for latency distributions; `bands`: x ranges shaded behind the lines. */
export function lineChart(title: string, series: Series[], o: { xLabel: string; yLabel: string; logX?: boolean; yMin?: number; bands?: [number, number][] }): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const fx = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-9)) : v);
  let x0 = Math.min(...all.map((p) => fx(p[0])));
  let x1 = Math.max(...all.map((p) => fx(p[0])));
  if (x1 === x0) x1 = x0 + 1;
  let y0 = o.yMin ?? Math.min(...all.map((p) => p[1]));
  let y1 = Math.max(...all.map((p) => p[1]));
  if (y1 === y0) y1 = y0 + 1;
  if (o.yMin === undefined) y0 = Math.min(0, y0);
  const sx = (v: number) => M.l + ((fx(v) - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (v: number) => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
  const xt = o.logX
    ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 10 ** (Math.ceil(x0) + i))
    : niceTicks(x0, x1);
  const clampX = (v: number) => Math.min(W - M.r, Math.max(M.l, sx(v)));
  const body = [
    ...(o.bands ?? []).map(([a, b]) => `<rect x="${clampX(a).toFixed(1)}" y="${M.t}" width="${Math.max(0, clampX(b) - clampX(a)).toFixed(1)}" height="${H - M.t - M.b}" fill="#f4c7c3" fill-opacity="0.6"/>`),
    axes(xt.map((v) => ({ v, label: String(v), x: sx(v) })), niceTicks(y0, y1).map((v) => ({ label: String(v), y: sy(v) }))),
    ...series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ')}"/>`),
    legend(series),
  ].join('\n');
  return frame(body, title, o.xLabel, o.yLabel);
}

export interface Bar {
  group: string;
  name: string;
  color: string;
  value: number;
  ci: number;
}

/** Grouped bars with 95% CI whiskers. */
export function barChart(title: string, bars: Bar[], yLabel: string): string {
  if (bars.length === 0) return '';
  const groups = [...new Set(bars.map((b) => b.group))];
  const names = [...new Set(bars.map((b) => b.name))];
  const y1 = Math.max(...bars.map((b) => b.value + b.ci)) || 1;
  const gw = (W - M.l - M.r) / groups.length;
  const bw = Math.min(40, (gw * 0.8) / names.length);
  const sy = (v: number) => H - M.b - (v / y1) * (H - M.t - M.b);
  const parts = [axes(groups.map((g, i) => ({ v: i, label: g, x: M.l + gw * (i + 0.5) })), niceTicks(0, y1).map((v) => ({ label: String(v), y: sy(v) })))];
  groups.forEach((g, gi) => {
    names.forEach((n, ni) => {
      const b = bars.find((x) => x.group === g && x.name === n);
      if (!b) return;
      const x = M.l + gw * gi + (gw - bw * names.length) / 2 + ni * bw;
      const cx = x + bw / 2;
      parts.push(`<rect x="${x.toFixed(1)}" y="${sy(b.value).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(H - M.b - sy(b.value)).toFixed(1)}" fill="${b.color}"><title>${esc(`${g} ${n}: ${b.value.toFixed(3)} ± ${b.ci.toFixed(3)}`)}</title></rect>`);
      if (b.ci > 0) parts.push(`<path d="M${cx} ${sy(b.value + b.ci).toFixed(1)}V${sy(Math.max(0, b.value - b.ci)).toFixed(1)}M${cx - 4} ${sy(b.value + b.ci).toFixed(1)}h8M${cx - 4} ${sy(Math.max(0, b.value - b.ci)).toFixed(1)}h8" stroke="#000" fill="none"/>`);
    });
  });
  parts.push(legend(names.map((n) => ({ name: n, color: bars.find((b) => b.name === n)!.color }))));
  return frame(parts.join('\n'), title, '', yLabel);
}
