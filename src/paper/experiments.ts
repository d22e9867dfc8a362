// The study's three experiments, run on a stage. Results accumulate as they are measured, so
// an interrupt or a failure part-way returns everything measured until then.
import { responseTime, throughput, type Protocol } from '../probes.js';
import { latencyUnderLoad } from '../rrul.js';
import { median, prng, runSummary, summarize } from '../stats.js';
import { pairedRatio } from './paired.js';
import type { Experiment, Measurement, RateSearch, RrulRow, ServerRole, Side } from './model.js';
import type { Stage } from './stage.js';
import { sleep } from '../wait.js';

/** The probes the experiments run: the real ones, or stand-ins that tests hand in. */
export interface Probes {
  responseTime: typeof responseTime;
  throughput: typeof throughput;
  /** The opt-in latency-under-load row (default the real one). */
  latencyUnderLoad?: typeof latencyUnderLoad;
}

export const REAL_PROBES: Probes = { responseTime, throughput };

export interface PaperRunOptions {
  experiments: Experiment[];
  runs: number;
  /** Experiment 3: guest counts to measure the host under. */
  guestsSweep: number[];
  /** Experiment 2: servers started in turn on both sides. */
  servers: Exclude<ServerRole, 'none'>[];
  responseSizeBytes: number;
  responseIterations: number;
  throughputSeconds: number;
  udpDatagramBytes: number;
  /** Pin every probe to this CPU (the stage keeps its guests and servers off it). */
  probeCpu?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  probes?: Probes;
  /** Seed of the per-block side order (default: random, recorded in the result). */
  seed?: number;
  /** Measure the A/A control (the host a second time in every block of each experiment's first step). Default true. */
  aa?: boolean;
  /** Adaptive runs: add blocks until every ratio's CI half-width is within this percent. */
  ciTargetPercent?: number;
  /** ...up to this many blocks per step (default 3 × runs). */
  maxRuns?: number;
  /** The drift watch's reference probe (a loopback p50 in ns), run before every block. */
  reference?: () => Promise<number>;
  /** A reference beyond this percent above the run's median so far is drift (default DRIFT_THRESHOLD_PERCENT). */
  driftThresholdPercent?: number;
  /** After the lab changes (guests booted for the next experiment), wait at most this long for the reference to settle (default SETTLE_MAX_MS). */
  settleMaxMs?: number;
  /** Opt-in: a latency-under-load (RRUL) row per side, with one guest and no servers. */
  rrul?: { streams: number; durationS: number };
}

export interface Collected {
  /** Whether the experiments' blocks were interleaved, set once the run knows. */
  experimentOrder?: 'interleaved' | 'sequential';
  measurements: Measurement[];
  rateSearches: RateSearch[];
  /** The drift watch's reference figure before each block. */
  references: { atMs: number; step: string; block: number; referenceP50Ns: number }[];
  /** Waits for the lab to settle after it changed, where the first reference was not back within the threshold. */
  settles?: Settle[];
  /** The opt-in latency-under-load rows. */
  rrul?: RrulRow[];
}


function shuffle<T>(xs: T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * A block's order, counterbalanced in pairs (ABBA): drawn at random in even blocks, the
 * previous block's order reversed in odd ones, so that over every two blocks each item comes
 * before each other item once. A pure shuffle leaves that to chance, and position matters: of
 * the host's two measurements in a block, the second had the higher p50 (A/A over base 0.954
 * in the 30 of 50 blocks where the A/A replica came first, 1.008 in the other 20), and an
 * imbalance of that kind is how an A/A control can print "differs".
 */
export function blockOrder<T>(items: T[], block: number, rnd: () => number, previous?: T[]): T[] {
  if (block % 2 === 1 && previous && previous.length === items.length) return [...previous].reverse();
  return shuffle(items, rnd);
}

/** One condition of an experiment: which server runs, how many guests run. */
export interface Condition {
  servers: ServerRole;
  guests: number;
}

/**
 * The experiments a run will measure, known before it starts (for progress and its ETA). Each
 * is one group of conditions measured in the same blocks: experiment 2 alternates no server and
 * each server, experiment 3 the guest counts; the first condition is the baseline.
 */
