// From measurements to the study's Tables 1-5 and the answers to what it left open. Pure.
import type { Protocol } from '../probes.js';
import { mannWhitney, mean } from '../stats.js';
import type { Comparison, Measurement, OpenQuestions, PaperTable, RateSearch, ServerRole, TableRow } from './model.js';

const ALPHA = 0.05;
/** Below this relative change a real difference is reported as slight. */
const SLIGHT = 0.05;

function row(m: Measurement): TableRow {
  const r = m.response;
  const out: TableRow = {
    side: m.side,
    protocol: m.protocol,
    servers: m.servers,
    guests: m.guests,
    response: { minNs: r.minNs, meanNs: r.meanNs, maxNs: r.maxNs, p50Ns: r.p50Ns, p99Ns: r.p99Ns },
    throughputMbps: { mean: m.throughputMbps.mean, ci95: m.throughputMbps.ci95, median: m.throughputMbps.median, ci95Low: m.throughputMbps.ci95Low, ci95High: m.throughputMbps.ci95High },
  };
  if (m.udp) out.udp = { sendMbps: m.udp.sendMbps.mean, lossPercent: m.udp.lossPercent.mean };
  return out;
}

/** Host (a) against guest (b) on per-run figures. */
export function compare(metric: Comparison['metric'], a: number[], b: number[]): Comparison {
  const host = mean(a);
  const guest = mean(b);
  const ratio = host !== 0 ? guest / host : NaN;
  if (a.length < 3 || b.length < 3) return { metric, host, guest, ratio, p: NaN, verdict: 'too few runs' };
  const { p } = mannWhitney(a, b);
  const verdict = p >= ALPHA ? 'no evidence of a difference' : Math.abs(ratio - 1) < SLIGHT ? 'differs slightly' : 'differs';
  return { metric, host, guest, ratio, p, verdict };
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
    comparisons.push({ servers: s, protocol, ...compare('response p50', h.responseRunP50Ns, g.responseRunP50Ns) });
    comparisons.push({ servers: s, protocol, ...compare('throughput', h.throughputRunsMbps, g.throughputRunsMbps) });
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
    for (const m of byGuests.slice(1)) {
      comparisons.push({ servers: m.servers, protocol, guests: m.guests, ...compare('response p50', base.responseRunP50Ns, m.responseRunP50Ns) });
      comparisons.push({ servers: m.servers, protocol, guests: m.guests, ...compare('throughput', base.throughputRunsMbps, m.throughputRunsMbps) });
    }
  }
  return {
    id: 'table5',
    experiment: 3,
    title: 'Experiment 3: the host OS measured while UML guests run (comparisons: against the fewest guests)',
    rows: mine.map(row),
    comparisons,
  };
}

export function buildTables(ms: Measurement[]): PaperTable[] {
  return [
    hostGuestTable('table1', 1, 'tcp', ms),
    hostGuestTable('table2', 1, 'udp', ms),
    hostGuestTable('table3', 2, 'tcp', ms),
    hostGuestTable('table4', 2, 'udp', ms),
    guestsTable(ms),
  ].filter((t): t is PaperTable => t !== undefined);
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
      udpSendMbps: udp.udp?.sendMbps.mean ?? 0,
      udpLossPercent: udp.udp?.lossPercent.mean ?? 0,
      lossFreeRateMbps: search ? search.maxRateMbps : null,
    });
  }
  const namedCost: OpenQuestions['namedCost'] = [];
  for (const side of ['host', 'guest'] as const) {
    for (const protocol of ['tcp', 'udp'] as const) {
      // The baseline is experiment 2's own no-server step: same image, same memory.
      const none = find(2, side, protocol, 'none');
      const named = find(2, side, protocol, 'named');
      if (!none || !named) continue;
      const c = compare('throughput', none.throughputRunsMbps, named.throughputRunsMbps);
      namedCost.push({ side, protocol, noneMbps: c.host, namedMbps: c.guest, changePercent: (c.ratio - 1) * 100, p: c.p });
    }
  }
  const hostVsGuests = ms
    .filter((m) => m.experiment === 3)
    .sort((a, b) => a.protocol.localeCompare(b.protocol) || a.guests - b.guests)
    .map((m) => ({ protocol: m.protocol, guests: m.guests, p50Ns: m.response.p50Ns, throughputMbps: m.throughputMbps.mean }));
  return { udpVsTcp, namedCost, hostVsGuests, rateSearches: searches };
}
