// `umlperf tune`: which network configuration serves a UML guest best. The sweep's plan (one
// knob at a time from the best so far), its scoring, the Pareto front and the knob that
// mattered most: pure functions over measured figures, so they are tested without a lab.
import { UsageError } from '../errors.js';
import { median } from '../stats.js';
import { BUILTIN_NET, checkNet, formatNet, netEffect, type NetConfig, type NetTransport } from '../lab/net-config.js';

/** What one configuration measured (one fresh lab). */
export interface TuneFigures {
  /** TCP into the guest (the client sends). */
  forwardMbps: number;
  /** TCP out of the guest (the guest sends: chargen). */
  reverseMbps: number;
  /** TCP and UDP response time: each the median over RESPONSE_RUNS runs (responseFigures). */
  tcpP50Ns: number;
  tcpP99Ns: number;
  udpP50Ns: number;
  udpP99Ns: number;
  /** Highest UDP rate with loss ≤ the threshold (RFC 2544 search). */
  udpLossFreeMbps: number;
  /** Guest CPU during the throughput tests, in CPUs (1 = one CPU busy); undefined without a cgroup. */
  guestCpu?: number;
}

export interface TuneRow {
  /** The knob this configuration changed from the best so far ('baseline', 'confirm'). */
  knob: string;
  line: string;
  config: NetConfig;
  /** Undefined when the configuration failed (error says why). */
  figures?: TuneFigures;
  error?: string;
  /** Score against the baseline (geometric mean of ratios; > 1 is better). */
  score?: number;
  /**
   * Score against the best-so-far configuration measured again at the start of the same knob's
   * step (close in time, so a shared machine's load drifts less between the two): what decides.
   */
  stepScore?: number;
  /** Whether this row is on the Pareto front (throughput vs the worse of TCP and UDP p99). */
  pareto?: boolean;
}

export interface KnobStep {
  knob: keyof NetConfig;
  values: NetConfig[keyof NetConfig][];
}

export interface PlanOptions {
  quick?: boolean;
  transports?: NetTransport[];
  /** CPUs of this machine: CPU placement is a knob with two or more. */
  cpuCount?: number;
  /** Host offloads are a knob only where ethtool is installed. */
  ethtool?: boolean;
}

/**
 * The knobs in the order they are tried, each with its values (the current one's is skipped).
 * gro=0 is left out: it is known to collapse host→guest TCP (field notes), and would only
 * cost time.
 */
export function tunePlan(o: PlanOptions = {}): KnobStep[] {
  const steps: KnobStep[] = [];
  const transports = o.transports ?? ['tap', 'tuntap'];
  steps.push({ knob: 'mtu', values: o.quick ? [1500, 9000] : [1500, 4000, 9000] });
  steps.push({ knob: 'sockbuf', values: o.quick ? [0, 4 << 20] : [0, 1 << 20, 4 << 20] });
  steps.push({ knob: 'depth', values: o.quick ? [0, 256] : [0, 128, 256, 512] });
  if (!o.quick) {
    steps.push({ knob: 'tcpRmem', values: [0, 4 << 20] });
    steps.push({ knob: 'vec', values: [true, false] });
    steps.push({ knob: 'qdisc', values: ['default', 'noqueue'] });
    steps.push({ knob: 'txqlen', values: [0, 5000] });
    if (o.ethtool) steps.push({ knob: 'hostOffload', values: ['default', 'off'] });
  }
  // After the vector driver's own knobs: the best tap configuration against the legacy driver.
  if (transports.length > 1) steps.push({ knob: 'transport', values: transports });
  if ((o.cpuCount ?? 1) >= 2) {
    steps.push({ knob: 'cpus', values: ['any', '1'] });
    // After placement: steering the TAP's packets away from the guest's CPU.
    steps.push({ knob: 'rps', values: [false, true] });
  }
  return steps;
}

/**
 * What a step measures: the best so far with the knob at each of the step's values, less the
 * configurations the driver does not take (mtu=9000 or depth on tuntap) and those whose effect
 * (netEffect) is in `measured` (effect → the line measured with it) or came earlier in the
 * step. A line that differs but makes the same lab — tcpRmem under a sockbuf at least as large
 * — would only cost a lab's time; it is returned in `same`, with the line it duplicates.
 */
export function stepCandidates(best: NetConfig, step: KnobStep, measured: ReadonlyMap<string, string>, cpuCount: number): { candidates: NetConfig[]; same: { line: string; as: string }[] } {
  const seen = new Map(measured);
  const candidates: NetConfig[] = [];
  const same: { line: string; as: string }[] = [];
  for (const v of step.values) {
    const c = withKnob(best, step.knob, v);
    try {
      checkNet(c);
    } catch (e) {
      if (e instanceof UsageError) continue;
      throw e;
    }
    const effect = netEffect(c, cpuCount);
    const line = netLine(c);
    const as = seen.get(effect);
    if (as !== undefined) {
      if (as !== line) same.push({ line, as });
      continue;
    }
    seen.set(effect, line);
    candidates.push(c);
  }
  return { candidates, same };
}

const geo = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/**
 * One number per configuration, relative to a reference: the geometric mean of throughput
 * both ways, the loss-free UDP rate, and the inverse of TCP and UDP p50 (a stall-robust
 * latency). 1 is as good as the reference; 1.2 is 20% better overall. A tail (TCP or UDP p99)
 * more than TAIL_TOLERANCE times the reference's divides the score by its excess, at most
 * MAX_RATIO per protocol: a knob that buys throughput with a tail of milliseconds (rps=1 with
 * a blocking receiver on the host: UDP p99 ~9.5 ms against ~0.25 ms) is not a gain.
 */
