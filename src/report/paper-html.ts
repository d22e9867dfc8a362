// A self-contained HTML page of a PaperResult: the tables, latency distributions host vs guest,
// throughput bars with confidence intervals, and the host against the number of guests.
import { SERVER_LABEL, type Measurement, type PaperResult } from '../paper/model.js';
import { openQuestionLines, paperGrids } from './paper-grid.js';
import { barChart, lineChart, type Bar, type Series } from './svg.js';

const HOST = '#1f77b4';
const GUEST = '#d62728';
interface Chart {
  title: string;
  svg: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Empirical CDF of RTTs in µs, at most ~200 points. */
function cdf(samplesNs: number[]): [number, number][] {
  const s = [...samplesNs].sort((a, b) => a - b);
  if (s.length === 0) return [];
  const step = Math.max(1, Math.floor(s.length / 200));
  const pts: [number, number][] = [];
  for (let i = 0; i < s.length; i += step) pts.push([s[i] / 1e3, (i + 1) / s.length]);
  pts.push([s[s.length - 1] / 1e3, 1]);
  return pts;
}

function latencyCharts(ms: Measurement[]): Chart[] {
  const out: Chart[] = [];
  for (const protocol of ['tcp', 'udp'] as const) {
    const series: Series[] = [];
    for (const side of ['host', 'guest'] as const) {
      const m = ms.find((x) => x.experiment === 1 && x.protocol === protocol && x.side === side);
      if (m) series.push({ name: `${side}OS ${protocol.toUpperCase()}`, color: side === 'host' ? HOST : GUEST, points: cdf(m.latencySamplesNs ?? []) });
    }
    const title = `Response time distribution, ${protocol.toUpperCase()}, host vs guest (experiment 1)`;
    if (series.length) out.push({ title, svg: lineChart(title, series, { xLabel: 'round trip (µs, log scale)', yLabel: 'fraction of requests', logX: true, yMin: 0 }) });
  }
  return out;
}

function throughputCharts(ms: Measurement[]): Chart[] {
  const out: Chart[] = [];
  for (const protocol of ['tcp', 'udp'] as const) {
    const bars: Bar[] = ms
      .filter((m) => m.experiment !== 3 && m.protocol === protocol && Number.isFinite(m.throughputMbps.mean))
      .map((m) => ({ group: m.experiment === 1 ? 'exp. 1' : m.servers === 'none' ? 'no server' : SERVER_LABEL[m.servers], name: `${m.side}OS`, color: m.side === 'host' ? HOST : GUEST, value: m.throughputMbps.mean, ci: Number.isFinite(m.throughputMbps.ci95) ? m.throughputMbps.ci95 : 0 }));
    const title = `Throughput, ${protocol.toUpperCase()}${protocol === 'udp' ? ' (what arrived)' : ''}, mean ± 95% CI (experiments 1, 2)`;
    if (bars.length) out.push({ title, svg: barChart(title, bars, 'Mbit/s') });
  }
  return out;
}

function guestCharts(ms: Measurement[]): Chart[] {
  const e3 = ms.filter((m) => m.experiment === 3);
  if (e3.length === 0) return [];
  const series = (f: (m: Measurement) => number): Series[] =>
    (['tcp', 'udp'] as const).map((p) => ({
      name: `hostOS ${p.toUpperCase()}`,
      color: p === 'tcp' ? HOST : '#2ca02c',
      points: e3.filter((m) => m.protocol === p).sort((a, b) => a.guests - b.guests).map((m) => [m.guests, f(m)] as [number, number]).filter((p) => Number.isFinite(p[1])),
    }));
  return [
    { title: 'Host response p50 against guests running (experiment 3)', svg: lineChart('Host response p50 against guests running', series((m) => m.latency.p50Ns / 1e3), { xLabel: 'guests running', yLabel: 'p50 round trip (µs)' }) },
    { title: 'Host throughput against guests running (experiment 3)', svg: lineChart('Host throughput against guests running', series((m) => m.throughputMbps.mean), { xLabel: 'guests running', yLabel: 'Mbit/s' }) },
  ];
}

export function paperHtml(r: PaperResult): string {
  const c = r.config;
  const tables = paperGrids(r)
    .map((g) => `<h2>${esc(g.id.replace('table', 'Table '))}. ${esc(g.title)}</h2>
<table><thead><tr>${g.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${g.rows.map((row) => `<tr>${row.map((cell) => `<td>${esc(cell)}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`)
    .join('\n');
  const charts = [...latencyCharts(r.measurements), ...throughputCharts(r.measurements), ...guestCharts(r.measurements)];
  const open = openQuestionLines(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>umlperf paper</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right;white-space:nowrap}
td:first-child,td:nth-child(2),th:first-child{text-align:left}thead{background:#f3f3f3}
.charts{display:flex;flex-wrap:wrap;gap:1em}.charts figure{margin:0}.charts svg{border:1px solid #ddd;max-width:100%;height:auto}figcaption{font-weight:600;margin:.3em 0 0}
pre{background:#f7f7f7;padding:1em;overflow:auto}.warn{color:#a00;font-weight:bold}
</style></head><body>
<h1>umlperf paper</h1>
<p>The study's three experiments on ${esc(c.kernel)}, transport ${esc(c.transport)}, image ${esc(c.image)};
${c.runs} runs per figure. Clock ${esc(r.clock.source)}, resolution ${r.clock.resolutionNs.toFixed(3)} ns,
${r.clock.overheadNs.toFixed(1)} ns per timestamp (Qcheck resolved 1 ms). Mail is Postfix in qmail's role.
Measured ${esc(r.startedAt)} to ${esc(r.finishedAt)}.</p>
${r.complete ? '' : `<p class="warn">Incomplete: ${esc(r.error ?? 'stopped part-way')}. Everything shown was measured.</p>`}
${(r.warnings ?? []).map((w) => `<p class="warn">Warning: ${esc(w)}</p>`).join('\n')}
${tables}
<h2>Charts</h2>
<div class="charts">
${charts.map((c) => `<figure>${c.svg}<figcaption>${esc(c.title)}</figcaption></figure>`).join('\n')}
</div>
${open.length ? `<h2>What the study left open</h2><pre>${esc(open.join('\n'))}</pre>` : ''}
</body></html>
`;
}
