// `umlperf tune`: each configuration in a fresh lab of its own (unique name, torn down on every
// path, a cancel included), measured from the lab's client namespace: TCP throughput both
// ways, TCP and UDP response time, the loss-free UDP rate, and the guest's CPU from its cgroup.
// Bounded: a time budget for the whole sweep; the confirmation always runs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { abortError, UmlperfError, UsageError } from '../errors.js';
import { native } from '../native.js';
import { envelope } from '../result/envelope.js';
import type { SCHEMA_VERSION } from '../result/schema.js';
import { responseTime, throughput, type ResponseTimeResult } from '../probes.js';
import { cgroupDirs, cgroupMode } from '../lab/cgroup.js';
import { labDown, labUp } from '../lab/lab.js';
import { labTarget, validateLabName } from '../lab/names.js';
import { BUILTIN_NET, NET_TRANSPORTS, checkNet, haveEthtool, labUdpPayload, netEffect, netUnsupported, resolveNet, type NetConfig, type NetTransport } from '../lab/net-config.js';
import { ADOPT_MARGIN, clearGain, knobThatMattered, netLine, paretoFront, RESPONSE_RUNS, responseFigures, stepCandidates, tunePlan, tuneScore, type TuneFigures, type TuneRow } from './model.js';

export interface TuneOptions {
  /** Transports to compare (default tap and tuntap; raw and hybrid are reported unsupported). */
  transports?: NetTransport[];
  /** Fewer knobs, shorter tests: ≤ 3 minutes; else ≤ 10. */
  quick?: boolean;
  /** Lab-name prefix (1-4 of a-z0-9); a random suffix makes each lab's name unique. */
  labPrefix?: string;
  /** The configuration the winner is confirmed against (default: the `default` preset). */
  reference?: string;
  /** Budget for the sweep before the confirmation, in ms (default 110 s quick, 390 s full; 0: the baseline only). */
  budgetMs?: number;
  /** Scales every test's length (0.05-1; default 1): shorter tests for a smoke run. */
  scale?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface TuneConfirmation {
  /** Rounds, each default then winner (alternating order): the winner's score against that round's default. */
  roundScores: number[];
  reference: { line: string; figures: TuneFigures[]; host: HostFigures[] };
  winner: { line: string; figures: TuneFigures[]; host: HostFigures[] };
  /** Whether the gain is clear (every round ≥ 1.1). */
  clear: boolean;
}

/** The host side of the same lab, for guest/host ratios. */
export interface HostFigures {
  forwardMbps: number;
  reverseMbps: number;
  tcpP50Ns: number;
}

export interface TuneResult {
  tool: 'umlperf';
  version: string;
  schemaVersion: typeof SCHEMA_VERSION;
  kind: 'tune';
  startedAt: string;
  clock: ReturnType<ReturnType<typeof native>['clockInfo']>;
  config: { quick: boolean; transports: NetTransport[]; reference: string; loadAverage: number[]; cpus: number; udpLossFree?: 'one-way'; udpDatagram?: 'mtu'; responseRuns?: number };
  rows: TuneRow[];
  pareto: number[];
  winner: { line: string; config: NetConfig; score: number };
  mattered?: { knob: string; spread: number };
  confirmation?: TuneConfirmation;
  /** Knobs or values that could not be tried here, and why. */
  skipped: string[];
  /** The sweep ran out of its time budget before every knob was tried. */
  truncated: boolean;
  durationMs: number;
}

export interface Shape {
  tputS: number;
  iterations: number;
  streamS: number;
  trials: number;
}
const QUICK: Shape = { tputS: 1.5, iterations: 1500, streamS: 0.3, trials: 10 };
const FULL: Shape = { tputS: 3, iterations: 4000, streamS: 0.6, trials: 12 };

/** Guest CPU time in ns from its cgroup (v1 cpuacct.usage, v2 cpu.stat usage_usec); undefined without one. */
export function guestCpuNs(lab: string, leaf = 'g1'): number | undefined {
  if (cgroupMode().version === 0) return undefined;
  for (const d of cgroupDirs(lab, leaf)) {
    try {
      return Number(fs.readFileSync(path.join(d, 'cpuacct.usage'), 'utf8').trim());
    } catch {
      // not the cpuacct hierarchy
    }
    try {
      const m = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(d, 'cpu.stat'), 'utf8'));
      if (m) return Number(m[1]) * 1000;
    } catch {
      // next
    }
  }
  return undefined;
}

