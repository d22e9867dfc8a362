// Table 6 (experiment 4: a buggy guest and its neighbours) as grids of strings, shared by the
// terminal, Markdown and HTML renderings, plus CSV and JSON. Pure functions of an IsolateResult.
import { FAULT_TEXT } from '../isolate/faults.js';
import { METRIC_LABEL, METRICS, type FaultRun, type IsolatePass, type IsolateResult, type Metric, type NeighbourRow } from '../isolate/model.js';
import { verdictText } from '../isolate/verdict.js';
import type { Grid } from './paper-grid.js';
import { csvCell } from './csv.js';
import { csvLink, csvText, esc, figuresHtml, PAGE_CSS, tableHtml, type Figure } from './figure.js';
import { mdTable } from './paper.js';
import { lineChart } from './svg.js';
import { csvUs, fixed, sig3, table, timeIn } from './table.js';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** A metric's figure in its unit (µs for latency, Mbit/s for throughput), three significant digits. */
export function metricValue(m: Metric, v: number | null | undefined): string {
  if (!isNum(v)) return '-';
  return m === 'tcpMbps' ? sig3(v) : timeIn(v, 'µs');
}
const unit = (m: Metric) => (m === 'tcpMbps' ? 'Mbit/s' : 'µs');
const seconds = (ms: number | null | undefined) => (isNum(ms) ? `${(ms / 1000).toFixed(1)} s` : '');
const mib = (b: number | undefined) => (isNum(b) ? `${(b / (1 << 20)).toFixed(0)} MiB` : '-');
const cpus = (c: number | undefined) => (isNum(c) ? c.toFixed(2) : '-');

function recovery(n: NeighbourRow | undefined, f: FaultRun): string {
  if (!n) return '';
  if (n.verdict.kind === 'isolated' && n.afterVerdict.kind === 'isolated') return '';
  return n.recoveryMs === null ? `not back in ${seconds(f.rounds.length ? Math.max(...f.rounds.map((r) => r.endMs)) - f.endMs : 0)}` : seconds(n.recoveryMs);
}

function passTitle(p: IsolatePass): string {
  return p.limit ? `with --limit ${p.limit}` : 'no limits';
}

/** Table 6: one row per fault, a verdict per neighbour, recovery, the faulty guest's host cost. */
export function summaryGrid(r: IsolateResult, p: IsolatePass, id = 'table6'): Grid {
  const nbs = r.config.neighbours;
  const header = ['fault', ...nbs.flatMap((n) => [`${n}`, `${n} back after`]), `${r.config.faultyGuest} CPU (before → during)`, `${r.config.faultyGuest} memory peak`, 'what happened'];
  const rows = p.faults.map((f) => {
    const cells = nbs.flatMap((n) => {
      const row = f.neighbours.find((x) => x.neighbour === n);
      return f.unsupported ? [f.unsupported.startsWith('not run') ? 'not run' : 'unsupported', ''] : [row ? verdictText(row.verdict) : '-', recovery(row, f)];
    });
    const cost = `${cpus(f.hostCost.cpuBefore)} → ${cpus(f.hostCost.cpuDuring)}`;
    const what = [f.outcome, f.outlived ? 'outlived its window' : '', f.replaced ? `${r.config.faultyGuest} replaced` : '',
      f.replaceFailed ? `${r.config.faultyGuest} NOT replaced: ${f.replaceFailed}` : ''].filter(Boolean).join('; ');
    return [`${f.fault} (${FAULT_TEXT[f.fault]})`, ...cells, cost, mib(f.hostCost.memPeakBytesDuring), what];
  });
  return { id, title: `A buggy guest and its neighbours, ${passTitle(p)} (${r.config.windowS} s per fault; verdicts during the fault)`, header, rows };
}

/** Table 6, detail: fault × neighbour × metric, before / during / after, and the verdicts. */
export function detailGrid(r: IsolateResult, p: IsolatePass, id = 'table6-detail'): Grid {
  const header = ['fault', 'neighbour', 'metric', 'before', 'during', 'after', 'noise', 'during: verdict', 'after: verdict'];
  const rows: string[][] = [];
  for (const f of p.faults) {
    let first = true;
    for (const m of f.metrics) {
      rows.push([first ? f.fault : '', m.neighbour, `${METRIC_LABEL[m.metric]} (${unit(m.metric)})`, metricValue(m.metric, m.before), metricValue(m.metric, m.during),
        metricValue(m.metric, m.after), `±${fixed(m.noisePercent, 0)}%`, verdictText(m.duringVerdict), verdictText(m.afterVerdict)]);
      first = false;
    }
  }
  return { id, title: `Neighbours before, during and after each fault, ${passTitle(p)}`, header, rows };
}

