// Renderings of a PaperResult: terminal tables, Markdown, CSV, JSON. (HTML: paper-html.ts.)
import type { Comparison, PaperResult, PaperTable } from '../paper/model.js';
import { comparisonView, rowLatency, rowThroughput, rowUdp } from './fields.js';
import { gridHeading, LATENCY_FIGURES, openQuestionLines, openQuestions, paperGrids, reportGrids, rrulGrid, type Grid } from './paper-grid.js';
import { csvCell } from './csv.js';
import { csvUs, table } from './table.js';

function preamble(r: PaperResult): string[] {
  const c = r.config;
  return [
    `umlperf paper: the study's experiments on ${c.kernel}, transport ${c.transport}, image ${c.image}`,
    `${c.runs} blocks per figure${c.ciTargetPercent ? ` (adaptive: up to ${c.maxRuns}, until every ratio's CI is within ±${c.ciTargetPercent}%)` : ''}, ${c.blockOrder === 'abba' ? 'sides in random order, mirrored in the next block (ABBA)' : 'sides in random order per block'} (seed ${c.seed ?? '-'})${c.experimentOrder === 'interleaved' ? ", the experiments' blocks interleaved (one of each per round)" : ''}, an A/A control per experiment; response ${c.responseSizeBytes} B × ${c.responseIterations}; throughput ${c.throughputSeconds} s per block (UDP ${c.udpDatagramBytes} B datagrams, unpaced)`,
    `probes on CPU ${c.probeCpu ?? 'any'}, guests and servers on CPU ${c.labCpus ?? 'any'}`,
    `clock ${r.clock.source}: resolution ${r.clock.resolutionNs.toFixed(3)} ns, ${r.clock.overheadNs.toFixed(1)} ns per timestamp (Qcheck: 1 ms)`,
    ...(c.experiments.includes(2) ? ['mail is Postfix in the role qmail had in the study (qmail is not packaged for current Debian)', r.measurements.some((m) => m.experiment === 2 && m.blockGroup)
      ? 'experiment 2 runs on the Debian image with 128M guests, every server provisioned on both sides; "no server": all of them stopped (SIGSTOP), the baseline for each server running alone'
      : 'experiment 2 runs on the Debian image with 128M guests; its "no server" rows are the baseline for the servers'] : []),
    ...(r.measurements.some((m) => m.experiment === 3 && m.blockGroup) ? ['experiment 3 boots the most guests once; those beyond each count are frozen (cgroup freezer)'] : []),
    ...(r.complete ? [] : [`INCOMPLETE: ${r.error ?? 'stopped part-way'}; everything below was measured`]),
    ...(r.warnings ?? []).map((w) => `warning: ${w}`),
    ...driftLines(r),
  ];
}

/** The drift watch, as hyperfine warns of outliers: which blocks ran while the machine itself moved. */
export function driftLines(r: PaperResult): string[] {
  const d = r.drift;
  if (!d || !d.series?.length) return [];
  const ref = `reference ${(d.medianReferenceP50Ns / 1e3).toPrecision(3)} µs (${d.reference ? `${d.reference}; ` : ''}median of ${d.series.length} blocks)`;
  const settles = (d.settles ?? []).map((x) => x.settled
    ? `drift watch: ${x.step} waited ${(x.waitedMs / 1000).toFixed(1)} s after the lab changed for the reference to come back within +${d.thresholdPercent}% (${x.probes} reference probes)`
    : `warning: ${x.step}: the reference was not back within +${d.thresholdPercent}% ${(x.waitedMs / 1000).toFixed(1)} s after the lab changed (${(x.lastReferenceP50Ns / 1e3).toPrecision(3)} µs); measured anyway`);
  if (!d.flagged.length) return [`drift watch: ${ref}; no block strayed beyond ±${d.thresholdPercent}%`, ...settles];
  return [
    `warning: the machine drifted: ${d.flagged.length} of ${d.series.length} blocks had the ${ref} off by more than ±${d.thresholdPercent}%; figures measured then are suspect:`,
    ...d.flagged.map((f) => `  ${f.step}, block ${f.block + 1}: reference ${f.deviationPercent >= 0 ? '+' : ''}${f.deviationPercent.toFixed(0)}%`),
    ...settles,
  ];
}

export function paperText(r: PaperResult): string {
  const out = [...preamble(r), ''];
  for (const g of paperGrids(r)) {
    out.push(`${g.id.replace('table', 'Table ')}. ${g.title}`, table(g.header, g.rows, 2), '');
  }
  out.push(...openQuestionLines(r), ...rrulLines(r));
  return `${out.join('\n')}\n`;
}

/** The opt-in latency-under-load rows (paper --rrul): p50/p99 idle and loaded per side, and the bulk rate. */
export function rrulLines(r: PaperResult): string[] {
  const g = rrulGrid(r);
  return g ? ['', g.title, table(g.header, g.rows, 2)] : [];
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');
export function mdTable(g: Grid): string {
  const head = `| ${g.header.map(mdEscape).join(' | ')} |`;
  const sep = `|${g.header.map(() => '---').join('|')}|`;
  return [head, sep, ...g.rows.map((row) => `| ${row.map(mdEscape).join(' | ')} |`)].join('\n');
}

export function paperMarkdown(r: PaperResult): string {
  const out = ['# umlperf paper', '', ...preamble(r).map((l) => `- ${l}`), ''];
  for (const g of reportGrids(r)) out.push(`## ${gridHeading(g)}`, '', mdTable(g), '');
  const open = openQuestions(r);
  if (open.length) {
    out.push('## What the study left open', '');
    for (const q of open) out.push(`**${mdEscape(q.title)}**`, '', ...q.points.map((p) => `- ${mdEscape(p)}`), ...(q.note ? ['', mdEscape(q.note)] : []), '');
  }
  return out.join('\n');
}

export { csvCell };

/** A CSV number: as is (no rounding beyond the result's own), or an empty cell when missing. */
const csvNum = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '');

/** The CSV columns: one unit per column, named in its header (the grids' row names, in ASCII). */
export const PAPER_CSV_COLUMNS = [
  'table', 'experiment', 'servers', 'side', 'protocol', 'guests', 'responses',
  ...LATENCY_FIGURES.map((f) => `${f.name}_us`),
  'throughput_Mbps', 'throughput_ci95_Mbps', 'udp_sent_Mbps', 'udp_loss_percent', 'compared_to',
  ...['p50', 'throughput'].flatMap((m) => ['ratio', 'ratio_ci95_low', 'ratio_ci95_high', 'n', 'p', 'p_holm', 'verdict'].map((c) => `${m}_${c}`)),
];

function comparisonCsv(c: Comparison | undefined): string[] {
  if (!c) return ['', '', '', '', '', '', ''];
  const v = comparisonView(c);
  return [csvNum(v.ratio), csvNum(v.ci95Low), csvNum(v.ci95High), csvNum(v.n), csvNum(v.p), csvNum(v.pHolm), v.verdict];
}

/**
 * One line per table row: times in µs (ns resolution), throughput in Mbps. A compared row (guest;
 * more guests) carries its comparison against its baseline, a baseline row its A/A control.
 */
export function paperCsv(r: PaperResult): string {
  const lines = [PAPER_CSV_COLUMNS.join(',')];
  for (const t of r.tables) {
    const fewest = Math.min(...t.rows.map((x) => x.guests));
    for (const row of t.rows) {
      const l = rowLatency(r, t, row);
      const tp = rowThroughput(row);
      const udp = rowUdp(row);
      const same = (c: PaperTable['comparisons'][number]) => c.protocol === row.protocol && (t.id === 'table5' ? c.guests === row.guests : c.servers === row.servers);
      const baseline = t.id === 'table5' ? row.guests === fewest : row.side === 'host';
      const mine = t.comparisons.filter((c) => same(c) && !!c.aa === baseline);
      const cmp = (m: Comparison['metric']) => mine.find((c) => c.metric === m);
      const to = !mine.length ? '' : baseline ? 'itself (A/A)' : t.id === 'table5' ? `${fewest} guests` : 'host';
      lines.push([t.id, t.experiment, row.servers, row.side, row.protocol, row.guests, csvNum(l.count),
        ...LATENCY_FIGURES.map((f) => csvUs(l[f.key])),
        csvNum(tp.mean), csvNum(tp.ci95), csvNum(udp?.sentMbps), csvNum(udp?.lossPercent), to,
        ...comparisonCsv(cmp('latency p50')), ...comparisonCsv(cmp('throughput'))].map(csvCell).join(','));
    }
  }
  // paper --rrul: per side and protocol a row alone (table rrul-idle) and one while the bulk
  // streams ran (rrul-loaded, with the bulk rate as its throughput).
  for (const x of r.rrul ?? []) {
    for (const p of ['tcp', 'udp'] as const) {
      for (const [id, part] of [['rrul-idle', x[p].idle], ['rrul-loaded', x[p].loaded]] as const) {
        const l = part.latency;
        lines.push([id, '', '', x.side, p, '', csvNum(l.count), ...LATENCY_FIGURES.map((f) => csvUs(l[f.key])),
          id === 'rrul-loaded' ? csvNum(x.bulk.Mbps) : '', '', '', '', '', ...comparisonCsv(undefined), ...comparisonCsv(undefined)].map(csvCell).join(','));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A grid as CSV, its header as is (the HTML page's per-table download). */
export function gridCsv(g: Grid): string {
  return `${[g.header, ...g.rows].map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}

/** The result object without the bulky per-sample arrays unless asked. */
export function paperJson(r: PaperResult, withSamples = false): string {
  const slim = withSamples ? r : { ...r, measurements: r.measurements.map(({ latencySamplesNs: _drop, ...m }) => m) };
  return `${JSON.stringify(slim, null, 2)}\n`;
}
