// Terminal reports of probe results: pure functions from results to text.
import type { ConnectionRateResult, ResponseTimeResult, StreamingResult, ThroughputResult } from '../probes.js';
import type { LatencyUnderLoadResult } from '../rrul.js';
import { meanCi } from '../stats.js';
import { mbps, pct, table, timeIn, timeText, timeUnit } from './table.js';

/** Columns of times in ns: one unit per column, named in its header; three significant digits. */
function timeCols(names: string[], rows: (number | null | undefined)[][]): { header: string[]; cells: string[][] } {
  const units = names.map((_, j) => timeUnit(rows.map((r) => r[j])));
  return { header: names.map((n, j) => `${n} (${units[j]})`), cells: rows.map((r) => r.map((v, j) => timeIn(v, units[j]))) };
}

type Result = ResponseTimeResult | ThroughputResult | StreamingResult | ConnectionRateResult | LatencyUnderLoadResult;

function clockLine(r: Result): string {
  const c = r.clock;
  return `clock ${c.source}: resolution ${c.resolutionNs.toFixed(3)} ns, ${c.overheadNs.toFixed(1)} ns per timestamp`;
}

export function responseReport(runs: ResponseTimeResult[]): string {
  const f = runs[0];
  const c = f.config;
  const head = `response time: ${c.protocol.toUpperCase()} ${c.size} B to ${c.peer}${c.netns ? ` (netns ${c.netns})` : ''}, wait ${c.wait}, ${c.iterations} requests per run (+${c.warmup} warm-up)`;
  const t = timeCols(['min', 'mean', 'max', 'p50', 'p90', 'p99', 'p99.9', 'stddev', '±95% CI'],
    runs.map(({ latency: s }) => [s.minNs, s.meanNs, s.maxNs, s.p50Ns, s.p90Ns, s.p99Ns, s.p999Ns, s.stddevNs, s.ci95Ns]));
  const rows = runs.map((r, i) => [`run ${i + 1}`, ...t.cells[i], `${r.lost}`]);
  const lines = [head, clockLine(f), table(['run', ...t.header, 'lost'], rows)];
  const lost = runs.reduce((a, r) => a + r.lost, 0);
  const sent = runs.reduce((a, r) => a + r.sent, 0);
  const rate = runs.reduce((a, r) => a + r.requestsPerSecond, 0) / runs.length;
  lines.push(`answered ${sent - lost} of ${sent}, lost ${lost} (${pct(sent ? (100 * lost) / sent : 0)}), ${Math.round(rate)} requests/s`);
  if (runs.length > 1) {
    const p50 = meanCi(runs.map((r) => r.latency.p50Ns));
    lines.push(`p50 over ${runs.length} runs: ${timeText(p50.mean)} ± ${timeText(p50.ci95)} (95% CI)`);
  }
  return lines.join('\n');
}