/** Which faults the limits contain, per neighbour. */
export function containmentGrid(r: IsolateResult, id = 'table6-limits'): Grid | undefined {
  if (!r.containment?.length) return undefined;
  const header = ['fault', 'neighbour', 'limit that bears on it', 'no limits', `--limit ${r.config.limit ?? ''}`, 'contained'];
  const rows = r.containment.map((c) => [c.fault, c.neighbour, c.limit ? `${c.limit}${c.limitUnsupported ? ' (unsupported here)' : ''}` : '(none directly)',
    verdictText(c.unlimited), verdictText(c.limited),
    c.unlimited.kind === 'isolated' ? 'nothing to contain' : c.limitUnsupported ? 'no (limit not applied)' : c.contained ? 'yes' : 'no']);
  return { id, title: 'What the host-side limits contain', header, rows };
}

/** What the host could not apply, per guest (a limit is never dropped silently). */
function limitLines(r: IsolateResult): string[] {
  const out: string[] = [];
  for (const p of r.passes) {
    for (const [g, l] of Object.entries(p.limits ?? {})) {
      const applied = Object.entries(l.applied).map(([k, v]) => `${k}=${v}`).join(', ');
      out.push(`${g}: applied ${applied || 'nothing'}${l.unsupported.length ? `; unsupported here: ${l.unsupported.join(', ')}` : ''}`);
    }
  }
  return out;
}

export function isolateGrids(r: IsolateResult): Grid[] {
  const out: Grid[] = [];
  r.passes.forEach((p, i) => out.push(summaryGrid(r, p, i ? `table6-limited` : 'table6')));
  const c = containmentGrid(r);
  if (c) out.push(c);
  r.passes.forEach((p, i) => out.push(detailGrid(r, p, i ? 'table6-limited-detail' : 'table6-detail')));
  return out;
}

function preamble(r: IsolateResult): string[] {
  const c = r.config;
  return [
    `umlperf isolate: experiment 4, a buggy guest and its neighbours; image ${c.image}${c.servers.length ? `, servers ${c.servers.join(',')}` : ''}`,
    `faulty guest ${c.faultyGuest}; neighbours ${c.neighbours.join(', ')}; each fault bounded to ${c.windowS} s, then undone or the guest replaced`,
    c.baselineSlices
      ? `verdicts: isolated (within the noise: the spread between the medians of the baseline's ${c.baselineSlices} slices, at least the run's typical spread and ±${c.minNoisePercent}%), degraded by x% (median of the rounds; p50s and throughput), broken (probes failed)`
      : `verdicts: isolated (within the run's noise, at least ±${c.minNoisePercent}%), degraded by x% (median of the rounds; p50s and throughput), broken (probes failed)`,
    // hostCpu: recorded since the host side was pinned (with the prober); older results lack it.
    ...(c.placement ? [`pinned: the probes${c.placement.hostCpu === undefined ? '' : ' and the host side'} to CPU ${c.placement.proberCpu}, the guests (${c.faultyGuest} and its guest neighbours) to CPU ${c.placement.guestCpu}`] : []),
    ...limitLines(r),
    `${(r.durationMs / 1000).toFixed(0)} s in all`,
  ];
}

const title = (g: Grid) => `${g.id.replace(/^table6/, 'Table 6').replace(/-/g, ' ')}. ${g.title}`;

export function isolateText(r: IsolateResult): string {
  const out = [...preamble(r), ''];
  for (const g of isolateGrids(r)) out.push(title(g), table(g.header, g.rows, 3), '');
  return `${out.join('\n')}\n`;
}

export function isolateMarkdown(r: IsolateResult): string {
  const out = ['# umlperf isolate', '', ...preamble(r).map((l) => `- ${l}`), ''];
  for (const g of isolateGrids(r)) out.push(`## ${title(g)}`, '', mdTable(g), '');
  return out.join('\n');
}

/**
 * One line per pass × fault × neighbour × metric, verdicts as words. One unit per column: a
 * latency metric's figures in the `_us` columns, throughput in the `_Mbps` ones.
 */
