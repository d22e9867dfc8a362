// What `umlperf paper` produces: plain JSON-serialisable objects. The schema is documented in
// the README (tables[].id = table1..table5; rows with side, servers, guests, response,
// throughputMbps).
import type { FpuState } from '../lab/fpu.js';
import type { ClockInfo, Protocol } from '../probes.js';
import type { LatencyUnderLoad, LatencyUnderLoadResult } from '../rrul.js';

export type Side = 'host' | 'guest';
/** The study's servers; mail is Postfix in qmail's role. */
export type ServerRole = 'none' | 'httpd' | 'named' | 'mail';
export type Experiment = 1 | 2 | 3;

export const SERVER_LABEL: Record<ServerRole, string> = {
  none: 'none',
  httpd: 'httpd (Apache)',
  named: 'named (BIND)',
  mail: 'mail (Postfix)',
};

/** Per-run figures summarised: mean ± t-interval, and median with a distribution-free 95% CI. */
export interface MeanCi {
  mean: number;
  ci95: number;
  n: number;
  median: number;
  ci95Low: number;
  ci95High: number;
}

/** One cell of the study: a side and protocol, measured `runs` times. */
export interface Measurement {
  experiment: Experiment;
  side: Side;
  protocol: Protocol;
  servers: ServerRole;
  /** Guests running while measured. */
  guests: number;
  /** Response time over all runs' samples. */
  response: { minNs: number; meanNs: number; maxNs: number; p50Ns: number; p99Ns: number; p999Ns: number; sent: number; lost: number };
  /** Per run: median RTT, the figure the host-vs-guest test compares. */
  responseRunP50Ns: number[];
  /** Those per-run medians summarised (the figure to compare across repeated studies). */
  responseP50Ns: MeanCi;
  /** Samples kept for the charts (evenly thinned to at most 2000). */
  responseSamplesNs: number[];
  /** What the receiver got, per run and summarised. */
  throughputRunsMbps: number[];
  throughputMbps: MeanCi;
  /** UDP: what was sent and what was lost, beside what arrived. */
  udp?: { sendMbps: MeanCi; lossPercent: MeanCi };
  /**
   * The A/A control: this side measured a second time in every block, as if it were the other
   * side of a comparison. Its ratio to the first measurement is the run's noise floor.
   */
  aa?: { responseRunP50Ns: number[]; throughputRunsMbps: number[] };
}

/** The opt-in latency-under-load row of one side (`paper --rrul`). */
export interface RrulRow {
  side: Side;
  streams: number;
  durationS: number;
  tcp: LatencyUnderLoad;
  udp: LatencyUnderLoad;
  bulk: LatencyUnderLoadResult['bulk'];
  latencyDuringLoad: boolean;
}

export interface Comparison {
  metric: 'response p50' | 'throughput';
  /** Mean of the per-run figures of the baseline side (host; no server; the fewest guests). */
  host: number;
  /** ...and of the compared side (guest; the server; N guests). */
  guest: number;
  /**
   * guest / host: paired (geometric mean of the per-block ratios) when both were measured in
   * the same blocks, else the ratio of geometric means of the runs.
   */
  ratio: number;
  ci95Low: number;
  ci95High: number;
  paired: boolean;
  /** Blocks (paired) or the smaller side's runs (unpaired) behind the ratio. */
  n: number;
  /** Two-sided p of no difference (t on log-ratios), and after Holm across the run's comparisons. */
  p: number;
  pHolm: number;
  /** The A/A noise floor this comparison was judged against, percent (null for A/A rows). */
  floorPercent: number | null;
  /** true: an A/A control row (the same side against itself), judged by pHolm alone. */
  aa?: boolean;
  /** differs: pHolm < 0.05 and the effect beyond the A/A floor. */
  verdict: 'differs' | 'no effect beyond noise' | 'too few runs';
}