export function tuneScore(f: TuneFigures, ref: TuneFigures): number {
  // A loss-free rate of 0 (no trial passed) counts as 1 Mbit/s; each ratio counts at most 4×
  // either way, so one figure (a stall, a failed search) cannot decide alone.
  const safe = (x: number, floor: number) => (Number.isFinite(x) && x > floor ? x : floor);
  const clamp = (r: number) => Math.min(MAX_RATIO, Math.max(1 / MAX_RATIO, r));
  const tail = (x: number, r: number) => Math.min(1, Math.max(1 / MAX_RATIO, (TAIL_TOLERANCE * safe(r, 1)) / safe(x, 1)));
  return geo([
    safe(f.forwardMbps, 1e-3) / safe(ref.forwardMbps, 1e-3),
    safe(f.reverseMbps, 1e-3) / safe(ref.reverseMbps, 1e-3),
    safe(f.udpLossFreeMbps, 1) / safe(ref.udpLossFreeMbps, 1),
    safe(ref.tcpP50Ns, 1) / safe(f.tcpP50Ns, 1),
    safe(ref.udpP50Ns, 1) / safe(f.udpP50Ns, 1),
  ].map(clamp)) * tail(f.tcpP99Ns, ref.tcpP99Ns) * tail(f.udpP99Ns, ref.udpP99Ns);
}

/** How much worse than the reference's a p99 may be before it counts against a score (p99s of one configuration vary ~1.4× from run to run). */
export const TAIL_TOLERANCE = 2;

/**
 * Response-time runs per protocol and configuration. A guest stalls for a few ms now and then
 * in every configuration (about one run in six), and one stall can carry a run's p99: with
 * the median of three runs' p50 and p99, a stall in one run does not decide a score, while a
 * tail a configuration has (rps=1 with a blocking receiver) shows in every run and counts.
 */
export const RESPONSE_RUNS = 3;

/** A configuration's p50 and p99 from its response-time runs: the median of each over the runs. */
export function responseFigures(runs: readonly { p50Ns: number; p99Ns: number }[]): { p50Ns: number; p99Ns: number } {
  return { p50Ns: median(runs.map((r) => r.p50Ns)), p99Ns: median(runs.map((r) => r.p99Ns)) };
}

/** The most one figure's ratio counts in a score, either way. */
export const MAX_RATIO = 4;
/** A knob's value is adopted only when it beats the best so far by this factor (a shared machine is noisy). */
export const ADOPT_MARGIN = 1.1;

/** Throughput for the Pareto front: the geometric mean of both directions. */
export const bothWaysMbps = (f: TuneFigures): number => Math.sqrt(Math.max(f.forwardMbps, 0) * Math.max(f.reverseMbps, 0));

/** The tail for the Pareto front: the worse of TCP and UDP p99. */
const worstP99Ns = (f: TuneFigures): number => Math.max(f.tcpP99Ns, f.udpP99Ns);

/** Indexes of the rows no other row beats on both throughput (higher) and the worse p99 (lower). */
export function paretoFront(rows: TuneRow[]): number[] {
  const ok = rows.map((r, i) => ({ r, i })).filter((x) => x.r.figures);
  return ok.filter(({ r }) => !ok.some(({ r: o }) => {
    const a = r.figures!, b = o.figures!;
    const ta = bothWaysMbps(a), tb = bothWaysMbps(b);
    const pa = worstP99Ns(a), pb = worstP99Ns(b);
    return tb >= ta && pb <= pa && (tb > ta || pb < pa);
  })).map(({ i }) => i);
}

/**
 * The knob whose values spread the step scores most: max/min over its values' scores against
 * the configuration of its step (which scores 1).
 */
export function knobThatMattered(rows: TuneRow[]): { knob: string; spread: number } | undefined {
  let best: { knob: string; spread: number } | undefined;
  const byKnob = new Map<string, number[]>();
  for (const r of rows) {
    if (r.stepScore === undefined || r.knob === 'baseline' || r.knob === 'again' || r.knob === 'confirm') continue;
    byKnob.set(r.knob, [...(byKnob.get(r.knob) ?? [1]), r.stepScore]);
  }
  for (const [knob, scores] of byKnob) {
    const spread = Math.max(...scores) / Math.min(...scores);
    if (!best || spread > best.spread) best = { knob, spread };
  }
  return best;
}

/** The line to give `lab up --net` for a configuration ('builtin' when it is the built-in one). */
export const netLine = (c: NetConfig): string => formatNet(c) || 'builtin';

/** A copy of `c` with one knob set. */
export function withKnob(c: NetConfig, knob: keyof NetConfig, v: NetConfig[keyof NetConfig]): NetConfig {
  const out = { ...c, [knob]: v } as NetConfig;
  if (knob === 'transport' && v === 'tuntap') Object.assign(out, { gro: BUILTIN_NET.gro, vec: BUILTIN_NET.vec, depth: 0, mtu: Math.min(out.mtu, 1500) });
  return out;
}

/**
 * Whether the winner's gain over the default is clear: better in the score by at least
 * `margin` in every confirmation round (rounds alternate default and winner).
 */
export function clearGain(roundScores: number[], margin = 1.1): boolean {
  return roundScores.length > 0 && roundScores.every((s) => s >= margin);
}
