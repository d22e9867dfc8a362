// Experiment 4's judgement, as pure functions over neighbour rounds: the phase of each round,
// the baseline's noise, a verdict per metric (isolated: within the noise; degraded by x%;
// broken: its probes failed), the neighbour's worst, and its recovery time.
import { median } from '../stats.js';
import type { FaultName } from './faults.js';
import { higherIsBetter, METRICS, VERDICT_METRICS, type ContainmentRow, type FaultRun, type Metric, type MetricRow, type NeighbourRow, type Phase, type Round, type Verdict } from './model.js';

/**
 * Below this a change is never called a degradation, however steady the baseline: what a
 * neighbour's figures move by between minutes on a shared host with the prober and the guests
 * pinned (pin.ts). The baseline's own spread between slices usually sets a wider floor.
 */
export const MIN_NOISE_PERCENT = 10;
/** The baseline is measured as this many slices (consecutive runs of rounds); its noise is the spread between their medians. */
export const BASELINE_SLICES = 4;
/** Rounds a slice needs for its median to shrug off one stalled round. */
export const MIN_SLICE_ROUNDS = 3;

/**
 * A round's phase: before (ended before the fault), during (starts within the fault's window),
 * after (starts once the fault was undone). Rounds across the start are dropped, and so are
 * rounds of an overrun: a fault that outlived its window (`windowEndMs`, before `endMs`) until the
 * guest was replaced. The window is when the fault was meant to act; an overrun's length depends
 * on how long the guest took to fail to answer, and judging it with the window let one run call
 * a neighbour degraded by 87% and the next, whose overrun was longer, isolated.
 */
export function phaseOf(r: Pick<Round, 'startMs' | 'endMs'>, startMs: number, endMs: number, windowEndMs = endMs): Phase | undefined {
  if (r.endMs <= startMs) return 'before';
  if (r.startMs < startMs) return undefined;
  if (r.startMs < Math.min(windowEndMs, endMs)) return 'during';
  if (r.startMs < endMs) return undefined;
  return 'after';
}


/** `xs` (in time order) cut into `n` consecutive slices of near-equal size (fewer when there are fewer values). */
export function slicesOf<T>(xs: readonly T[], n: number): T[][] {
  const k = Math.max(1, Math.min(n, xs.length));
  const out: T[][] = [];
  for (let i = 0; i < k; i++) out.push(xs.slice(Math.round((i * xs.length) / k), Math.round(((i + 1) * xs.length) / k)));
  return out.filter((x) => x.length);
}

/**
 * The baseline's noise, percent of its median: the spread (max − min) between the medians of
 * its slices, at least the floor. A single stalled round moves its slice's median little; a
 * level the neighbour moves between during the baseline shows in full. With too few rounds
 * for slices of three, the spread of the rounds themselves (wider, so a verdict errs towards
 * isolated).
 */
export function noisePercent(baseline: number[], floor = MIN_NOISE_PERCENT, nSlices = BASELINE_SLICES): number {
  if (baseline.length < 2) return Math.max(floor, 100);
  const m = median(baseline);
  if (!(m > 0)) return Math.max(floor, 100);
  const k = Math.min(nSlices, Math.floor(baseline.length / MIN_SLICE_ROUNDS));
  const points = k >= 2 ? slicesOf(baseline, k).map(median) : baseline;
  return Math.max(floor, ((Math.max(...points) - Math.min(...points)) / m) * 100);
}

/** How much worse `x` is than the baseline `base`, percent (negative: better). */
export function worsePercent(metric: Metric, base: number, x: number): number {
  if (!(base > 0)) return 0;
  return (higherIsBetter(metric) ? (base - x) / base : (x - base) / base) * 100;
}

/** Share of a phase's slices that must be beyond the noise on their own for it to be degraded. */
export const SUSTAINED_SHARE = 0.75;

/**
 * A phase's verdict for one metric (`values` in time order): broken if any probe failed; else
 * degraded when the phase's median is worse than the baseline by more than the noise and the
 * degradation is sustained (most of the phase's slices are beyond the noise on their own: a
 * burst of the shared host's load in one part of the window is not the fault's doing); else
 * isolated.
 */
