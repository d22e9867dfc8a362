// Experiment 4's result: plain JSON-serialisable objects (the schema of `umlperf isolate --json`
// and of experiment 4 in a paper result).
import type { Static } from '@sinclair/typebox';
import { METRICS, type FaultRunSchema, type IsolateResultSchema, type IsolateRoundSchema } from '../result/schema.js';

/** What a neighbour round measures; latency in ns, throughput in Mbit/s. */
export { METRICS };
export type Metric = (typeof METRICS)[number];
export const METRIC_LABEL: Record<Metric, string> = {
  tcpP50Ns: 'TCP response p50',
  tcpP99Ns: 'TCP response p99',
  udpP50Ns: 'UDP response p50',
  udpP99Ns: 'UDP response p99',
  tcpMbps: 'TCP throughput',
  serverP50Ns: 'server latency p50',
  serverP99Ns: 'server latency p99',
};
/**
 * The figures a neighbour's verdict rests on. A UML guest's p99 follows the host scheduler
 * (on a loaded 2-CPU host it moves 5× between quiet rounds): tails are judged and shown per
 * metric, but only a failure among them (broken) sets the neighbour's verdict.
 */
export const VERDICT_METRICS: readonly Metric[] = ['tcpP50Ns', 'udpP50Ns', 'tcpMbps', 'serverP50Ns'];
/** Throughput falls when worse; every other figure rises. */
export const higherIsBetter = (m: Metric): boolean => m === 'tcpMbps';

export type Phase = 'before' | 'during' | 'after';
export type VerdictKind = 'isolated' | 'degraded' | 'broken';

// The shapes themselves are in the result model (src/result/schema.ts).
export type Round = Static<typeof IsolateRoundSchema>;
export type FaultRun = Static<typeof FaultRunSchema>;
export type MetricRow = FaultRun['metrics'][number];
export type NeighbourRow = FaultRun['neighbours'][number];
export type Verdict = NeighbourRow['verdict'];
export type HostCost = FaultRun['hostCost'];
export type IsolateResult = Static<typeof IsolateResultSchema>;
export type IsolatePass = IsolateResult['passes'][number];
export type ContainmentRow = NonNullable<IsolateResult['containment']>[number];