function checkPrefix(p: string): string {
  if (!/^[a-z0-9]{1,4}$/.test(p)) throw new UsageError(`bad lab prefix ${JSON.stringify(p)}: 1-4 of a-z0-9`);
  return p;
}

/** The test lengths of a quick and of a full sweep. */
export const TUNE_SHAPES: Readonly<Record<'quick' | 'full', Readonly<Shape>>> = { quick: QUICK, full: FULL };

/** Measures one configuration in a fresh lab; the lab is torn down however this ends. */
export async function measureNet(name: string, net: NetConfig, shape: Shape, withHost: boolean, signal?: AbortSignal): Promise<{ figures: TuneFigures; host?: HostFigures }> {
  validateLabName(name);
  try {
    await labUp({ name, guests: 1, net, signal });
    const g = labTarget(name, 'g1');
    // With the guest on one CPU, the probes run on another one.
    const cpu = net.cpus !== 'any' && /^\d+$/.test(net.cpus) && os.availableParallelism() >= 2 ? (Number(net.cpus) === 0 ? 1 : 0) : undefined;
    const common = { netns: g.netns, signal, ...(cpu !== undefined ? { cpu } : {}) };
    const cpu0 = guestCpuNs(name);
    const t0 = performance.now();
    const fwd = await throughput({ ...common, host: g.host, durationS: shape.tputS });
    const rev = await throughput({ ...common, host: g.host, durationS: shape.tputS, reverse: true });
    const cpu1 = guestCpuNs(name);
    const wallNs = (performance.now() - t0) * 1e6;
    // TCP and UDP runs alternate, so a stall spread over a second or two hits runs of both.
    const runs: { tcp: ResponseTimeResult['latency'][]; udp: ResponseTimeResult['latency'][] } = { tcp: [], udp: [] };
    for (let i = 0; i < RESPONSE_RUNS; i++) {
      runs.tcp.push((await responseTime({ ...common, host: g.host, protocol: 'tcp', iterations: shape.iterations, keepSamples: false })).latency);
      runs.udp.push((await responseTime({ ...common, host: g.host, protocol: 'udp', iterations: shape.iterations, keepSamples: false, timeoutMs: 200 })).latency);
    }
    const tcp = responseFigures(runs.tcp);
    const udp = responseFigures(runs.udp);
    // One way into the guest's discard service, loss as it counted: through an echo the guest
    // would carry every datagram twice, and a loss could be of either leg.
    const st = await throughput({ ...common, host: g.host, protocol: 'udp', size: labUdpPayload(net.mtu), findMaxRate: true, durationS: shape.streamS, maxTrials: shape.trials });
    const figures: TuneFigures = {
      forwardMbps: fwd.Mbps, reverseMbps: rev.Mbps,
      tcpP50Ns: tcp.p50Ns, tcpP99Ns: tcp.p99Ns, udpP50Ns: udp.p50Ns, udpP99Ns: udp.p99Ns,
      udpLossFreeMbps: st.search?.maxRateMbps ?? 0,
      ...(cpu0 !== undefined && cpu1 !== undefined && wallNs > 0 ? { guestCpu: (cpu1 - cpu0) / wallNs } : {}),
    };
    let host: HostFigures | undefined;
    if (withHost) {
      const h = labTarget(name, 'host');
      const hf = await throughput({ ...common, host: h.host, durationS: shape.tputS });
      const hr = await throughput({ ...common, host: h.host, durationS: shape.tputS, reverse: true });
      const ht = await responseTime({ ...common, host: h.host, protocol: 'tcp', iterations: shape.iterations, keepSamples: false });
      host = { forwardMbps: hf.Mbps, reverseMbps: hr.Mbps, tcpP50Ns: ht.latency.p50Ns };
    }
    return { figures, host };
  } finally {
    await labDown(name).catch(() => undefined);
  }
}

const oneLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);

/** Runs the sweep and the confirmation; see TuneResult. */
export async function tune(o: TuneOptions = {}): Promise<TuneResult> {
  const t0 = performance.now();
  const quick = !!o.quick;
  const scale = o.scale ?? 1;
  if (!(Number.isFinite(scale) && scale >= 0.05 && scale <= 1)) throw new UsageError(`bad scale ${JSON.stringify(o.scale)}: 0.05 to 1`);
  const s0 = quick ? QUICK : FULL;
  const shape: Shape = { tputS: s0.tputS * scale, iterations: Math.max(100, Math.round(s0.iterations * scale)), streamS: Math.max(0.05, s0.streamS * scale), trials: s0.trials };
  const prefix = checkPrefix(o.labPrefix ?? 'tu');
  const transports = o.transports ?? ['tap', 'tuntap'];
  if (!transports.length || transports.some((t) => !NET_TRANSPORTS.includes(t))) throw new UsageError(`bad transports ${JSON.stringify(transports)}: some of ${NET_TRANSPORTS.join(', ')}`);
  const ref = resolveNet(o.reference ?? 'default');
  const budgetMs = o.budgetMs ?? (quick ? 110_000 : 390_000);
  if (!(Number.isFinite(budgetMs) && budgetMs >= 0 && budgetMs <= 3_600_000)) throw new UsageError(`bad budget ${JSON.stringify(o.budgetMs)} ms: 0 to 1 h`);
  const signal = o.signal;
  const say = o.progress ?? (() => undefined);
  const ethtool = haveEthtool();
  const skipped: string[] = [];
  const usable = transports.filter((t) => {
    const why = netUnsupported({ ...BUILTIN_NET, transport: t }, { ethtool });
    if (why) skipped.push(`transport=${t}: ${why}`);
    return !why;
  });
  if (!usable.length) throw new UmlperfError('ERR_UMLPERF_UNSUPPORTED', `no transport of ${transports.join(', ')} can run here: ${skipped.join('; ')}`);
  if (!ethtool) skipped.push('hostOffload: ethtool is not installed on this host');
  // A random run id: labs named <prefix><id><n>, 10 characters at most.
  const id = randomBytes(3).toString('hex').slice(0, 10 - prefix.length - 2);
  let n = 0;
  const nextName = () => `${prefix}${id}${(n++).toString(36)}`;
  const startedAt = new Date().toISOString();

  const rows: TuneRow[] = [];
  const cpuCount = os.availableParallelism();
  // The effects (netEffect) measured so far, each with its line: a configuration that makes the same lab is not measured again.
  const tried = new Map<string, string>();
  const run = async (knob: string, c: NetConfig): Promise<TuneRow> => {
    if (signal?.aborted) throw abortError(signal.reason);
    const line = netLine(c);
    say(`tune: ${knob.padEnd(11)} ${line}`);
    const row: TuneRow = { knob, line, config: c };
    try {
      row.figures = (await measureNet(nextName(), c, shape, false, signal)).figures;
    } catch (e) {
      if (signal?.aborted) throw abortError(signal.reason);
      row.error = oneLine(e);
    }
    rows.push(row);
    return row;
  };

  // Baseline: the reference with the first usable transport.
  let best = checkNet({ ...ref.config, transport: usable.includes(ref.config.transport) ? ref.config.transport : usable[0] });
  const base = await run('baseline', best);
  tried.set(netEffect(best, cpuCount), netLine(best));
  if (!base.figures) throw new UmlperfError('ERR_UMLPERF_TUNE', `the baseline configuration failed: ${base.error}`);
  const baseFig = base.figures;
  base.score = 1;
  let bestScore = 1;
  let truncated = false;
  const plan = tunePlan({ quick, transports: usable, cpuCount, ethtool });
  // The best so far as last measured: the reference of the next step.
  let stepRef: TuneFigures = baseFig;
  let fresh = true;
  for (const step of plan) {
    const { candidates, same } = stepCandidates(best, step, tried, cpuCount);
    for (const x of same) skipped.push(`${x.line}: the same lab as ${x.as}, measured`);
    if (!candidates.length) continue;
    if (performance.now() - t0 >= budgetMs) {
      truncated = true;
      break;
    }
    // Each step starts by measuring the best so far again (but for the first, right after the
    // baseline): candidates are judged against a measurement close in time.
    if (!fresh) {
      const again = await run('again', best);
      if (again.figures) {
        again.score = tuneScore(again.figures, baseFig);
        stepRef = again.figures;
      }
    }
    fresh = false;
    let stepBest: NetConfig | undefined;
    let stepBestScore = ADOPT_MARGIN;
    for (const c of candidates) {
      if (performance.now() - t0 >= budgetMs) {
        truncated = true;
        break;
      }
      tried.set(netEffect(c, cpuCount), netLine(c));
      const row = await run(step.knob, c);
      if (!row.figures) continue;
      row.score = tuneScore(row.figures, baseFig);
      row.stepScore = tuneScore(row.figures, stepRef);
      // Adopted only when clearly better (this machine is shared: small differences are noise).
      if (row.stepScore > stepBestScore) {
        stepBest = c;
        stepBestScore = row.stepScore;
        bestScore = row.score;
      }
    }
    if (stepBest) {
      best = stepBest;
      fresh = false;
    }
    if (truncated) break;
  }

  // Confirmation: the winner against the reference, in alternating order (ABBA), each in a fresh
  // lab. Two rounds even when quick: one round once called a configuration a clear gain that a
  // side-by-side bench then showed to be worse.
  const rounds = 2;
  const refLine = netLine(ref.config);
  const conf: TuneConfirmation = { roundScores: [], reference: { line: refLine, figures: [], host: [] }, winner: { line: netLine(best), figures: [], host: [] }, clear: false };
  const changed = netEffect(best, cpuCount) !== netEffect(ref.config, cpuCount);
  if (changed) {
    for (let r = 0; r < rounds; r++) {
      const order: ['reference' | 'winner', NetConfig][] = r % 2 === 0 ? [['reference', ref.config], ['winner', best]] : [['winner', best], ['reference', ref.config]];
      const got: Partial<Record<'reference' | 'winner', TuneFigures>> = {};
      for (const [who, c] of order) {
        if (signal?.aborted) throw abortError(signal.reason);
        say(`tune: confirm ${r + 1}/${rounds} ${who.padEnd(9)} ${netLine(c)}`);
        try {
          const m = await measureNet(nextName(), c, shape, true, signal);
          got[who] = m.figures;
          conf[who].figures.push(m.figures);
          if (m.host) conf[who].host.push(m.host);
          rows.push({ knob: 'confirm', line: netLine(c), config: c, figures: m.figures, score: tuneScore(m.figures, baseFig) });
        } catch (e) {
          if (signal?.aborted) throw abortError(signal.reason);
          rows.push({ knob: 'confirm', line: netLine(c), config: c, error: oneLine(e) });
        }
      }
      if (got.reference && got.winner) conf.roundScores.push(tuneScore(got.winner, got.reference));
    }
    conf.clear = clearGain(conf.roundScores) && conf.roundScores.length === rounds;
  }
  const pareto = paretoFront(rows);
  for (const i of pareto) rows[i].pareto = true;
  const mattered = knobThatMattered(rows);
  return {
    ...envelope('tune', startedAt), clock: native().clockInfo(),
    config: { quick, transports, reference: ref.preset ?? ref.line, loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100), cpus: cpuCount, udpLossFree: 'one-way', udpDatagram: 'mtu', responseRuns: RESPONSE_RUNS },
    rows, pareto, winner: { line: netLine(best), config: best, score: bestScore },
    ...(mattered ? { mattered } : {}),
    ...(changed ? { confirmation: conf } : {}),
    skipped, truncated, durationMs: Math.round(performance.now() - t0),
  };
}