export function planGroups(o: Pick<PaperRunOptions, 'experiments' | 'servers' | 'guestsSweep'>): { experiment: Experiment; conditions: Condition[] }[] {
  const groups: { experiment: Experiment; conditions: Condition[] }[] = [];
  if (o.experiments.includes(1)) groups.push({ experiment: 1, conditions: [{ servers: 'none', guests: 1 }] });
  if (o.experiments.includes(2)) groups.push({ experiment: 2, conditions: (['none', ...o.servers] as ServerRole[]).map((servers) => ({ servers, guests: 1 })) });
  if (o.experiments.includes(3)) groups.push({ experiment: 3, conditions: o.guestsSweep.map((guests) => ({ servers: 'none', guests })) });
  return groups;
}

/** Where the run is: step k of n (a step is one block of one experiment), elapsed and an estimate of what is left. */
export class RunClock {
  private t0 = performance.now();
  constructor(private totalSteps: number, private say?: (line: string) => void) {}
  /** `done` steps are finished; the next is block `block` of `blocks` of the experiment `label`. */
  step(done: number, label: string, block: number, blocks: number): void {
    const elapsed = performance.now() - this.t0;
    this.totalSteps = Math.max(this.totalSteps, done + 1);
    const eta = done > 0 ? (elapsed / done) * (this.totalSteps - done) : NaN;
    this.say?.(`step ${done + 1}/${this.totalSteps} (${label}): block ${block + 1}/${blocks}; ${mmss(elapsed)} elapsed${Number.isFinite(eta) ? `, about ${mmss(eta)} left` : ''}`);
  }
}

function mmss(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const MAX_KEPT_SAMPLES = 2000;

function thin(xs: number[], max: number): number[] {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]);
}

interface Cell {
  /** Index of the cell's condition in its group. */
  cond: number;
  side: Side;
  /** The A/A replica of this side: measured again in the same block. */
  aa: boolean;
  protocol: Protocol;
  samples: number[];
  p50s: number[];
  sent: number;
  lost: number;
  mbps: number[];
  sentMbps: number[];
  loss: number[];
}

type Slot = { cond: number; side: Side; aa: boolean };

/**
 * Half-width of the widest within-group ratio CI, percent: guest/host in each condition, each
 * condition against the baseline on each side, and the A/A control.
 */
export function widestCiPercent(cells: Pick<Cell, 'cond' | 'side' | 'aa' | 'protocol' | 'p50s' | 'mbps'>[]): number {
  let widest = 0;
  const of = (cond: number, side: Side, aa: boolean, protocol: Protocol) => cells.find((c) => c.cond === cond && c.side === side && c.aa === aa && c.protocol === protocol);
  const pairs: [typeof cells[number], typeof cells[number]][] = [];
  for (const c of cells) {
    if (c.aa) {
      const base = of(c.cond, c.side, false, c.protocol);
      if (base) pairs.push([base, c]);
      continue;
    }
    if (c.side === 'guest') {
      const host = of(c.cond, 'host', false, c.protocol);
      if (host) pairs.push([host, c]);
    }
    if (c.cond > 0) {
      const base = of(0, c.side, false, c.protocol);
      if (base) pairs.push([base, c]);
    }
  }
  for (const [a, b] of pairs) {
    for (const [x, y] of [[a.p50s, b.p50s], [a.mbps, b.mbps]]) {
      const r = pairedRatio(x, y);
      if (!(r.n >= 2)) return Infinity;
      widest = Math.max(widest, (r.ci95High / r.ratio - 1) * 100, (1 - r.ci95Low / r.ratio) * 100);
    }
  }
  return widest;
}

/**
 * One experiment measured in blocks: in every block each condition (the stage switches to it)
 * and in it each side once, and the baseline's host a second time (the A/A control), in an order
 * drawn anew for every other block and mirrored in the next (ABBA), so that drift over time and
 * the position in a block fall on every side alike and each block yields a paired ratio for
 * every comparison. The run interleaves the experiments' blocks (runExperiments).
 */
class GroupRun {
  readonly label: string;
  private done = 0;
  private slots: Slot[];
  private cells: Cell[] = [];
  // The previous block's orders, for its mirror (blockOrder).
  private condOrder?: number[];
  private slotOrder = new Map<number, Slot[]>();
  private maxRuns: number;