export interface TableRow {
  side: Side;
  protocol: Protocol;
  servers: ServerRole;
  guests: number;
  response: { minNs: number; meanNs: number; maxNs: number; p50Ns: number; p99Ns: number };
  /** mean ± ci95 (t), and median with its distribution-free 95% CI [ci95Low, ci95High]. */
  throughputMbps: { mean: number; ci95: number; median: number; ci95Low: number; ci95High: number };
  udp?: { sendMbps: number; lossPercent: number };
}

export interface PaperTable {
  id: 'table1' | 'table2' | 'table3' | 'table4' | 'table5';
  experiment: Experiment;
  title: string;
  rows: TableRow[];
  /** Host vs guest for the same servers and protocol (tables 1-4); guests vs none (table 5). */
  comparisons: ({ servers: ServerRole; protocol: Protocol; guests?: number } & Comparison)[];
}

export interface RateSearch {
  side: Side;
  lossThresholdPercent: number;
  maxRateMbps: number;
  trials: { targetRateMbps: number; sentMbps: number; receivedMbps: number; lossPercent: number; pass: boolean }[];
}

export interface OpenQuestions {
  /** Why UDP looked slower but stable: send rate, loss, and the loss-free rate per side. */
  udpVsTcp: { side: Side; tcpMbps: number; udpReceivedMbps: number; udpSendMbps: number; udpLossPercent: number; lossFreeRateMbps: number | null }[];
  /** What running named cost, per side and protocol: throughput against no server on the same image. */
  namedCost: {
    side: Side; protocol: Protocol; noneMbps: number; namedMbps: number; changePercent: number;
    /** 95% CI of the change (unpaired: different labs), percent. */
    changeCi95LowPercent: number; changeCi95HighPercent: number;
    p: number; pHolm: number;
    /** Experiment 2's A/A floor for throughput on that protocol, percent. */
    floorPercent: number | null;
    verdict: Comparison['verdict'];
  }[];
  /** The host's figures against the number of guests running. */
  hostVsGuests: { protocol: Protocol; guests: number; p50Ns: number; throughputMbps: number }[];
  /** The loss-free UDP rate searches behind udpVsTcp. */
  rateSearches: RateSearch[];
}

/** A short loopback reference probe between blocks: how far the machine itself drifted. */
export interface DriftWatch {
  /** One entry per block, in the order measured. */
  series: { atMs: number; step: string; block: number; referenceP50Ns: number }[];
  medianReferenceP50Ns: number;
  thresholdPercent: number;
  /** Blocks whose reference strayed beyond the threshold: what was measured then is suspect. */
  flagged: { step: string; block: number; deviationPercent: number }[];
}

export interface PaperResult {
  tool: 'umlperf';
  version: string;
  startedAt: string;
  finishedAt: string;
  /** false when interrupted or failed part-way: what is here was measured. */
  complete: boolean;
  error?: string;
  /** Things that went wrong and were recovered (e.g. a guest that died at boot, retried). */
  warnings: string[];
  config: {
    experiments: Experiment[];
    runs: number;
    guestsSweep: number[];
    transport: string;
    kernel: string;
    image: string;
    responseSizeBytes: number;
    responseIterations: number;
    throughputSeconds: number;
    udpDatagramBytes: number;
    /** Seed of the per-block side order (ABBA, randomised per block). */
    seed?: number;
    /** Adaptive runs: blocks were added until every ratio's CI half-width was within this, up to maxRuns. */
    ciTargetPercent?: number | null;
    maxRuns?: number;
    /** CPU the probes ran on, or null when unpinned. */
    probeCpu: number | null;
    /** CPUs the lab (guests, host endpoint, host-side servers) ran on, or null. */
    labCpus: string | null;
    /** How the guests' kernel saved vector state: native, or widened by the FPU-state adapter. */
    fpuState?: FpuState;
  };
  clock: ClockInfo;
  measurements: Measurement[];
  drift?: DriftWatch;
  tables: PaperTable[];
  openQuestions: OpenQuestions;
  /** Opt-in (`rrul`): latency under load, one row per side. */
  rrul?: RrulRow[];
}