export function judge(metric: Metric, base: number | null, values: (number | null)[], noise: number, nSlices = BASELINE_SLICES): Verdict {
  if (!values.length || base === null) return { kind: 'isolated' };
  if (values.some((v) => v === null)) return { kind: 'broken' };
  const xs = values as number[];
  const w = worsePercent(metric, base, median(xs));
  const worse = Math.round(w * 10) / 10;
  if (w <= noise) return { kind: 'isolated', worsePercent: worse };
  const k = Math.min(nSlices, Math.floor(xs.length / MIN_SLICE_ROUNDS));
  if (k >= 2) {
    const beyond = slicesOf(xs, k).filter((s) => worsePercent(metric, base, median(s)) > noise).length;
    if (beyond < Math.ceil(k * SUSTAINED_SHARE)) return { kind: 'isolated', worsePercent: worse };
  }
  return { kind: 'degraded', worsePercent: worse };
}

const RANK = { isolated: 0, degraded: 1, broken: 2 } as const;

/** The worse of two verdicts (the larger degradation among degraded ones). */
export function worst(a: Verdict, b: Verdict): Verdict {
  if (RANK[a.kind] !== RANK[b.kind]) return RANK[a.kind] > RANK[b.kind] ? a : b;
  return (b.worsePercent ?? -Infinity) > (a.worsePercent ?? -Infinity) ? b : a;
}

/** A verdict as the table says it. */
export function verdictText(v: Verdict): string {
  if (v.kind === 'degraded') return `degraded by ${Math.round(v.worsePercent ?? 0)}%`;
  return v.kind;
}

/**
 * Whether the neighbour is back within the baseline from round `i` of `after` on: the median of
 * that round and the next (one round alone is too noisy to judge against slice medians) is
 * within the noise for every verdict metric, and neither round failed.
 */
function backFrom(after: Round[], i: number, base: Map<Metric, { value: number; noise: number }>): boolean {
  const pair = after.slice(i, i + 2);
  if (pair.some((r) => Object.values(r.values).some((v) => v === null))) return false;
  for (const [m, b] of base) {
    const vs = pair.map((r) => r.values[m]).filter((v): v is number => typeof v === 'number');
    if (!vs.length) continue;
    if (worsePercent(m, b.value, median(vs)) > b.noise) return false;
  }
  return true;
}

/**
 * Judges one fault from its rounds: per neighbour and metric, the three phases, verdicts
 * during and after, and the neighbour's recovery time.
 */
export interface FaultSpan {
  startMs: number;
  endMs: number;
  /** Where the judged window ends (default endMs): see windowEnd. */
  windowEndMs?: number;
}
export interface Judging {
  /** The least noise a baseline is given, in percent. */
  floor?: number;
  /** A neighbour's noise for a metric in percent; default its own baseline's spread. */
  noiseFor?: (neighbour: string, metric: Metric) => number | undefined;
}
export function analyse(rounds: Round[], span: FaultSpan, neighbours: string[], judging: Judging = {}): Pick<FaultRun, 'metrics' | 'neighbours'> {
  const { startMs, endMs, windowEndMs = endMs } = span;
  const { floor = MIN_NOISE_PERCENT, noiseFor } = judging;
  const metrics: MetricRow[] = [];
  const rows: NeighbourRow[] = [];
  for (const nb of neighbours) {
    const mine = rounds.filter((r) => r.neighbour === nb).sort((a, b) => a.startMs - b.startMs);
    const by: Record<Phase, Round[]> = { before: [], during: [], after: [] };
    for (const r of mine) {
      const p = phaseOf(r, startMs, endMs, windowEndMs);
      if (p) by[p].push(r);
    }
    // The first round warms paths and caches: not part of the baseline when there are others.
    if (by.before.length >= 3) by.before.shift();
    const base = new Map<Metric, { value: number; noise: number }>();
    let verdict: Verdict = { kind: 'isolated' };
    let afterVerdict: Verdict = { kind: 'isolated' };
    for (const m of METRICS) {
      if (!mine.some((r) => r.values[m] !== undefined)) continue;
      const vals = (p: Phase) => by[p].map((r) => r.values[m]).filter((v): v is number | null => v !== undefined);
      const ok = (xs: (number | null)[]) => xs.filter((v): v is number => v !== null);
      const b = ok(vals('before'));
      const before = b.length ? median(b) : null;
      const noise = noiseFor?.(nb, m) ?? noisePercent(b, floor);
      const d = vals('during'), a = vals('after');
      const dv = judge(m, before, d, noise), av = judge(m, before, a, noise);
      metrics.push({
        neighbour: nb, metric: m, before,
        during: ok(d).length ? median(ok(d)) : null,
        after: ok(a).length ? median(ok(a)) : null,
        noisePercent: Math.round(noise * 10) / 10, duringVerdict: dv, afterVerdict: av,
      });
      const counts = VERDICT_METRICS.includes(m);
      if (counts || dv.kind === 'broken') verdict = worst(verdict, dv);
      if (counts || av.kind === 'broken') afterVerdict = worst(afterVerdict, av);
      if (before !== null && counts) base.set(m, { value: before, noise });
    }
    const i = by.after.findIndex((_, j) => backFrom(by.after, j, base));
    rows.push({ neighbour: nb, verdict, afterVerdict, recoveryMs: i >= 0 ? Math.max(0, Math.round(by.after[i].startMs - endMs)) : null });
  }
  return { metrics, neighbours: rows };
}

