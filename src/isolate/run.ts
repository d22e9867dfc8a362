// Experiment 4 as a library call: a lab of two guests (g1 faulty, g2 a neighbour) and the host
// side; for each fault, the neighbours' rounds before, during and after it, the faulty guest's
// host cost, and the verdicts. With limits, a second lab with them, and which faults they contain.
// Every lab is torn down whatever happens (one lifecycle: the lab's own).
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { abortError, UmlperfError, UsageError } from '../errors.js';
import type { GuestImage } from '../images/minimal.js';
import { DEFAULT_MEM, labDown, labGuestExec, labReplaceGuest, labUp, SERVERS_MEM } from '../lab/lab.js';
import { keepFile } from '../lab/logs.js';
import { cgroupUsage, checkMemLimit, formatLimits, resetPeak, type GuestLimits } from '../lab/limits.js';
import { Mconsole } from '../lab/mconsole.js';
import { clientNetns, HOST_ADDRESS, validateLabName } from '../lab/names.js';
import { readState } from '../lab/state.js';
import { native } from '../native.js';
import { envelope } from '../result/envelope.js';
import type { BenchServer } from '../servers/bench.js';
import { pollUntil, sleep } from '../wait.js';
import { DEFAULT_WINDOW_S, faultScript, parseFaultOutput, type FaultName, FAULTS } from './faults.js';
import type { FaultRun, HostCost, IsolatePass, IsolateResult } from './model.js';
import { Sampler, type Neighbour, type RoundProbes } from './sample.js';
import { analyse, BASELINE_SLICES, containment, judgeAgainstPass, MIN_NOISE_PERCENT, MIN_SLICE_ROUNDS, windowEnd } from './verdict.js';
import { pinLeaf, placement, type Placement } from './pin.js';

export const FAULTY = 'g1';
export const NEIGHBOURS = ['g2', 'host'] as const;
/** A fault's script may run this long past its window before the guest is replaced. */
export const GRACE_S = 5;
/** Baseline rounds per slice, per neighbour, before each fault (BASELINE_SLICES slices, plus one warm-up round). */
export const ROUNDS_PER_SLICE = MIN_SLICE_ROUNDS;
export const BASELINE_ROUNDS = 1 + BASELINE_SLICES * ROUNDS_PER_SLICE;
/** The after phase ends when every neighbour is back (2 rounds) or after this long. */
export const AFTER_MAX_S = 6;

export interface IsolateOptions {
  faults?: FaultName[];
  windowS?: number;
  /** A second pass with these limits on every guest (lab up --limit). */
  limits?: GuestLimits;
  image?: 'minimal' | GuestImage;
  /** Servers on every guest and the host side (Debian image): the crash victim, and a real server benched on each neighbour. */
  servers?: string[];
  /** Lab name (default: iso + random); a second pass uses the same name after the first is gone. */
  name?: string;
  afterMaxS?: number;
  /** Pin the prober to one CPU and the guests to another (default true; pin.ts). */
  pin?: boolean;
  probes?: RoundProbes;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}


/** Waits until `ok()` or the deadline (then an error naming `what`), checking every 50 ms. */
async function until(ok: () => boolean, ms: number, what: string, signal?: AbortSignal): Promise<void> {
  if (!(await pollUntil(ok, { timeoutMs: ms, intervalMs: 50, signal }))) throw new UmlperfError('ETIMEDOUT', `isolate: ${what} not done in ${Math.round(ms / 1000)} s`);
}

/** The benchable server of a server list. */
function benchOf(servers: readonly string[]): BenchServer | undefined {
  if (servers.includes('dns')) return 'dns';
  if (servers.includes('www')) return 'www';
  return undefined;
}

