// Renderings of a PaperResult: terminal tables, Markdown, CSV, JSON. (HTML: paper-html.ts.)
import type { PaperResult } from '../paper/model.js';
import { openQuestionLines, paperGrids, type Grid } from './paper-grid.js';
import { table } from './table.js';

function preamble(r: PaperResult): string[] {
  const c = r.config;
  return [
    `umlperf paper: the study's experiments on ${c.kernel}, transport ${c.transport}, image ${c.image}`,
    `${c.runs} blocks per figure${c.ciTargetPercent ? ` (adaptive: up to ${c.maxRuns}, until every ratio's CI is within ±${c.ciTargetPercent}%)` : ''}, sides in random order per block (seed ${c.seed ?? '-'}), an A/A control per experiment; response ${c.responseSizeBytes} B × ${c.responseIterations}; throughput ${c.throughputSeconds} s per block (UDP ${c.udpDatagramBytes} B datagrams, unpaced)`,
    `probes on CPU ${c.probeCpu ?? 'any'}, guests and servers on CPU ${c.labCpus ?? 'any'}`,
    `clock ${r.clock.source}: resolution ${r.clock.resolutionNs.toFixed(3)} ns, ${r.clock.overheadNs.toFixed(1)} ns per timestamp (Qcheck: 1 ms)`,
    'mail is Postfix in the role qmail had in the study (qmail is not packaged for current Debian)',
    ...(c.experiments.includes(2) ? ['experiment 2 runs on the Debian image with 128M guests; its "no server" rows are the baseline for the servers'] : []),
    ...(r.complete ? [] : [`INCOMPLETE: ${r.error ?? 'stopped part-way'}; everything below was measured`]),
    ...(r.warnings ?? []).map((w) => `warning: ${w}`),
    ...driftLines(r),
  ];
}

/** The drift watch, as hyperfine warns of outliers: which blocks ran while the machine itself moved. */
export function driftLines(r: PaperResult): string[] {
  const d = r.drift;
  if (!d || !d.series?.length) return [];
  const ref = `loopback reference ${(d.medianReferenceP50Ns / 1e3).toPrecision(3)} µs (median of ${d.series.length} blocks)`;
  if (!d.flagged.length) return [`drift watch: ${ref}; no block strayed beyond ±${d.thresholdPercent}%`];
  return [
    `warning: the machine drifted: ${d.flagged.length} of ${d.series.length} blocks had the ${ref} off by more than ±${d.thresholdPercent}%; figures measured then are suspect:`,
    ...d.flagged.map((f) => `  ${f.step}, block ${f.block + 1}: reference ${f.deviationPercent >= 0 ? '+' : ''}${f.deviationPercent.toFixed(0)}%`),
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
  if (!r.rrul?.length) return [];
  const us = (ns: number) => (ns / 1e3).toFixed(1);
  const rows = r.rrul.flatMap((x) =>
    (['tcp', 'udp'] as const).map((p) => [
      x.side,
      p.toUpperCase(),
      us(x[p].idle.latency.p50Ns),
      us(x[p].loaded.latency.p50Ns),
      us(x[p].idle.latency.p99Ns),
      us(x[p].loaded.latency.p99Ns),
      x.bulk.Mbps.toFixed(0),
    ]),
  );
  return ['', `Latency under load (RRUL): ${r.rrul[0].streams} bulk TCP streams each way for ${r.rrul[0].durationS} s`, table(['side', 'proto', 'p50 idle µs', 'p50 loaded µs', 'p99 idle µs', 'p99 loaded µs', 'bulk Mbps'], rows, 2)];
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');
export function mdTable(g: Grid): string {
  const head = `| ${g.header.map(mdEscape).join(' | ')} |`;
  const sep = `|${g.header.map(() => '---').join('|')}|`;
  return [head, sep, ...g.rows.map((row) => `| ${row.map(mdEscape).join(' | ')} |`)].join('\n');
}

export function paperMarkdown(r: PaperResult): string {
  const out = ['# umlperf paper', '', ...preamble(r).map((l) => `- ${l}`), ''];
  for (const g of paperGrids(r)) out.push(`## ${g.id.replace('table', 'Table ')}. ${g.title}`, '', mdTable(g), '');
  const open = openQuestionLines(r);
  if (open.length) out.push('## What the study left open', '', '```', ...open, '```', '');
  return out.join('\n');
}

export const csvCell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Three decimals, or an empty cell for a figure that is missing (null in a saved result). */
const num3 = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '');

/** One line per table row; integer ns and Mbps, ready for a spreadsheet. */
export function paperCsv(r: PaperResult): string {
  const cols = ['table', 'experiment', 'side', 'protocol', 'servers', 'guests', 'minNs', 'meanNs', 'maxNs', 'p50Ns', 'p99Ns', 'throughputMbps', 'throughputCi95Mbps', 'udpSentMbps', 'udpLossPercent'];
  const lines = [cols.join(',')];
  for (const t of r.tables) {
    for (const row of t.rows) {
      lines.push([t.id, t.experiment, row.side, row.protocol, row.servers, row.guests, row.latency.minNs, row.latency.meanNs, row.latency.maxNs, row.latency.p50Ns, row.latency.p99Ns, num3(row.throughputMbps.mean), num3(row.throughputMbps.ci95), num3(row.udp?.sentMbps), num3(row.udp?.lossPercent)].map(csvCell).join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The result object without the bulky per-sample arrays unless asked. */
export function paperJson(r: PaperResult, withSamples = false): string {
  const slim = withSamples ? r : { ...r, measurements: r.measurements.map(({ latencySamplesNs: _drop, ...m }) => m) };
  return `${JSON.stringify(slim, null, 2)}\n`;
}