  constructor(private stage: Stage, private o: PaperRunOptions, readonly what: { experiment: Experiment; conditions: Condition[]; sides: Side[] }) {
    this.label = groupLabel(what);
    this.slots = what.conditions.flatMap((_, cond) => what.sides.map((side) => ({ cond, side, aa: false })));
    if (o.aa ?? true) this.slots.push({ cond: 0, side: 'host', aa: true });
    for (const slot of this.slots)
      for (const protocol of ['tcp', 'udp'] as const)
        this.cells.push({ ...slot, protocol, samples: [], p50s: [], sent: 0, lost: 0, mbps: [], sentMbps: [], loss: [] });
    this.maxRuns = o.ciTargetPercent ? o.maxRuns ?? 3 * o.runs : o.runs;
  }

  /** Blocks finished: a block's figures count only once all its cells are measured. */
  get blocks(): number {
    return this.done;
  }

  /** Whether it takes another block: the runs asked for, then (adaptive) until its widest CI is within the target. */
  wantsBlock(): boolean {
    if (this.done >= this.maxRuns) return false;
    return this.done < this.o.runs || (!!this.o.ciTargetPercent && widestCiPercent(this.cells) > this.o.ciTargetPercent);
  }

  async block(rnd: () => number): Promise<void> {
    const { stage, o, what } = this;
    const run = this.done;
    const probes = o.probes ?? REAL_PROBES;
    // Kept aside until the block is whole, so that a failure part-way leaves every cell with the same blocks.
    const got: { c: Cell; rt: Awaited<ReturnType<Probes['responseTime']>>; tp: Awaited<ReturnType<Probes['throughput']>> }[] = [];
    this.condOrder = blockOrder(what.conditions.map((_, i) => i), run, rnd, this.condOrder);
    for (const cond of this.condOrder) {
      await stage.arrange({ experiment: what.experiment, ...what.conditions[cond] });
      const order = blockOrder(this.slots.filter((x) => x.cond === cond), run, rnd, this.slotOrder.get(cond));
      this.slotOrder.set(cond, order);
      for (const slot of order) {
        for (const c of this.cells.filter((x) => x.cond === cond && x.side === slot.side && x.aa === slot.aa)) {
          const t = stage.target(c.side);
          const common = { host: t.host, netns: t.netns, protocol: c.protocol, cpu: o.probeCpu, signal: o.signal };
          const rt = await probes.responseTime({ ...common, port: t.echoPort, size: o.responseSizeBytes, iterations: o.responseIterations, warmup: Math.min(50, o.responseIterations) });
          const tp = await probes.throughput({ ...common, port: t.discardPort, durationS: o.throughputSeconds, ...(c.protocol === 'udp' ? { size: o.udpDatagramBytes } : {}) });
          got.push({ c, rt, tp });
        }
      }
    }
    for (const { c, rt, tp } of got) {
      c.samples.push(...(rt.samplesNs ?? []));
      c.p50s.push(rt.latency.p50Ns);
      c.sent += rt.sent;
      c.lost += rt.lost;
      c.mbps.push(tp.Mbps);
      c.sentMbps.push(tp.sentMbps);
      c.loss.push(tp.lossPercent ?? 0);
    }
    this.done++;
  }

  /** The experiment's measurements, once its blocks are done (none if not one block finished). */
  measurements(): Measurement[] {
    if (this.done === 0) return [];
    const what = this.what;
    return this.cells.filter((x) => !x.aa).map((c) => {
      // Over every run's samples, with the one quantile definition of stats.ts.
      const s = summarize(c.samples);
      const aa = this.cells.find((x) => x.aa && x.cond === c.cond && x.side === c.side && x.protocol === c.protocol);
      return {
        experiment: what.experiment,
        side: c.side,
        protocol: c.protocol,
        ...what.conditions[c.cond],
        blockGroup: `experiment ${what.experiment}`,
        latency: { count: s.count, minNs: s.minNs, meanNs: s.meanNs, maxNs: s.maxNs, p50Ns: s.p50Ns, p90Ns: s.p90Ns, p99Ns: s.p99Ns, p999Ns: s.p999Ns, sent: c.sent, lost: c.lost },
        latencyRunP50Ns: c.p50s,
        latencyP50Ns: runSummary(c.p50s),
        latencySamplesNs: thin(c.samples, MAX_KEPT_SAMPLES),
        throughputRunsMbps: c.mbps,
        throughputMbps: runSummary(c.mbps),
        ...(c.protocol === 'udp' ? { udp: { sentMbps: runSummary(c.sentMbps), lossPercent: runSummary(c.loss) } } : {}),
        ...(aa ? { aa: { latencyRunP50Ns: aa.p50s, throughputRunsMbps: aa.mbps } } : {}),
      };
    });
  }
}