/** A fault's baseline values per neighbour and metric (`nb/metric`), the warm-up round left out as in analyse. */
function baselines(f: FaultRun): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const nb of new Set(f.rounds.map((r) => r.neighbour))) {
    const before = f.rounds.filter((r) => r.neighbour === nb && phaseOf(r, f.startMs, f.endMs) === 'before').sort((a, b) => a.startMs - b.startMs);
    if (before.length >= 3) before.shift();
    for (const r of before)
      for (const [m, v] of Object.entries(r.values)) if (typeof v === 'number') by.set(`${nb}/${m}`, [...(by.get(`${nb}/${m}`) ?? []), v]);
  }
  return by;
}

/**
 * The pass's typical noise per neighbour and metric (`nb/metric`): the median over its faults
 * of each fault's own slice spread. A fault whose baseline happened to be quiet is not judged
 * against a floor narrower than the pass's usual one.
 */
export function pooledNoise(faults: FaultRun[], floor = MIN_NOISE_PERCENT): Map<string, number> {
  const by = new Map<string, number[]>();
  for (const f of faults)
    for (const [k, xs] of baselines(f)) by.set(k, [...(by.get(k) ?? []), noisePercent(xs, floor)]);
  return new Map([...by].map(([k, ns]) => [k, median(ns)]));
}

/** Where a fault's window ended: its start plus the window, or its end if it was undone sooner. */
export function windowEnd(f: Pick<FaultRun, 'startMs' | 'endMs' | 'windowS'>): number {
  return Math.min(f.endMs, f.startMs + f.windowS * 1000);
}

/** Judges every fault of a pass again: each against the wider of its own baseline's noise and the pass's typical noise (the verdicts reported). */
export function judgeAgainstPass(faults: FaultRun[], neighbours: string[], floor = MIN_NOISE_PERCENT): FaultRun[] {
  const pooled = pooledNoise(faults.filter((f) => !f.unsupported), floor);
  return faults.map((f) => {
    if (f.unsupported || !f.rounds.length) return f;
    const own = baselines(f);
    const noiseFor = (nb: string, m: Metric) => {
      const k = `${nb}/${m}`;
      const xs = own.get(k);
      const mine = xs ? noisePercent(xs, floor) : undefined;
      const p = pooled.get(k);
      return mine === undefined ? p : Math.max(mine, p ?? floor);
    };
    return { ...f, ...analyse(f.rounds, { startMs: f.startMs, endMs: f.endMs, windowEndMs: windowEnd(f) }, neighbours, { floor, noiseFor }) };
  });
}

/** The limit that bears on a fault (none for the network and the kernel's own faults). */
export const LIMIT_FOR: Partial<Record<FaultName, 'cpu' | 'mem' | 'io' | 'pids'>> = { cpu: 'cpu', fork: 'pids', memory: 'mem', disk: 'io' };

/**
 * Per fault and neighbour, unlimited vs limited: contained when the limits made it better
 * (isolated, or a lesser verdict). `unsupported`: the limits the host could not apply to the
 * faulty guest; a fault whose limit is among them is never called contained by it.
 */
export function containment(unlimited: FaultRun[], limited: FaultRun[], unsupported: readonly string[] = []): ContainmentRow[] {
  const out: ContainmentRow[] = [];
  for (const u of unlimited) {
    const l = limited.find((x) => x.fault === u.fault);
    if (!l) continue;
    for (const un of u.neighbours) {
      const ln = l.neighbours.find((x) => x.neighbour === un.neighbour);
      if (!ln) continue;
      const better = RANK[ln.verdict.kind] < RANK[un.verdict.kind];
      const row: ContainmentRow = { fault: u.fault, neighbour: un.neighbour, unlimited: un.verdict, limited: ln.verdict, contained: un.verdict.kind !== 'isolated' && better };
      const lim = LIMIT_FOR[u.fault];
      if (lim) row.limit = lim;
      if (lim && unsupported.includes(lim)) {
        row.limitUnsupported = true;
        row.contained = false;
      }
      out.push(row);
    }
  }
  return out;
}
