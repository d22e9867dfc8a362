// The study's tables as grids of strings, shared by the terminal, Markdown and HTML renderers:
// the study's layout (hostOS / guestOS side by side; Table 5: hostOS TCP / hostOS UDP against the
// guests running), one figure per row, its unit in the row's name, plus what the study lacked:
// every percentile, counts, CIs, paired ratios, p and verdicts. Row names match the CSV columns
// (`p99 (µs)` here is `p99_us` there).
import { SERVER_LABEL, type Comparison, type PaperResult, type PaperTable, type TableRow } from '../paper/model.js';
import { comparisonView, rowLatency, rowThroughput, rowUdp, type LatencyView } from './fields.js';
import { fixed, sig3, timeIn, timeText, timeUnit } from './table.js';

export interface Grid {
  id: string;
  title: string;
  header: string[];
  rows: string[][];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A p-value: four decimals, or two significant digits in exponent form below 0.0001. */
export const pText = (p: number | null | undefined): string => (!finite(p) ? '-' : p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

/** The latency figures in the order shown, with their CSV stem. */
export const LATENCY_FIGURES: readonly { key: keyof LatencyView; name: string }[] = [
  { key: 'minNs', name: 'min' },
  { key: 'meanNs', name: 'mean' },
  { key: 'p50Ns', name: 'p50' },
  { key: 'p90Ns', name: 'p90' },
  { key: 'p99Ns', name: 'p99' },
  { key: 'p999Ns', name: 'p99.9' },
  { key: 'maxNs', name: 'max' },
];

/** The comparison columns of tables 1-4. */
export const COMPARISON_HEADER = ['ratio', 'ratio 95% CI', 'n (blocks)', 'p (Holm)', 'verdict'];

/** Holm's p, or the unadjusted p marked as such, or '-'. */
function pCell(c: ReturnType<typeof comparisonView>): string {
  return finite(c.pHolm) ? pText(c.pHolm) : finite(c.p) ? `${pText(c.p)} (unadjusted)` : '-';
}

function verdictWords(c: ReturnType<typeof comparisonView>): string {
  return c.verdict === 'no effect beyond noise' && finite(c.floorPercent) ? `${c.verdict} (±${fixed(c.floorPercent, 1)}%)` : c.verdict;
}

/** A comparison as the five comparison cells (empty when there is none). */
export function comparisonCells(cmp: Comparison | undefined): string[] {
  if (!cmp) return ['', '', '', '', ''];
  const c = comparisonView(cmp);
  const ci = finite(c.ci95Low) && finite(c.ci95High) ? `[${sig3(c.ci95Low)}, ${sig3(c.ci95High)}]` : '-';
  return [sig3(c.ratio), ci, finite(c.n) ? String(c.n) : '-', pCell(c), verdictWords(c)];
}

/** A comparison in one cell (Table 5 has two protocols side by side). */
function comparisonText(cmp: Comparison | undefined): string {
  if (!cmp) return '';
  const [ratio, ci, n, p, verdict] = comparisonCells(cmp);
  return [ci === '-' ? ratio : `${ratio} ${ci}`, `n ${n}`, p === '-' ? '' : `p ${p}`, verdict].filter(Boolean).join('; ');
}

const countCell = (l: LatencyView) => (finite(l.count) ? String(l.count) : '-');
const tputCell = (row: TableRow) => {
  const t = rowThroughput(row);
  return finite(t.mean) ? `${sig3(t.mean)} ± ${sig3(t.ci95)}` : '-';
};

/** Rows of figures for columns of table rows (host, guest; or TCP, UDP), each with `extra` cells. */
function figureRows(first: string, cols: (TableRow | undefined)[], lat: (LatencyView | undefined)[], extra: (name: string) => string[]): string[][] {
  const out: string[][] = [];
  const cell = (i: number, f: (row: TableRow, l: LatencyView) => string) => (cols[i] && lat[i] ? f(cols[i]!, lat[i]!) : '');
  const push = (name: string, cells: string[], key: string) => out.push([out.length ? '' : first, name, ...cells, ...extra(key)]);
  push('responses (n)', cols.map((_, i) => cell(i, (_r, l) => countCell(l))), 'count');
  for (const f of LATENCY_FIGURES) {
    const u = timeUnit(lat.map((l) => l?.[f.key]));
    push(`${f.name} (${u})`, cols.map((_, i) => cell(i, (_r, l) => timeIn(l[f.key], u))), f.name);
  }
  push('throughput ± 95% CI (Mbps)', cols.map((_, i) => cell(i, (r) => tputCell(r))), 'throughput');
  if (cols.some((r) => r?.udp)) {
    push('UDP sent (Mbps)', cols.map((_, i) => cell(i, (r) => (rowUdp(r) ? sig3(rowUdp(r)!.sentMbps) : ''))), 'udp sent');
    push('UDP loss (%)', cols.map((_, i) => cell(i, (r) => (rowUdp(r) ? sig3(rowUdp(r)!.lossPercent) : ''))), 'udp loss');
  }
  return out;
}

const metricOf = (key: string): Comparison['metric'] | undefined => (key === 'p50' ? 'latency p50' : key === 'throughput' ? 'throughput' : undefined);

function hostGuest(r: PaperResult, t: PaperTable): Grid {
  const proto = t.rows[0]?.protocol.toUpperCase() ?? '';
  const header = ['servers', 'figure', `hostOS ${proto}`, `guestOS ${proto}`, ...COMPARISON_HEADER];
  const rows: string[][] = [];
  const servers = [...new Set(t.rows.map((x) => x.servers))];
  for (const s of servers) {
    const h = t.rows.find((x) => x.servers === s && x.side === 'host');
    const g = t.rows.find((x) => x.servers === s && x.side === 'guest');
    if (!h || !g) continue;
    const find = (metric: string, aa: boolean) => t.comparisons.find((c) => c.servers === s && c.metric === metric && !!c.aa === aa);
    const label = s === 'none' ? 'none' : SERVER_LABEL[s];
    rows.push(...figureRows(label, [h, g], [rowLatency(r, t, h), rowLatency(r, t, g)], (key) => comparisonCells(metricOf(key) && find(metricOf(key)!, false))));
    for (const m of ['latency p50', 'throughput'] as const) {
      const aa = find(m, true);
      if (aa) rows.push(['', `A/A control: ${m}, host/host`, '', '', ...comparisonCells(aa)]);
    }
  }
  return { id: t.id, title: `${t.title} (${r.config.runs} blocks each)`, header, rows };
}

function guestsGrid(r: PaperResult, t: PaperTable): Grid {
  const header = ['guests', 'figure', 'hostOS TCP', 'hostOS UDP', 'TCP vs fewest guests: ratio [95% CI]; n; p (Holm); verdict', 'UDP vs fewest guests: ratio [95% CI]; n; p (Holm); verdict'];
  const rows: string[][] = [];
  const counts = [...new Set(t.rows.map((x) => x.guests))].sort((a, b) => a - b);
  for (const n of counts) {
    const tcp = t.rows.find((x) => x.guests === n && x.protocol === 'tcp');
    const udp = t.rows.find((x) => x.guests === n && x.protocol === 'udp');
    const find = (p: string, m: string, aa: boolean) => t.comparisons.find((x) => x.guests === n && x.protocol === p && x.metric === m && !!x.aa === aa);
    rows.push(...figureRows(String(n), [tcp, udp], [tcp && rowLatency(r, t, tcp), udp && rowLatency(r, t, udp)], (key) => {
      const m = metricOf(key);
      return m ? [comparisonText(find('tcp', m, false)), comparisonText(find('udp', m, false))] : ['', ''];
    }));
    for (const m of ['latency p50', 'throughput']) {
      const a = [comparisonText(find('tcp', m, true)), comparisonText(find('udp', m, true))];
      if (a.some(Boolean)) rows.push(['', `A/A control: ${m}, host/host`, '', '', ...a]);
    }
  }
  return { id: t.id, title: `${t.title} (${r.config.runs} blocks each)`, header, rows };
}

export function paperGrids(r: PaperResult): Grid[] {
  return r.tables.map((t) => (t.id === 'table5' ? guestsGrid(r, t) : hostGuest(r, t)));
}

/** The answers to what the study left open: a heading, then its points, per question. */
export interface OpenQuestion {
  title: string;
  points: string[];
  note?: string;
}

export function openQuestions(r: PaperResult): OpenQuestion[] {
  const q = r.openQuestions;
  const out: OpenQuestion[] = [];
  const mbps = (v: number | null | undefined) => `${sig3(v)} Mbps`;
  if (q.udpVsTcp.length) {
    out.push({
      title: 'UDP vs TCP ("TCP faster but unstable, UDP slower but stable"):',
      points: q.udpVsTcp.map((u) => {
        const oneWay = q.rateSearches.find((s) => s.side === u.side)?.method === 'one-way';
        const free = finite(u.lossFreeRateMbps) ? `; highest rate with < 0.1% loss${oneWay ? ' (one way, as the receiver counted)' : ' (through the echo)'}: ${mbps(u.lossFreeRateMbps)}` : '';
        return `${u.side}: TCP ${mbps(u.tcpMbps)}; UDP sent unpaced at ${mbps(u.udpSentMbps)}, ${sig3(u.udpLossPercent)}% lost, ${mbps(u.udpReceivedMbps)} arrived${free}`;
      }),
      note: 'An unpaced UDP sender outruns the receiver and what arrives is capped by loss, not by the link: the "stable" UDP figure is the receiver\'s ceiling. Compare the loss-free rate.',
    });
  }
  if (q.namedCost.length) {
    out.push({
      title: 'What running named costs (throughput, named running vs no server, both on the Debian image):',
      points: q.namedCost.map((n) => {
        const sign = (v: number) => `${v >= 0 ? '+' : ''}${fixed(v, 1)}%`;
        const ci = finite(n.changeCi95LowPercent) && finite(n.changeCi95HighPercent) ? ` [${sign(n.changeCi95LowPercent)}, ${sign(n.changeCi95HighPercent)}]` : '';
        const floor = n.verdict === 'no effect beyond noise' && finite(n.floorPercent) ? ` (±${fixed(n.floorPercent, 1)}%)` : '';
        const p = finite(n.pHolm) ? `, p (Holm) ${pText(n.pHolm)}` : finite(n.p) ? `, p ${pText(n.p)} (unadjusted)` : '';
        const verdict = n.verdict ?? 'too few runs';
        return `${n.side} ${n.protocol.toUpperCase()}: ${sig3(n.noneMbps)} → ${mbps(n.namedMbps)} (${sign(n.changePercent)}${ci}; ${verdict}${floor}${p})`;
      }),
    });
  }
  if (q.hostVsGuests.length) {
    out.push({
      title: 'The host against the number of guests running:',
      points: q.hostVsGuests.map((h) => `${h.protocol.toUpperCase()} with ${h.guests} guest(s): p50 ${timeText(h.p50Ns)}, ${mbps(h.Mbps)}`),
    });
  }
  return out;
}

/** The open questions as plain lines (terminal, Markdown). */
export function openQuestionLines(r: PaperResult): string[] {
  return openQuestions(r).flatMap((q) => [q.title, ...q.points.map((p) => `  ${p}`), ...(q.note ? [`  ${q.note}`] : [])]);
}

/** A grid's heading: "Table N. title" for the study's tables, the title alone otherwise. */
export function gridHeading(g: Grid): string {
  return g.id.startsWith('table') ? `${g.id.replace('table', 'Table ')}. ${g.title}` : g.title;
}

/** The study's tables, then paper --rrul's when the run has one (the order every rendering shows). */
export function reportGrids(r: PaperResult): Grid[] {
  const rr = rrulGrid(r);
  return rr ? [...paperGrids(r), rr] : paperGrids(r);
}

/**
 * paper --rrul as a grid: per side and protocol, response time alone and while the bulk TCP
 * streams run, and the bulk rate; none when the run had no RRUL rows.
 */
export function rrulGrid(r: PaperResult): Grid | undefined {
  if (!r.rrul?.length) return undefined;
  const unit = timeUnit(r.rrul.flatMap((x) => (['tcp', 'udp'] as const).flatMap((p) => [x[p].idle.latency.p50Ns, x[p].loaded.latency.p99Ns])));
  const t = (ns: number | null | undefined) => timeIn(ns, unit);
  const rows = r.rrul.flatMap((x) =>
    (['tcp', 'udp'] as const).map((p) => [
      x.side === 'host' ? 'hostOS' : 'guestOS',
      p.toUpperCase(),
      t(x[p].idle.latency.p50Ns),
      t(x[p].loaded.latency.p50Ns),
      t(x[p].idle.latency.p99Ns),
      t(x[p].loaded.latency.p99Ns),
      finite(x.bulk.Mbps) ? sig3(x.bulk.Mbps) : '-',
    ]),
  );
  return {
    id: 'rrul',
    title: `Latency under load (RRUL): ${r.rrul[0].streams} bulk TCP streams each way for ${r.rrul[0].durationS} s`,
    header: ['side', 'protocol', `p50 idle (${unit})`, `p50 loaded (${unit})`, `p99 idle (${unit})`, `p99 loaded (${unit})`, 'bulk (Mbit/s)'],
    rows,
  };
}