export interface Settle {
  step: string;
  waitedMs: number;
  /** Reference probes taken, the first included. */
  probes: number;
  /** Whether the reference came back within the threshold before the wait's bound. */
  settled: boolean;
  lastReferenceP50Ns: number;
}

/** A block whose reference is beyond this percent from the run's median is drift (the default). */
export const DRIFT_THRESHOLD_PERCENT = 25;

/** The longest wait for the lab to settle after a change: the default run stays within 5 minutes. */
export const SETTLE_MAX_MS = 10_000;

/**
 * Waits until the reference is back within `thresholdPercent` above `baseNs`, or `maxMs` has
 * passed. Booting guests for the next experiment keeps the lab's CPU busy for a while after
 * they answer (the first reference after 8 guests booted was 2.6-3.9x the run's median), and a
 * block measured in that tail is measured on a machine that is not the one of the others.
 */
export async function settle(reference: () => Promise<number>, baseNs: number, thresholdPercent: number, maxMs: number, signal?: AbortSignal): Promise<Omit<Settle, 'step'>> {
  const t0 = performance.now();
  for (let probes = 1; ; probes++) {
    signal?.throwIfAborted();
    const r = await reference();
    const settled = r <= baseNs * (1 + thresholdPercent / 100);
    if (settled || performance.now() - t0 >= maxMs) return { waitedMs: Math.round(performance.now() - t0), probes, settled, lastReferenceP50Ns: r };
    await sleep(250, signal);
  }
}

const groupLabel = (what: { experiment: Experiment; conditions: Condition[] }) =>
  what.experiment === 2 ? `experiment 2: servers ${what.conditions.map((c) => c.servers).join('/')}`
  : what.experiment === 3 ? `experiment 3: ${what.conditions.map((c) => c.guests).join('/')} guests` : `experiment ${what.experiment}`;

/**
 * Runs the chosen experiments; throws only after `out` holds everything measured so far.
 *
 * The experiments' blocks are interleaved: every round measures one block of each experiment,
 * in an order drawn anew every other round and mirrored in the next, so that each figure's
 * blocks spread over the whole run. Measured one after another, a stretch of minutes in which
 * the machine ran slower (seen: a guest 13-25% slower in one of two runs, all of its
 * experiment 2 figures with it) fell on one experiment alone and moved its figures between
 * runs by more than their CIs; spread out, such a stretch falls on every experiment in part and
 * shows in each figure's spread. A stage that can park a lab (LabStage with a cgroup freezer)
 * keeps one lab per experiment; one that cannot runs the experiments one after another.
 */
export async function runExperiments(stage: Stage, o: PaperRunOptions, out: Collected): Promise<void> {
  const rnd = prng(o.seed ?? 1);
  const groups = planGroups(o);
  const runs = groups.map((g) => new GroupRun(stage, o, { ...g, sides: g.experiment === 3 ? ['host'] : ['host', 'guest'] }));
  const clock = o.progress ? new RunClock(groups.length * o.runs, o.progress) : undefined;
  const phases = stage.prepare && !stage.canPark?.() ? runs.map((r) => [r]) : [runs];
  out.experimentOrder = phases.length === 1 && runs.length > 1 ? 'interleaved' : 'sequential';
  let steps = 0;
  try {
    for (const phase of phases) {
      if (stage.prepare) await prepareLabs(stage, o, phase, out);
      let order: GroupRun[] | undefined;
      for (let round = 0; ; round++) {
        const next = phase.filter((r) => r.wantsBlock());
        if (!next.length) break;
        const same = order && order.length === next.length && next.every((r) => order!.includes(r));
        order = blockOrder(next, round, rnd, same ? order : undefined);
        for (const r of order) {
          clock?.step(steps++, r.label, r.blocks, Math.max(o.runs, r.blocks + 1));
          if (o.reference) out.references.push({ atMs: Date.now(), step: r.label, block: r.blocks, referenceP50Ns: await o.reference() });
          await r.block(rnd);
        }
      }
      // Still on experiment 1's lab (it is torn down with the phase where labs cannot be parked).
      if (phase.some((r) => r.what.experiment === 1)) await experimentOneRows(stage, o, out);
    }
  } finally {
    for (const r of runs) out.measurements.push(...r.measurements());
  }
  if (o.rrul && !groups.some((g) => g.experiment === 1)) {
    await stage.prepare?.({ experiment: 1, servers: [], guests: 1 });
    await stage.arrange({ experiment: 1, servers: 'none', guests: 1 });
    await rrulRows(stage, o, out);
  }
}

