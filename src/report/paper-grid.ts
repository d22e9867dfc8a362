// The study's tables as grids of strings, shared by the terminal and Markdown renderers:
// rows Response / Throughput, columns hostOS / guestOS (Table 5: hostOS TCP / hostOS UDP),
// response in ms with µs decimals, plus what the study lacked: p50, p99, CIs, ratios, verdicts.
import { SERVER_LABEL, type Comparison, type PaperResult, type PaperTable, type TableRow } from '../paper/model.js';
import { fixed, ms } from './table.js';

export interface Grid {
  id: string;
  title: string;
  header: string[];
  rows: string[][];
}

const triple = (r: TableRow) => `${ms(r.latency.minNs)}, ${ms(r.latency.meanNs)}, ${ms(r.latency.maxNs)}`;
const tails = (r: TableRow) => `${ms(r.latency.p50Ns)}, ${ms(r.latency.p99Ns)}`;
const tput = (r: TableRow) => `${fixed(r.throughputMbps.mean, 3)} ± ${fixed(r.throughputMbps.ci95, 3)}`;
const udpLine = (r: TableRow) => (r.udp ? `${fixed(r.udp.sentMbps, 3)} sent, ${fixed(r.udp.lossPercent, 2)}% lost` : '');
// A saved result holds NaN as null.
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const pText = (p: number) => (p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

/** The ratio with its 95% CI, and the verdict with Holm's p (and the A/A floor it was read against). */
function verdict(c: Comparison | undefined): [string, string] {
  if (!c) return ['', ''];
  const ci = finite(c.ci95Low) && finite(c.ci95High) ? ` [${fixed(c.ci95Low, 3)}, ${fixed(c.ci95High, 3)}]` : '';
  const p = finite(c.pHolm) ? ` (Holm p=${pText(c.pHolm)})` : finite(c.p) ? ` (p=${pText(c.p)})` : '';
  const floor = c.verdict === 'no effect beyond noise' && finite(c.floorPercent) ? ` (±${fixed(c.floorPercent, 1)}%)` : '';
  return [`${fixed(c.ratio, 3)}${ci}`, `${c.verdict}${floor}${p}`];
}

function hostGuest(t: PaperTable, runs: number): Grid {
  const proto = t.rows[0]?.protocol.toUpperCase() ?? '';
  const header = ['', '', `hostOS ${proto}`, `guestOS ${proto}`, 'guest/host [95% CI]', 'verdict'];
  const rows: string[][] = [];
  const servers = [...new Set(t.rows.map((r) => r.servers))];
  for (const s of servers) {
    const h = t.rows.find((r) => r.servers === s && r.side === 'host');
    const g = t.rows.find((r) => r.servers === s && r.side === 'guest');
    if (!h || !g) continue;
    const label = t.experiment === 2 ? (s === 'none' ? 'no server' : SERVER_LABEL[s]) : '';
    const cr = t.comparisons.find((c) => c.servers === s && c.metric === 'latency p50' && !c.aa);
    const ct = t.comparisons.find((c) => c.servers === s && c.metric === 'throughput' && !c.aa);
    const ar = t.comparisons.find((c) => c.servers === s && c.metric === 'latency p50' && c.aa);
    const at = t.comparisons.find((c) => c.servers === s && c.metric === 'throughput' && c.aa);
    rows.push([label, 'Response min, avg, max (ms)', triple(h), triple(g), '', '']);
    rows.push(['', 'Response p50, p99 (ms)', tails(h), tails(g), ...verdict(cr)]);
    rows.push(['', 'Throughput (Mbps, ±95% CI)', tput(h), tput(g), ...verdict(ct)]);
    if (h.udp && g.udp) rows.push(['', 'UDP sent (Mbps), loss', udpLine(h), udpLine(g), '', '']);
    if (ar) rows.push(['', 'A/A control: response p50, host/host', '', '', ...verdict(ar)]);
    if (at) rows.push(['', 'A/A control: throughput, host/host', '', '', ...verdict(at)]);
  }
  return { id: t.id, title: `${t.title} (${runs} blocks each)`, header, rows };
}

function guestsGrid(t: PaperTable, runs: number): Grid {
  const header = ['guests', '', 'hostOS TCP', 'hostOS UDP', 'TCP vs fewest', 'UDP vs fewest'];
  const rows: string[][] = [];
  const counts = [...new Set(t.rows.map((r) => r.guests))].sort((a, b) => a - b);
  for (const n of counts) {
    const tcp = t.rows.find((r) => r.guests === n && r.protocol === 'tcp');
    const udp = t.rows.find((r) => r.guests === n && r.protocol === 'udp');
    const cmp = (p: string, m: string) => {
      const c = t.comparisons.find((x) => x.guests === n && x.protocol === p && x.metric === m && !x.aa);
      return c ? verdict(c).join(', ') : '';
    };
    const aaCell = (p: string, m: string) => {
      const c = t.comparisons.find((x) => x.guests === n && x.protocol === p && x.metric === m && x.aa);
      return c ? verdict(c).join(', ') : '';
    };
    rows.push([String(n), 'Response min, avg, max (ms)', tcp ? triple(tcp) : '', udp ? triple(udp) : '', '', '']);
    rows.push(['', 'Response p50, p99 (ms)', tcp ? tails(tcp) : '', udp ? tails(udp) : '', cmp('tcp', 'latency p50'), cmp('udp', 'latency p50')]);
    rows.push(['', 'Throughput (Mbps, ±95% CI)', tcp ? tput(tcp) : '', udp ? tput(udp) : '', cmp('tcp', 'throughput'), cmp('udp', 'throughput')]);
    if (udp?.udp) rows.push(['', 'UDP sent (Mbps), loss', '', udpLine(udp), '', '']);
    for (const m of ['latency p50', 'throughput']) {
      if (aaCell('tcp', m) || aaCell('udp', m)) rows.push(['', `A/A control: ${m}, host/host`, '', '', aaCell('tcp', m), aaCell('udp', m)]);
    }
  }
  return { id: t.id, title: `${t.title} (${runs} blocks each)`, header, rows };
}

export function paperGrids(r: PaperResult): Grid[] {
  return r.tables.map((t) => (t.id === 'table5' ? guestsGrid(t, r.config.runs) : hostGuest(t, r.config.runs)));
}

/** The answers to what the study left open, as plain sentences. */
export function openQuestionLines(r: PaperResult): string[] {
  const q = r.openQuestions;
  const lines: string[] = [];
  if (q.udpVsTcp.length) {
    lines.push('UDP vs TCP ("TCP faster but unstable, UDP slower but stable"):');
    for (const u of q.udpVsTcp) {
      const free = finite(u.lossFreeRateMbps) ? `; highest rate with < 0.1% loss: ${u.lossFreeRateMbps.toFixed(1)} Mbps` : '';
      lines.push(`  ${u.side}: TCP ${fixed(u.tcpMbps, 1)} Mbps; UDP sent unpaced at ${fixed(u.udpSentMbps, 1)} Mbps, ${fixed(u.udpLossPercent, 1)}% lost, ${fixed(u.udpReceivedMbps, 1)} Mbps arrived${free}`);
    }
    lines.push('  An unpaced UDP sender outruns the receiver and what arrives is capped by loss, not by the');
    lines.push('  link: the "stable" UDP figure is the receiver\'s ceiling. Compare the loss-free rate.');
  }
  if (q.namedCost.length) {
    lines.push('What running named costs (throughput, named running vs no server, both on the Debian image):');
    for (const n of q.namedCost) {
      const sign = (v: number) => `${v >= 0 ? '+' : ''}${fixed(v, 1)}%`;
      const ci = finite(n.changeCi95LowPercent) && finite(n.changeCi95HighPercent) ? ` [${sign(n.changeCi95LowPercent)}, ${sign(n.changeCi95HighPercent)}]` : '';
      const floor = n.verdict === 'no effect beyond noise' && finite(n.floorPercent) ? ` (±${fixed(n.floorPercent, 1)}%)` : '';
      const p = finite(n.pHolm) ? `, Holm p=${n.pHolm.toFixed(4)}` : '';
      const verdict = n.verdict ?? (finite(n.p) ? `p=${n.p.toFixed(4)}` : 'too few runs');
      lines.push(`  ${n.side} ${n.protocol.toUpperCase()}: ${fixed(n.noneMbps, 1)} → ${fixed(n.namedMbps, 1)} Mbps (${sign(n.changePercent)}${ci}; ${verdict}${floor}${p})`);
    }
  }
  if (q.hostVsGuests.length) {
    lines.push('The host against the number of guests running:');
    for (const h of q.hostVsGuests) {
      lines.push(`  ${h.protocol.toUpperCase()} with ${h.guests} guest(s): p50 ${ms(h.p50Ns)} ms, ${fixed(h.Mbps, 1)} Mbps`);
    }
  }
  return lines;
}
