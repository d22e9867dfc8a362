// From measurements to the study's Tables 1-5 and the answers to what it left open. Pure.
import type { Protocol } from '../probes.js';
import { mean } from '../stats.js';
import { holm, noiseFloor, pairedRatio, pairedVerdict, unpairedRatio } from './paired.js';
import type { Comparison, Measurement, OpenQuestions, PaperTable, RateSearch, ServerRole, TableRow } from './model.js';

type TableComparison = PaperTable['comparisons'][number];

/** A comparison before Holm's correction and the A/A floor are known. */
type Pending = Omit<Comparison, 'pHolm' | 'floorPercent' | 'verdict'>;

function row(m: Measurement): TableRow {
  const r = m.latency;
  const out: TableRow = {
    side: m.side,
    protocol: m.protocol,
    servers: m.servers,
    guests: m.guests,
    latency: { count: r.count, minNs: r.minNs, meanNs: r.meanNs, maxNs: r.maxNs, p50Ns: r.p50Ns, p90Ns: r.p90Ns, p99Ns: r.p99Ns, p999Ns: r.p999Ns },
    throughputMbps: { mean: m.throughputMbps.mean, ci95: m.throughputMbps.ci95, n: m.throughputMbps.n, median: m.throughputMbps.median, ci95Low: m.throughputMbps.ci95Low, ci95High: m.throughputMbps.ci95High },
  };
  if (m.udp) out.udp = { sentMbps: m.udp.sentMbps.mean, lossPercent: m.udp.lossPercent.mean };
  return out;
}

/**
 * Baseline (a) against compared side (b) on per-run figures: paired by block when both were
 * measured in the same blocks, else as independent samples.
 */
export function measureRatio(metric: Comparison['metric'], a: number[], b: number[], paired: boolean): Pending {
  const r = paired ? pairedRatio(a, b) : unpairedRatio(a, b);
  return { metric, host: mean(a), guest: mean(b), ratio: r.ratio, ci95Low: r.ci95Low, ci95High: r.ci95High, paired, n: r.n, p: r.p };
}

const perRun = (m: Measurement, metric: Comparison['metric']) => (metric === 'latency p50' ? m.latencyRunP50Ns : m.throughputRunsMbps);
const perRunAa = (m: Measurement, metric: Comparison['metric']) => (metric === 'latency p50' ? m.aa?.latencyRunP50Ns : m.aa?.throughputRunsMbps) ?? [];
const METRICS: Comparison['metric'][] = ['latency p50', 'throughput'];

/** The A/A rows of a measurement (host against its own second measurement in each block). */
function aaRows(m: Measurement): Pending[] {
  if (!m.aa) return [];
  return METRICS.map((metric) => ({ ...measureRatio(metric, perRun(m, metric), perRunAa(m, metric), true), aa: true }));
}

function hostGuestTable(id: PaperTable['id'], experiment: 1 | 2, protocol: Protocol, ms: Measurement[]): PaperTable | undefined {
  const mine = ms.filter((m) => m.experiment === experiment && m.protocol === protocol);
  if (mine.length === 0) return undefined;
  const servers = [...new Set(mine.map((m) => m.servers))];
  const comparisons: PaperTable['comparisons'] = [];
  for (const s of servers) {
    const h = mine.find((m) => m.servers === s && m.side === 'host');
    const g = mine.find((m) => m.servers === s && m.side === 'guest');
    if (!h || !g) continue;
    for (const metric of METRICS) comparisons.push({ servers: s, protocol, ...measureRatio(metric, perRun(h, metric), perRun(g, metric), true) } as TableComparison);
    for (const aa of aaRows(h)) comparisons.push({ servers: s, protocol, ...aa } as TableComparison);
  }
  const what = experiment === 1 ? 'no servers running' : 'one server started on each side in turn';
  return {
    id,
    experiment,
    title: `Experiment ${experiment}, ${protocol.toUpperCase()}: host OS vs UML guest, ${what}`,
    rows: mine.map(row),
    comparisons,
  };
}

function guestsTable(ms: Measurement[]): PaperTable | undefined {
  const mine = ms.filter((m) => m.experiment === 3);
  if (mine.length === 0) return undefined;
  const comparisons: PaperTable['comparisons'] = [];
  for (const protocol of ['tcp', 'udp'] as const) {
    const byGuests = mine.filter((m) => m.protocol === protocol).sort((a, b) => a.guests - b.guests);
    const base = byGuests[0];
    for (const m of byGuests.slice(1))
      for (const metric of METRICS) comparisons.push({ servers: m.servers, protocol, guests: m.guests, ...measureRatio(metric, perRun(base, metric), perRun(m, metric), false) } as TableComparison);
    for (const m of byGuests) for (const aa of aaRows(m)) comparisons.push({ servers: m.servers, protocol, guests: m.guests, ...aa } as TableComparison);
  }
  return {
    id: 'table5',
    experiment: 3,
    title: 'Experiment 3: the host OS measured while UML guests run (comparisons: against the fewest guests)',
    rows: mine.map(row),
    comparisons,
  };
}

