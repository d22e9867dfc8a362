// Experiment 4's result: plain JSON-serialisable objects (the schema of `umlperf isolate --json`
// and of experiment 4 in a paper result).
import type { LimitReport } from '../lab/limits.js';
import type { FaultName } from './faults.js';

/** What a neighbour round measures; latency in ns, throughput in Mbit/s. */
export const METRICS = ['tcpP50Ns', 'tcpP99Ns', 'udpP50Ns', 'udpP99Ns', 'tcpMbps', 'serverP50Ns', 'serverP99Ns'] as const;
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

/** One round of probes of one neighbour: null where the probe failed (timeout, error, most datagrams lost). */
export interface Round {
  neighbour: string;
  /** ms since the fault's first round started. */
  startMs: number;
  endMs: number;
  values: Partial<Record<Metric, number | null>>;
  errors?: string[];
}

export type Phase = 'before' | 'during' | 'after';
export type VerdictKind = 'isolated' | 'degraded' | 'broken';

export interface Verdict {
  kind: VerdictKind;
  /** How much worse than the baseline, percent (degraded; also given for isolated). */
  worsePercent?: number;
}

export interface MetricRow {
  neighbour: string;
  metric: Metric;
  before: number | null;
  during: number | null;
  after: number | null;
  /** The noise judged against, percent: the spread between the baseline's slice medians, at least the pass's typical one and MIN_NOISE_PERCENT (verdict.ts). */
  noisePercent: number;
  duringVerdict: Verdict;
  afterVerdict: Verdict;
}

export interface NeighbourRow {
  neighbour: string;
  /** The worst metric's verdict during the fault (and after it). */
  verdict: Verdict;
  afterVerdict: Verdict;
  /** From the fault's end to the first round back within the baseline's noise; null: not within the after phase. */
  recoveryMs: number | null;
}

export interface HostCost {
  /** CPU of the faulty guest's processes (its cgroup), in CPUs, before and during the fault. */
  cpuBefore?: number;
  cpuDuring?: number;
  /** Memory charged to its cgroup: before, and the highest seen during the fault. */
  memBytesBefore?: number;
  memPeakBytesDuring?: number;
}

export interface FaultRun {
  fault: FaultName;
  /** ms since the fault's first round: the window in which it was injected and undone. */
  startMs: number;
  endMs: number;
  windowS: number;
  /** The fault's own report (its script's last line, or what happened to the guest). */
  outcome: string;
  /** It did not end by its window (+ grace): the guest was replaced. */
  outlived: boolean;
  replaced: boolean;
  /** The guest could not be replaced after this fault (twice): why. The faults after it did not run. */
  replaceFailed?: string;
  oomKills?: number;
  restarted?: boolean;
  floodBytes?: number;
  /** The fault could not run here (e.g. no server to crash): no verdicts. */
  unsupported?: string;
  hostCost: HostCost;
  metrics: MetricRow[];
  neighbours: NeighbourRow[];
  rounds: Round[];
}

export interface IsolatePass {
  /** `--limit` as given, or undefined for the pass without limits. */
  limit?: string;
  /** Per guest, what the host applied (lab state's record). */
  limits?: Record<string, LimitReport>;
  faults: FaultRun[];
}

export interface ContainmentRow {
  fault: FaultName;
  neighbour: string;
  unlimited: Verdict;
  limited: Verdict;
  /** worse without the limits, isolated (or less bad) with them. */
  contained: boolean;
  /** The limit that bears on this fault (cpu for cpu, pids for fork, ...), if any. */
  limit?: string;
  /** That limit could not be applied on this host (reported unsupported): nothing it contains. */
  limitUnsupported?: boolean;
}

export interface IsolateResult {
  tool: 'umlperf';
  version: string;
  schemaVersion: 1;
  kind: 'isolate';
  startedAt: string;
  config: {
    faults: FaultName[];
    windowS: number;
    image: string;
    servers: string[];
    faultyGuest: string;
    neighbours: string[];
    limit?: string;
    minNoisePercent: number;
    /** Slices each fault's baseline is measured in (its noise: the spread between their medians). */
    baselineSlices?: number;
    /** CPUs the probes and the guests were pinned to (none on a one-CPU host, or without pinning). */
    placement?: { proberCpu: number; guestCpu: number };
  };
  passes: IsolatePass[];
  containment?: ContainmentRow[];
  durationMs: number;
}
