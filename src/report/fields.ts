// Where the reports read a paper result's figures: one place, so a change of the result model
// (the latency object's name and fields) touches this file only.
import type { Comparison, Measurement, PaperResult, PaperTable, TableRow } from '../paper/model.js';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const num = (v: unknown): number | null => (finite(v) ? v : null);

/** A latency summary as the reports show it; null where the result does not hold the figure. */
export interface LatencyView {
  count: number | null;
  minNs: number | null;
  meanNs: number | null;
  maxNs: number | null;
  p50Ns: number | null;
  p90Ns: number | null;
  p99Ns: number | null;
  p999Ns: number | null;
}

type LatencyLike = Partial<Record<keyof LatencyView | 'sent' | 'lost', number | null>>;

/** The latency object of a row or measurement (`latency`; `response` in results saved before the result model). */
function latencyObject(x: unknown): LatencyLike {
  const o = x as { latency?: LatencyLike; response?: LatencyLike } | undefined;
  return o?.latency ?? o?.response ?? {};
}

function view(primary: LatencyLike, fallback: LatencyLike = {}): LatencyView {
  const pick = (k: keyof LatencyView) => num(primary[k]) ?? num(fallback[k]);
  const answered = (o: LatencyLike) => (finite(o.sent) && finite(o.lost) ? o.sent - o.lost : null);
  return {
    count: pick('count') ?? answered(primary) ?? answered(fallback),
    minNs: pick('minNs'), meanNs: pick('meanNs'), maxNs: pick('maxNs'),
    p50Ns: pick('p50Ns'), p90Ns: pick('p90Ns'), p99Ns: pick('p99Ns'), p999Ns: pick('p999Ns'),
  };
}

/** The measurement behind a table row (same experiment, side, protocol, servers, guests). */
export function measurementOf(r: PaperResult, t: PaperTable, row: TableRow): Measurement | undefined {
  return r.measurements.find((m) => m.experiment === t.experiment && m.side === row.side && m.protocol === row.protocol && m.servers === row.servers && m.guests === row.guests);
}

/** A table row's latency, completed from its measurement where the row leaves a figure out. */
export function rowLatency(r: PaperResult, t: PaperTable, row: TableRow): LatencyView {
  const m = measurementOf(r, t, row);
  return view(latencyObject(row), m ? latencyObject(m) : {});
}

export const measurementLatency = (m: Measurement): LatencyView => view(latencyObject(m));

/** Mean ± 95% CI half-width (t). */
export interface MeanView {
  mean: number | null;
  ci95: number | null;
}

export const rowThroughput = (row: TableRow): MeanView => ({ mean: num(row.throughputMbps?.mean), ci95: num(row.throughputMbps?.ci95) });
export const measurementThroughput = (m: Measurement): MeanView => ({ mean: num(m.throughputMbps?.mean), ci95: num(m.throughputMbps?.ci95) });
/** The per-block medians' mean ± CI: the response figure that has an interval. */
export const measurementP50 = (m: Measurement): MeanView => ({ mean: num(m.latencyP50Ns?.mean), ci95: num(m.latencyP50Ns?.ci95) });
export const rowUdp = (row: TableRow): { sentMbps: number | null; lossPercent: number | null } | undefined =>
  row.udp ? { sentMbps: num(row.udp.sentMbps), lossPercent: num(row.udp.lossPercent) } : undefined;
/** Samples kept for the charts (present when the result was saved with them). */
export const samplesOf = (m: Measurement): number[] => (Array.isArray(m.latencySamplesNs) ? m.latencySamplesNs.filter(finite) : []);

/** A comparison's figures; null where a saved result holds NaN as null. */
export interface ComparisonView {
  ratio: number | null;
  ci95Low: number | null;
  ci95High: number | null;
  n: number | null;
  p: number | null;
  pHolm: number | null;
  floorPercent: number | null;
  verdict: Comparison['verdict'];
}

export const comparisonView = (c: Comparison): ComparisonView => ({
  ratio: num(c.ratio), ci95Low: num(c.ci95Low), ci95High: num(c.ci95High), n: num(c.n), p: num(c.p), pHolm: num(c.pHolm), floorPercent: num(c.floorPercent), verdict: c.verdict,
});