export function isolateCsv(r: IsolateResult): string {
  const cols = ['limit', 'fault', 'neighbour', 'metric', 'before_us', 'during_us', 'after_us', 'before_Mbps', 'during_Mbps', 'after_Mbps', 'noise_percent', 'during_verdict', 'during_worse_percent', 'after_verdict', 'recovery_ms', 'outlived', 'replaced'];
  const lines = [cols.join(',')];
  const n3 = (v: number | null | undefined) => (isNum(v) ? String(Math.round(v * 1000) / 1000) : '');
  for (const p of r.passes)
    for (const f of p.faults)
      for (const m of f.metrics) {
        const nb = f.neighbours.find((x) => x.neighbour === m.neighbour);
        const tput = m.metric === 'tcpMbps';
        const figs = [m.before, m.during, m.after];
        const us = figs.map((v) => (tput ? '' : csvUs(v)));
        const mb = figs.map((v) => (tput ? n3(v) : ''));
        lines.push([p.limit ?? '', f.fault, m.neighbour, m.metric, ...us, ...mb, n3(m.noisePercent), m.duringVerdict.kind,
          n3(m.duringVerdict.worsePercent), m.afterVerdict.kind, nb?.recoveryMs ?? '', f.outlived, f.replaced].map(csvCell).join(','));
      }
  return `${lines.join('\n')}\n`;
}

export function isolateJson(r: IsolateResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

const COLORS: Record<string, string> = { g2: '#d62728', host: '#1f77b4' };

/** Per fault: each neighbour's TCP p99 over time, the fault's window shaded; its rounds as CSV. */
export function faultFigures(r: IsolateResult): Figure[] {
  const out: Figure[] = [];
  r.passes.forEach((p, pi) => {
    for (const f of p.faults) {
      const series = r.config.neighbours.map((n) => ({
        name: `${n} TCP p99`,
        color: COLORS[n] ?? '#2ca02c',
        markers: true,
        points: f.rounds.filter((x) => x.neighbour === n && isNum(x.values.tcpP99Ns)).map((x) => [x.startMs / 1000, (x.values.tcpP99Ns as number) / 1e3] as [number, number]),
      })).filter((s) => s.points.length);
      const t = `${f.fault}, ${passTitle(p)}: neighbours' TCP p99 over time (fault window shaded)`;
      const svg = lineChart(t, series, { xLabel: 'time (s)', yLabel: 'TCP p99 (µs)', yMin: 0, bands: [[f.startMs / 1000, f.endMs / 1000]] });
      const csv = csvText(['neighbour', 'start_s', 'end_s', 'fault_start_s', 'fault_end_s', ...METRICS.map((m) => (m === 'tcpMbps' ? 'tcp_Mbps' : `${m.replace(/Ns$/, '')}_us`))],
        f.rounds.map((x) => [x.neighbour, x.startMs / 1000, x.endMs / 1000, f.startMs / 1000, f.endMs / 1000, ...METRICS.map((m) => (m === 'tcpMbps' ? x.values[m] ?? '' : csvUs(x.values[m])))]));
      if (svg) out.push({ id: `isolate-${pi ? 'limited-' : ''}${f.fault}`, title: t, svg, csv });
    }
  });
  return out;
}

/** Table 6 and the fault charts as an HTML fragment (its own page, or a section of the paper's). */
export function isolateSection(r: IsolateResult): string {
  const tables = isolateGrids(r).map((g) => `<h2>${esc(title(g))}</h2>\n${tableHtml(g.header, g.rows, { id: g.id, csv: csvText(g.header, g.rows), left: g.id.endsWith('detail') || g.id === 'table6-limits' ? 3 : 1, wrapLast: g.id === 'table6' || g.id === 'table6-limited' })}`).join('\n');
  return `${preamble(r).map((l) => `<p>${esc(l)}</p>`).join('\n')}
<p>${csvLink('umlperf-isolate.csv', isolateCsv(r), 'every figure as one CSV')}</p>
${tables}
<h2>Charts: experiment 4</h2>
${figuresHtml(faultFigures(r))}`;
}

export function isolateHtml(r: IsolateResult): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>umlperf isolate</title>
<style>
${PAGE_CSS}
</style></head><body>
<h1>umlperf isolate</h1>
${isolateSection(r)}
</body></html>
`;
}

export type IsolateFormat = 'table' | 'json' | 'csv' | 'md' | 'html';

export function renderIsolate(r: IsolateResult, format: IsolateFormat): string {
  switch (format) {
    case 'json':
      return isolateJson(r);
    case 'csv':
      return isolateCsv(r);
    case 'md':
      return isolateMarkdown(r);
    case 'html':
      return isolateHtml(r);
    default:
      return isolateText(r);
  }
}
