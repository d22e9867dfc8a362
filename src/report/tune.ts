// Reports of `umlperf tune`: a terminal table, and a self-contained HTML page with two charts
// (TCP throughput into and out of the guest; TCP and UDP p99 per configuration). Pure
// functions from a TuneResult to text.
import type { TuneResult } from '../tune/run.js';
import type { TuneRow } from '../tune/model.js';
import { barChart } from './svg.js';

const mbps = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)}G` : `${v.toFixed(0)}M`);
const us = (ns: number) => `${(ns / 1000).toFixed(1)}`;

function rowCells(r: TuneRow, i: number): string[] {
  const f = r.figures;
  const mark = r.pareto ? '*' : ' ';
  if (!f) return [`${i + 1}${mark}`, r.knob, r.line, `failed: ${r.error ?? '?'}`];
  return [
    `${i + 1}${mark}`, r.knob, r.line, mbps(f.forwardMbps), mbps(f.reverseMbps), us(f.tcpP50Ns), us(f.tcpP99Ns), us(f.udpP50Ns), us(f.udpP99Ns),
    mbps(f.udpLossFreeMbps), f.guestCpu === undefined ? '-' : f.guestCpu.toFixed(2), r.score === undefined ? '-' : r.score.toFixed(2),
    r.stepScore === undefined ? '-' : r.stepScore.toFixed(2),
  ];
}

const HEAD = ['#', 'knob', '--net', 'TCP in', 'TCP out', 'TCP p50 µs', 'p99', 'UDP p50 µs', 'p99', 'UDP loss-free', 'guest CPU', 'score', 'vs step'];

/** The terminal table, then the summary. */
export function tuneText(r: TuneResult): string {
  const rows = r.rows.map(rowCells);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((c) => (c.length < HEAD.length ? '' : c[i] ?? '').length)));
  const fmt = (c: string[]) => c.map((x, i) => (i <= 2 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ').trimEnd();
  const out = [fmt(HEAD), ...rows.map((c) => (c.length < HEAD.length ? c.join('  ') : fmt(c))), ''];
  return `${[...out, ...tuneSummary(r)].join('\n')}\n`;
}

/** The winner, the knob that mattered most, the confirmation, what was not tried. */
export function tuneSummary(r: TuneResult): string[] {
  const out: string[] = [];
  out.push(`* on the Pareto front (throughput both ways vs the worse of TCP and UDP p99). Score: geometric mean of ratios (TCP in, out, UDP loss-free, 1/TCP p50, 1/UDP p50) to the baseline (row 1), divided by the excess of a p99 over twice the baseline's (at most 4× per protocol); vs step: to the best so far measured again at the start of the step ("again" rows), which decides (≥ 1.10 to adopt).${r.config.responseRuns ? ` p50 and p99: the median over ${r.config.responseRuns} response-time runs per protocol.` : ''}`);
  out.push(r.config.udpLossFree === 'one-way'
    ? `UDP loss-free: the highest rate of ${r.config.udpDatagram === 'mtu' ? 'datagrams of the configuration\'s MTU - 28 bytes (1472 at 1500)' : '1472-byte datagrams'} into the guest's discard service with loss under 0.1%, as the receiver counted it (RFC 2544 search, one way).`
    : 'UDP loss-free: the highest rate with loss under 0.1% through the guest\'s echo service (both ways: what this result\'s version measured).');
  if (r.mattered) out.push(`The knob that mattered most: ${r.mattered.knob} (scores spread ${r.mattered.spread.toFixed(2)}×).`);
  const c = r.confirmation;
  if (c) {
    out.push(`Confirmation, ${c.roundScores.length} round(s), winner vs ${c.reference.line}: score ${c.roundScores.map((s) => s.toFixed(2)).join(', ')} — ${c.clear ? 'a clear gain' : 'NOT a clear gain on this machine (each round must be ≥ 1.10)'}.`);
    for (const who of ['reference', 'winner'] as const) {
      const side = c[who];
      side.figures.forEach((f, i) => {
        const h = side.host[i];
        if (!h) return;
        out.push(`  ${who.padEnd(9)} guest/host TCP in ${(f.forwardMbps / h.forwardMbps).toFixed(2)}, out ${(f.reverseMbps / h.reverseMbps).toFixed(2)}, TCP p50 ${(f.tcpP50Ns / h.tcpP50Ns).toFixed(2)}× host, UDP loss-free ${mbps(f.udpLossFreeMbps)}`);
      });
    }
  } else out.push(`The reference (${r.config.reference}) stays the best configuration.`);
  for (const s of r.skipped) out.push(`not tried: ${s}`);
  if (r.truncated) out.push('The sweep ran out of its time budget before every knob was tried.');
  out.push(`load average ${r.config.loadAverage.join(' ')} on ${r.config.cpus} CPUs; ${(r.durationMs / 1000).toFixed(0)} s`);
  out.push(`Use: umlperf lab up --net ${r.winner.line}`);
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One self-contained page: the charts, then the table (no scripts, no external files). */
export function tuneHtml(r: TuneResult): string {
  const ok = r.rows.map((row, i) => ({ row, i })).filter((x) => x.row.figures);
  const group = (i: number) => `#${i + 1}`;
  const tput = barChart('TCP throughput per configuration', ok.flatMap(({ row, i }) => [
    { group: group(i), name: 'into guest (Mbps)', color: '#1f77b4', value: row.figures!.forwardMbps, ci: 0 },
    { group: group(i), name: 'out of guest (Mbps)', color: '#ff7f0e', value: row.figures!.reverseMbps, ci: 0 },
  ]), 'Mbit/s');
  const p99 = barChart('Response time p99 per configuration', ok.flatMap(({ row, i }) => [
    { group: group(i), name: 'TCP p99 (µs)', color: '#2ca02c', value: row.figures!.tcpP99Ns / 1000, ci: 0 },
    { group: group(i), name: 'UDP p99 (µs)', color: '#d62728', value: row.figures!.udpP99Ns / 1000, ci: 0 },
  ]), 'µs');
  const cells = r.rows.map((row, i) => `<tr${row.pareto ? ' class="pareto"' : ''}>${rowCells(row, i).map((c, j) => `<td${j === 2 ? ' class="line"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  const text = tuneSummary(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>umlperf tune</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1rem; max-width: 100%; box-sizing: border-box; }
figure { margin: 1rem 0; max-width: 100%; }
figure svg { max-width: 100%; height: auto; }
.table { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.85rem; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
td.line { text-align: left; word-break: break-all; max-width: 22rem; }
tr.pareto { background: #eef6ee; }
</style></head><body>
<h1>umlperf tune</h1>
<p>Started ${esc(r.startedAt)}; ${r.config.quick ? 'quick' : 'full'} sweep; load average ${esc(r.config.loadAverage.join(' '))} on ${r.config.cpus} CPUs. Winner: <code>--net ${esc(r.winner.line)}</code>.</p>
<figure>${tput}</figure>
<figure>${p99}</figure>
<div class="table"><table>
<thead><tr>${HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${cells}
</tbody></table></div>
${text.map((l) => `<p>${esc(l)}</p>`).join('\n')}
</body></html>
`;
}