/** Samples the faulty guest's cgroup while a fault runs: CPU over the window, highest memory. */
class CostWatch {
  private timer?: NodeJS.Timeout;
  private cpu0?: number;
  private t0 = 0;
  private memMax?: number;
  constructor(private lab: string) {}
  start(): void {
    resetPeak(this.lab, FAULTY);
    const u = cgroupUsage(this.lab, FAULTY);
    this.cpu0 = u.cpuNs;
    this.t0 = performance.now();
    this.memMax = u.memBytes;
    this.timer = setInterval(() => {
      const m = cgroupUsage(this.lab, FAULTY).memBytes;
      if (m !== undefined) this.memMax = Math.max(this.memMax ?? 0, m);
    }, 200);
    this.timer.unref();
  }
  /** Ends the watch (before the guest is replaced: its cgroup's counters go with it). */
  stop(): Pick<HostCost, 'cpuDuring' | 'memPeakBytesDuring'> {
    clearInterval(this.timer);
    const u = cgroupUsage(this.lab, FAULTY);
    const out: Pick<HostCost, 'cpuDuring' | 'memPeakBytesDuring'> = {};
    const wallNs = (performance.now() - this.t0) * 1e6;
    if (this.cpu0 !== undefined && u.cpuNs !== undefined && wallNs > 0) out.cpuDuring = Math.round(((u.cpuNs - this.cpu0) / wallNs) * 1000) / 1000;
    const peak = Math.max(this.memMax ?? 0, u.memBytes ?? 0, u.memPeakBytes ?? 0);
    if (peak > 0) out.memPeakBytesDuring = peak;
    return out;
  }
}

/** Whether the faulty guest answers on its exec channel (a short deadline). */
async function guestAnswers(lab: string, signal?: AbortSignal): Promise<boolean> {
  try {
    return (await labGuestExec(lab, FAULTY, ['true'], { timeoutMs: 5000, signal })).status === 0;
  } catch (e) {
    if (signal?.aborted) throw e;
    return false;
  }
}