export function throughputReport(runs: ThroughputResult[]): string {
  const f = runs[0];
  const c = f.config;
  const what = c.bytes !== null ? `${c.bytes} bytes` : `${c.durationS} s`;
  const way = c.direction === 'receive' ? 'from' : c.direction === 'both' ? 'to and from' : 'to';
  const streams = c.parallel > 1 ? `, ${c.parallel} streams${c.direction === 'both' ? ' each way' : ''}` : '';
  const head = `throughput: ${c.protocol.toUpperCase()} ${way} ${c.peer}${c.netns ? ` (netns ${c.netns})` : ''}, ${c.size} B per ${c.protocol === 'udp' ? 'datagram' : c.direction === 'receive' ? 'read' : 'write'}${streams}, ${what} per run, wait ${c.wait}`;
  const rows = runs.map((r, i) => [
    `run ${i + 1}`,
    // A receiver that did not confirm (a standard discard over UDP, or a blackhole) gives no rate.
    r.receiverConfirmed ? mbps(r.Mbps) : 'unconfirmed',
    r.sent === null ? '-' : mbps(r.sentMbps),
    `${r.bytes}`,
    (r.durationNs / 1e9).toFixed(6),
    r.lossPercent === null ? '-' : pct(r.lossPercent),
    r.receiverConfirmed ? 'yes' : 'no',
    ...(c.protocol === 'udp' ? [r.reordered === null || r.reordered === undefined ? '-' : `${r.reordered}`] : []),
  ]);
  const udpCols = c.protocol === 'udp' ? ['reordered'] : [];
  const lines = [head, clockLine(f)];
  for (const [i, r] of runs.entries()) if (r.search) lines.push(...searchLines(i, r.search, 'one way, loss as the receiver counted it'));
  if (runs.some((r) => r.search)) lines.push('each run\'s best passing trial (its first when none passed):');
  lines.push(table(['', 'Mbps', 'sent Mbps', 'bytes', 'seconds', 'loss', 'receiver confirmed', ...udpCols], rows));
  for (const [i, r] of runs.entries()) {
    const dirs = [r.sent && (['sent', r.sent] as const), r.received && (['received', r.received] as const)].filter((x) => !!x);
    if (dirs.length > 1 || dirs.some(([, d]) => d.streams.length > 1)) {
      const rows2: string[][] = [];
      for (const [name, d] of dirs) {
        if (d.streams.length > 1)
          d.streams.forEach((s, j) => rows2.push([`${name} ${j + 1}`, mbps(s.Mbps), `${s.bytes}`, (s.durationNs / 1e9).toFixed(6), s.retransmits === null ? '-' : `${s.retransmits}`]));
        rows2.push([`${name}${d.streams.length > 1 ? ' total' : ''}`, mbps(d.Mbps), `${d.bytes}`, (d.durationNs / 1e9).toFixed(6), d.retransmits === null ? '-' : `${d.retransmits}`]);
      }
      lines.push(`run ${i + 1} by stream:`, table(['', 'Mbps', 'bytes', 'seconds', 'retransmits'], rows2));
    }
    if (r.intervals) {
      const lostCol = r.intervals.some((v) => v.lost !== undefined);
      lines.push(`run ${i + 1} by interval:`, table(['seconds', 'Mbps', 'bytes', 'retransmits', ...(lostCol ? ['lost'] : [])], r.intervals.map((v) => [
        `${(v.startNs / 1e9).toFixed(2)}-${(v.endNs / 1e9).toFixed(2)}`, mbps(v.Mbps), `${v.bytes}`, v.retransmits === undefined ? '-' : `${v.retransmits}`,
        ...(lostCol ? [v.lost === undefined ? '-' : `${v.lost}`] : []),
      ])));
    }
  }
  const confirmed = runs.filter((r) => r.receiverConfirmed);
  if (confirmed.length > 1) {
    const t = meanCi(confirmed.map((r) => r.Mbps));
    lines.push(`mean over ${confirmed.length} runs the receiver confirmed: ${mbps(t.mean)} ± ${mbps(t.ci95)} Mbps (95% CI)`);
  }
  if (runs.some((r) => !r.receiverConfirmed)) {
    lines.push(c.protocol === 'udp'
      ? 'unconfirmed by the receiver: it did not report its count (a standard discard service, or nothing listening): only what was sent is known'
      : 'the receiver did not close after our FIN: figures are what was sent');
  }
  return lines.join('\n');
}

/** A rate search's trials and its outcome. */
function searchLines(i: number, s: NonNullable<StreamingResult['search']>, how?: string): string[] {
  return [
    `run ${i + 1}: search for the highest rate with loss ≤ ${s.lossThresholdPercent}%${how ? ` (${how})` : ''}`,
    table(['trial', 'target Mbps', 'sent Mbps', 'received Mbps', 'loss', 'pass'],
      s.trials.map((t, j) => [`${j + 1}`, t.targetRateMbps ? mbps(t.targetRateMbps) : 'unpaced', mbps(t.sentMbps), mbps(t.receivedMbps), pct(t.lossPercent), t.pass ? 'yes' : 'no'])),
    `highest rate under the threshold: ${mbps(s.maxRateMbps)} Mbps`,
  ];
}

export function streamReport(runs: StreamingResult[]): string {
  const f = runs[0];
  const c = f.config;
  const rate = f.search ? 'rate searched' : c.targetRateMbps > 0 ? `${mbps(c.targetRateMbps)} Mbps` : 'unpaced';
  const head = `streaming: UDP ${c.size} B through echo at ${c.peer}${c.netns ? ` (netns ${c.netns})` : ''}, ${rate}, ${c.durationS} s, wait ${c.wait}`;
  const lines = [head, clockLine(f)];
  for (const [i, r] of runs.entries()) {
    if (r.search) lines.push(...searchLines(i, r.search));
  }
  const t = timeCols(['jitter', 'rtt p50', 'rtt p99'], runs.map((r) => [r.jitterNs, r.latency.p50Ns, r.latency.p99Ns]));
  const rows = runs.map((r, i) => [
    `run ${i + 1}`, `${r.sent}`, `${r.received}`, `${r.lost}`, pct(r.lossPercent), `${r.duplicates}`, `${r.reordered}`,
    t.cells[i][0], mbps(r.sentMbps), mbps(r.receivedMbps), t.cells[i][1], t.cells[i][2],
  ]);
  lines.push(table(['run', 'sent', 'received', 'lost', 'loss', 'dup', 'reordered', t.header[0], 'sent Mbps', 'recv Mbps', t.header[1], t.header[2]], rows));
  return lines.join('\n');
}