/** How far the A/A rows of the same experiment, protocol and metric stray: a log-ratio. */
function floorFor(t: PaperTable, c: TableComparison): number {
  const aas = t.comparisons.filter((x) => x.aa && x.metric === c.metric && x.protocol === c.protocol);
  if (aas.length === 0) return 0;
  return Math.max(...aas.map((x) => noiseFloor(x)));
}

/**
 * Holm's correction across every comparison of the run (A/A rows as a family of their own),
 * then each verdict against its experiment's A/A floor.
 */
export function judge(tables: PaperTable[]): PaperTable[] {
  const all = tables.flatMap((t) => t.comparisons.map((c) => ({ t, c })));
  for (const family of [all.filter((x) => !x.c.aa), all.filter((x) => x.c.aa)]) {
    const adj = holm(family.map((x) => x.c.p));
    family.forEach((x, i) => (x.c.pHolm = adj[i]));
  }
  for (const { t, c } of all) {
    const floor = c.aa ? 0 : floorFor(t, c);
    c.floorPercent = c.aa ? null : Number.isFinite(floor) ? (Math.exp(floor) - 1) * 100 : null;
    c.verdict = pairedVerdict(c, c.pHolm, floor);
  }
  return tables;
}

export function buildTables(ms: Measurement[]): PaperTable[] {
  return judge([
    hostGuestTable('table1', 1, 'tcp', ms),
    hostGuestTable('table2', 1, 'udp', ms),
    hostGuestTable('table3', 2, 'tcp', ms),
    hostGuestTable('table4', 2, 'udp', ms),
    guestsTable(ms),
  ].filter((t): t is PaperTable => t !== undefined));
}

export function openQuestions(ms: Measurement[], searches: RateSearch[]): OpenQuestions {
  const find = (e: number, side: string, protocol: Protocol, servers: ServerRole) =>
    ms.find((m) => m.experiment === e && m.side === side && m.protocol === protocol && m.servers === servers);
  const udpVsTcp: OpenQuestions['udpVsTcp'] = [];
  for (const side of ['host', 'guest'] as const) {
    const tcp = find(1, side, 'tcp', 'none');
    const udp = find(1, side, 'udp', 'none');
    if (!tcp || !udp) continue;
    const search = searches.find((s) => s.side === side);
    udpVsTcp.push({
      side,
      tcpMbps: tcp.throughputMbps.mean,
      udpReceivedMbps: udp.throughputMbps.mean,
      udpSentMbps: udp.udp?.sentMbps.mean ?? 0,
      udpLossPercent: udp.udp?.lossPercent.mean ?? 0,
      lossFreeRateMbps: search ? search.maxRateMbps : null,
    });
  }
  const namedCost: OpenQuestions['namedCost'] = [];
  const pending: { c: ReturnType<typeof measureRatio>; floor: number }[] = [];
  for (const side of ['host', 'guest'] as const) {
    for (const protocol of ['tcp', 'udp'] as const) {
      // The baseline is experiment 2's own no-server step: same image, same memory.
      const none = find(2, side, protocol, 'none');
      const named = find(2, side, protocol, 'dns');
      if (!none || !named) continue;
      const c = measureRatio('throughput', none.throughputRunsMbps, named.throughputRunsMbps, false);
      // The floor: experiment 2's A/A control (its no-server host, measured twice per block).
      const aaHost = find(2, 'host', protocol, 'none');
      const floor = aaHost?.aa ? noiseFloor(pairedRatio(aaHost.throughputRunsMbps, aaHost.aa.throughputRunsMbps)) : 0;
      namedCost.push({
        side, protocol, noneMbps: c.host, namedMbps: c.guest, changePercent: (c.ratio - 1) * 100,
        changeCi95LowPercent: (c.ci95Low - 1) * 100, changeCi95HighPercent: (c.ci95High - 1) * 100,
        p: c.p, pHolm: c.p, floorPercent: Number.isFinite(floor) ? (Math.exp(floor) - 1) * 100 : null, verdict: 'too few runs',
      });
      pending.push({ c, floor });
    }
  }
  // Holm across named's four comparisons, then each against its A/A floor.
  const adj = holm(pending.map((x) => x.c.p));
  namedCost.forEach((n, i) => {
    n.pHolm = adj[i];
    n.verdict = pairedVerdict(pending[i].c, adj[i], pending[i].floor);
  });
  const hostVsGuests = ms
    .filter((m) => m.experiment === 3)
    .sort((a, b) => a.protocol.localeCompare(b.protocol) || a.guests - b.guests)
    .map((m) => ({ protocol: m.protocol, guests: m.guests, p50Ns: m.latency.p50Ns, Mbps: m.throughputMbps.mean }));
  return { udpVsTcp, namedCost, hostVsGuests, rateSearches: searches };
}