/** Injects one fault, bounded by its window; returns once it is undone (or the guest replaced). */
async function inject(lab: string, fault: FaultName, windowS: number, servers: string[], o: IsolateOptions): Promise<Omit<FaultRun, 'startMs' | 'endMs' | 'metrics' | 'neighbours' | 'rounds' | 'hostCost'> & { cost: Pick<HostCost, 'cpuDuring' | 'memPeakBytesDuring'> }> {
  const signal = o.signal;
  const cost = new CostWatch(lab);
  const run = { fault, windowS, outcome: '', outlived: false, replaced: false } as Omit<FaultRun, 'startMs' | 'endMs' | 'metrics' | 'neighbours' | 'rounds' | 'hostCost'>;
  // A replacement that fails is tried once more; if that fails too, the faults after this
  // one cannot run (runPass), and this one says why (its console log kept).
  const replace = async () => {
    o.progress?.(`  ${fault}: replacing ${FAULTY}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await labReplaceGuest(lab, FAULTY, { servers, signal });
        run.replaced = true;
        return;
      } catch (e) {
        if (signal?.aborted) throw e;
        let kept = '';
        try {
          const g = readState(lab)?.guests.find((x) => x.id === FAULTY);
          if (g) kept = `; console log kept in ${keepFile(g.log, `${lab}-${FAULTY}-replace`)}`;
        } catch {
          // the message stands without it
        }
        if (attempt >= 2) {
          run.replaceFailed = `${(e as Error).message.split('; console log:')[0]}${kept}`;
          return;
        }
        await sleep(2000, signal);
      }
    }
  };
  cost.start();
  let c: ReturnType<CostWatch['stop']>;
  if (fault === 'panic') {
    const g = readState(lab)?.guests.find((x) => x.id === FAULTY);
    if (!g?.dir) throw new UmlperfError('ERR_UMLPERF_NO_LAB', `lab ${lab} has no guest ${FAULTY}`);
    const mc = new Mconsole(g.mconsole, path.dirname(g.dir), 0o666);
    try {
      // The guest dies at once: UML may not answer.
      const r = await mc.sysrq('c').catch((e: Error) => ({ ok: false, text: (e as { code?: string }).code === 'ETIMEDOUT' ? 'no reply (the kernel died at once)' : e.message }));
      run.outcome = `sysrq c: ${r.ok ? 'sent' : r.text}`;
    } finally {
      mc.close();
    }
    await sleep(windowS * 1000, signal);
    c = cost.stop();
    run.outcome += (await guestAnswers(lab, signal)) ? '; the guest still answers' : '; the guest is down';
    await replace();
  } else {
    const script = faultScript(fault, windowS, servers)!;
    let out = '';
    try {
      const r = await labGuestExec(lab, FAULTY, ['sh', '-c', script], { timeoutMs: (windowS + GRACE_S) * 1000, signal });
      out = r.stdout.toString('utf8');
      // Killed at its deadline, or failed without its summary (e.g. a fork bomb left the
      // script no process to stop it with): the fault was not undone, so the guest is replaced.
      if (r.status === 137 || (r.status !== 0 && !out.trim())) run.outlived = true;
      run.outcome = out.trim().split('\n').slice(-1)[0] || `exit status ${r.status}`;
    } catch (e) {
      if (signal?.aborted) throw e;
      run.outlived = true;
      run.outcome = `no answer: ${(e as Error).message}`;
    }
    c = cost.stop();
    Object.assign(run, parseFaultOutput(fault, out));
    // Undo: a guest that outlived its window, stopped answering, or lost its server is replaced.
    if (run.outlived || fault === 'crash' || !(await guestAnswers(lab, signal))) await replace();
  }
  return { ...run, cost: c };
}

async function runFault(lab: string, fault: FaultName, o: Required<Pick<IsolateOptions, 'windowS'>> & IsolateOptions, servers: string[], place?: Placement): Promise<FaultRun> {
  const neighbours: Neighbour[] = [
    { id: 'g2', netns: clientNetns(lab), address: readState(lab)!.guests.find((g) => g.id === 'g2')!.address },
    { id: 'host', netns: clientNetns(lab), address: HOST_ADDRESS },
  ];
  // Again before every fault: a replaced guest is a new process.
  if (place) {
    for (const g of [FAULTY, 'g2']) await pinLeaf(lab, g, place.guestCpu);
    await pinLeaf(lab, 'host', place.hostCpu);
  }
  const sampler = new Sampler({ neighbours, bench: benchOf(servers), probes: o.probes, signal: o.signal, cpu: place?.proberCpu });
  try {
    const before0 = cgroupUsage(lab, FAULTY);
    const tb = performance.now();
    await until(() => neighbours.every((n) => sampler.count(n.id) >= BASELINE_ROUNDS), 60_000, 'baseline', o.signal);
    const before1 = cgroupUsage(lab, FAULTY);
    const hostCost: HostCost = {};
    const wall = (performance.now() - tb) * 1e6;
    if (before0.cpuNs !== undefined && before1.cpuNs !== undefined) hostCost.cpuBefore = Math.round(((before1.cpuNs - before0.cpuNs) / wall) * 1000) / 1000;
    if (before1.memBytes !== undefined) hostCost.memBytesBefore = before1.memBytes;
    const startMs = sampler.now();
    o.progress?.(`  ${fault}: injected in ${FAULTY} for ${o.windowS} s`);
    const { cost, ...run } = await inject(lab, fault, o.windowS, servers, o);
    Object.assign(hostCost, cost);
    const endMs = sampler.now();
    const windowEndMs = windowEnd({ startMs, endMs, windowS: o.windowS });
    const afterMax = (o.afterMaxS ?? AFTER_MAX_S) * 1000;
    const recovered = () => {
      if (!neighbours.every((n) => sampler.count(n.id, endMs) >= 2)) return false;
      const a = analyse(sampler.rounds, { startMs, endMs, windowEndMs }, neighbours.map((n) => n.id));
      return a.neighbours.every((n) => n.recoveryMs !== null);
    };
    await until(() => recovered() || sampler.now() - endMs > afterMax, afterMax + 60_000, 'after phase', o.signal);
    await sampler.stop();
    const rounds = sampler.rounds;
    const res: FaultRun = { ...run, startMs, endMs, hostCost, ...analyse(rounds, { startMs, endMs, windowEndMs }, neighbours.map((n) => n.id)), rounds };
    if (run.unsupported) {
      res.metrics = [];
      res.neighbours = [];
    }
    o.progress?.(`  ${fault}: ${res.neighbours.length ? `${res.neighbours.map((n) => `${n.neighbour} ${n.verdict.kind}`).join(', ')} (against this fault's baseline; the table judges against the pass's noise too)` : run.unsupported}`);
    return res;
  } finally {
    await sampler.stop().catch(() => undefined);
  }
}

async function runPass(name: string, o: IsolateOptions & { windowS: number }, faults: FaultName[], servers: string[], limits?: GuestLimits): Promise<IsolatePass> {
  const pass: IsolatePass = { faults: [] };
  if (limits) pass.limit = formatLimits(limits);
  o.progress?.(`isolate: lab ${name}${limits ? ` with --limit ${pass.limit}` : ''}`);
  try {
    await labUp({ name, guests: 2, image: o.image, servers, limits, signal: o.signal, progress: o.progress });
    const s = readState(name);
    if (limits && s) pass.limits = Object.fromEntries(s.guests.filter((g) => g.limits).map((g) => [g.id, g.limits!]));
    let lost: string | undefined;
    const place = o.pin === false ? undefined : placement();
    for (const f of faults) {
      if (o.signal?.aborted) throw abortError();
      if (lost) {
        pass.faults.push({ fault: f, startMs: 0, endMs: 0, windowS: o.windowS, outcome: lost, outlived: false, replaced: false, unsupported: lost, hostCost: {}, metrics: [], neighbours: [], rounds: [] });
        continue;
      }
      const r = await runFault(name, f, o, servers, place);
      pass.faults.push(r);
      if (r.replaceFailed) lost = `not run: ${FAULTY} could not be replaced after ${r.fault}`;
    }
    pass.faults = judgeAgainstPass(pass.faults, [...NEIGHBOURS]);
    return pass;
  } finally {
    await labDown(name).catch(() => undefined);
  }
}

export function checkIsolateOptions(o: IsolateOptions): { faults: FaultName[]; windowS: number; name: string } {
  const faults = o.faults ?? [...FAULTS];
  if (!faults.length) throw new UsageError('isolate: name at least one fault');
  const windowS = o.windowS ?? DEFAULT_WINDOW_S;
  if (!(Number.isInteger(windowS) && windowS >= 1 && windowS <= 300)) throw new UsageError(`bad fault window ${windowS}: 1 to 300 s`);
  const name = validateLabName(o.name ?? `iso${randomBytes(3).toString('hex')}`);
  if ((o.servers ?? []).length && (o.image === undefined || o.image === 'minimal')) throw new UsageError('isolate: servers need the Debian image (--image debian)');
  // Checked now, not after the first pass's minutes.
  if (o.limits) checkMemLimit(o.limits, (o.servers ?? []).length ? SERVERS_MEM : DEFAULT_MEM);
  return { faults, windowS, name };
}

/** Runs experiment 4: every fault without limits, and with o.limits when given. */
export async function isolate(o: IsolateOptions = {}): Promise<IsolateResult> {
  const { faults, windowS, name } = checkIsolateOptions(o);
  const servers = o.servers ?? [];
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const opts = { ...o, windowS };
  const place = o.pin === false ? undefined : placement();
  const passes: IsolatePass[] = [await runPass(name, opts, faults, servers)];
  if (o.limits) passes.push(await runPass(name, opts, faults, servers, o.limits));
  const image = o.image === undefined || o.image === 'minimal' ? 'minimal' : o.image.name;
  const result: IsolateResult = {
    ...envelope('isolate', startedAt),
    config: { faults, windowS, image, servers, faultyGuest: FAULTY, neighbours: [...NEIGHBOURS], minNoisePercent: MIN_NOISE_PERCENT, baselineSlices: BASELINE_SLICES,
      ...(place ? { placement: place } : {}),
      ...(o.limits ? { limit: formatLimits(o.limits) } : {}) },
    clock: native().clockInfo(),
    passes,
    durationMs: Math.round(performance.now() - t0),
  };
  if (passes.length === 2) result.containment = containment(passes[0].faults, passes[1].faults, passes[1].limits?.[FAULTY]?.unsupported ?? []);
  return result;
}