export function crrReport(runs: ConnectionRateResult[]): string {
  const f = runs[0];
  const c = f.config;
  // Results saved before the transaction service were all against an echo.
  const echo = (c.service ?? 'echo') === 'echo';
  const sizes = echo ? `${c.size} B request/response` : `${c.size} B request, ${c.responseSize ?? c.size} B response`;
  const service = echo ? 'an echo, we close first' : 'a transaction session, the server closes first';
  const head = `connection rate: TCP ${sizes} to ${c.peer}${c.netns ? ` (netns ${c.netns})` : ''} (${service}), connect + request + response + close, ${c.transactions} per run (+${c.warmup} warm-up), wait ${c.wait}`;
  const t = timeCols(['min', 'mean', 'p50', 'p90', 'p99', 'max'], runs.map(({ latency: s }) => [s.minNs, s.meanNs, s.p50Ns, s.p90Ns, s.p99Ns, s.maxNs]));
  const rows = runs.map((r, i) => [`run ${i + 1}`, `${Math.round(r.transactionsPerSecond)}`, ...t.cells[i]]);
  const lines = [head, clockLine(f), table(['run', 'transactions/s', ...t.header], rows)];
  if (runs.length > 1) {
    const t = meanCi(runs.map((r) => r.transactionsPerSecond));
    lines.push(`mean over ${runs.length} runs: ${Math.round(t.mean)} ± ${Math.round(t.ci95)} transactions/s (95% CI)`);
  }
  return lines.join('\n');
}

export function rrulReport(runs: LatencyUnderLoadResult[]): string {
  const f = runs[0];
  const c = f.config;
  const lines = [
    `latency under load: ${c.host}${c.netns ? ` (netns ${c.netns})` : ''}, echo ${c.echoPort}, ${c.streams} bulk TCP streams each way (discard ${c.discardPort}, chargen ${c.sourcePort}) for ${c.durationS} s, ${c.iterations} requests of ${c.size} B every ${c.intervalMs} ms per phase, wait ${c.wait}`,
    clockLine(f),
  ];
  const labels: string[] = [];
  const times: (number | null)[][] = [];
  const lost: string[] = [];
  const ratios: string[][] = [];
  for (const [i, r] of runs.entries()) {
    for (const proto of ['tcp', 'udp'] as const) {
      const x = r[proto];
      for (const ph of ['idle', 'loaded'] as const) {
        const l = x[ph].latency;
        labels.push(`run ${i + 1} ${proto.toUpperCase()} ${ph}`);
        times.push([l.p50Ns, l.p90Ns, l.p99Ns, l.maxNs]);
        lost.push(`${x[ph].lost}`);
      }
      ratios.push([`run ${i + 1} ${proto.toUpperCase()} loaded/idle`, `${x.p50Ratio.toFixed(2)}x`, `${x.p99Ratio.toFixed(2)}x`]);
    }
  }
  const t = timeCols(['p50', 'p90', 'p99', 'max'], times);
  lines.push(table(['', ...t.header, 'lost'], t.cells.map((c, k) => [labels[k], ...c, lost[k]])));
  lines.push(table(['', 'p50 ratio', 'p99 ratio'], ratios));
  for (const [i, r] of runs.entries()) {
    lines.push(`run ${i + 1} bulk: ${mbps(r.bulk.Mbps)} Mbps (up ${mbps(r.bulk.sentMbps)}, down ${mbps(r.bulk.receivedMbps)})${r.bulk.retransmits === null ? '' : `, ${r.bulk.retransmits} retransmits`}`);
    if (!r.latencyDuringLoad) lines.push(`run ${i + 1}: the loaded requests outlasted the bulk load (the last ones saw less load): give a longer --duration or a shorter --request-interval`);
  }
  return lines.join('\n');
}