/**
 * One lab per experiment of the phase, provisioned for all its conditions; then the wait for
 * the machine to settle, against the reference taken before the first lab (or, in a later
 * phase, the references so far).
 */
async function prepareLabs(stage: Stage, o: PaperRunOptions, phase: GroupRun[], out: Collected): Promise<void> {
  const base = o.reference && !out.references.length ? await o.reference() : undefined;
  for (const r of phase) {
    const c = r.what.conditions;
    await stage.prepare!({ experiment: r.what.experiment, servers: c.map((x) => x.servers).filter((s): s is Exclude<ServerRole, 'none'> => s !== 'none'), guests: Math.max(...c.map((x) => x.guests)) });
  }
  if (!o.reference) return;
  const threshold = o.driftThresholdPercent ?? DRIFT_THRESHOLD_PERCENT;
  const s = await settle(o.reference, base ?? median(out.references.map((r) => r.referenceP50Ns)), threshold, o.settleMaxMs ?? SETTLE_MAX_MS, o.signal);
  if (s.probes > 1) {
    const what = phase.map((r) => r.label).join('; ');
    (out.settles ??= []).push({ step: what, ...s });
    o.progress?.(`${what}: ${s.settled ? `waited ${(s.waitedMs / 1000).toFixed(1)} s for the reference to settle` : `the reference did not settle within ${(s.waitedMs / 1000).toFixed(1)} s; measuring anyway`}`);
  }
}

/** After experiment 1's blocks, on its lab: the loss-free UDP rate of each side, and the opt-in RRUL rows. */
async function experimentOneRows(stage: Stage, o: PaperRunOptions, out: Collected): Promise<void> {
  // The UDP puzzle: the highest rate each side takes with loss under 0.1%, on the path of the
  // unpaced UDP figure it is set beside: one way into the discard service, loss as the
  // receiver counted it.
  await stage.arrange({ experiment: 1, servers: 'none', guests: 1 });
  for (const side of ['host', 'guest'] as const) {
    o.progress?.(`experiment 1: loss-free UDP rate, ${side}`);
    const t = stage.target(side);
    const s = await (o.probes ?? REAL_PROBES).throughput({ host: t.host, netns: t.netns, cpu: o.probeCpu, port: t.discardPort, protocol: 'udp', size: o.udpDatagramBytes, durationS: 0.25, findMaxRate: true, lossThresholdPercent: 0.1, maxTrials: 8, signal: o.signal });
    out.rateSearches.push({ side, lossThresholdPercent: 0.1, maxRateMbps: s.search!.maxRateMbps, trials: s.search!.trials, method: 'one-way' });
  }
  if (o.rrul) await rrulRows(stage, o, out);
}

/** The opt-in RRUL row of each side: idle vs loaded response time, and the bulk throughput. */
async function rrulRows(stage: Stage, o: PaperRunOptions, out: Collected): Promise<void> {
  const run = (o.probes ?? REAL_PROBES).latencyUnderLoad ?? latencyUnderLoad;
  for (const side of ['host', 'guest'] as const) {
    o.progress?.(`latency under load (rrul), ${side}`);
    const t = stage.target(side);
    const r = await run({ host: t.host, netns: t.netns, echoPort: t.echoPort, discardPort: t.discardPort, sourcePort: t.sourcePort ?? t.echoPort + 2, streams: o.rrul!.streams, durationS: o.rrul!.durationS, signal: o.signal });
    (out.rrul ??= []).push({ side, streams: r.config.streams, durationS: r.config.durationS, tcp: r.tcp, udp: r.udp, bulk: r.bulk, latencyDuringLoad: r.latencyDuringLoad });
  }
}
