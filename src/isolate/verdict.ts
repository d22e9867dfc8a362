// Experiment 4's judgement, as pure functions over neighbour rounds: the phase of each round,
// the baseline's noise, a verdict per metric (isolated: within the noise; degraded by x%;
// broken: its probes failed), the neighbour's worst, and its recovery time.
import { quantile, sorted } from '../stats.js';
import type { FaultName } from './faults.js';
import { higherIsBetter, METRICS, VERDICT_METRICS, type ContainmentRow, type FaultRun, type Metric, type MetricRow, type NeighbourRow, type Phase, type Round, type Verdict } from './model.js';

/**
 * Below this a change is never called a degradation: a shared 2-CPU machine moves short
 * rounds by this much on its own (the baseline's own spread widens it further).
 */
export const MIN_NOISE_PERCENT = 50;

/** A round's phase: before (ended before the fault), during (overlaps the window), after. Rounds across the start are dropped. */
export function phaseOf(r: Pick<Round, 'startMs' | 'endMs'>, startMs: number, endMs: number): Phase | undefined {
  if (r.endMs <= startMs) return 'before';
  if (r.startMs < startMs) return undefined;
  if (r.startMs < endMs) return 'during';
  return 'after';
}

const median = (xs: number[]): number => quantile(sorted(xs), 0.5);

/** The baseline's noise, percent: the spread (max − min) of its rounds relative to their median, at least the floor. */
export function noisePercent(baseline: number[], floor = MIN_NOISE_PERCENT): number {
  if (baseline.length < 2) return floor;
  const m = median(baseline);
  if (!(m > 0)) return floor;
  return Math.max(floor, ((Math.max(...baseline) - Math.min(...baseline)) / m) * 100);
}

/** How much worse `x` is than the baseline `base`, percent (negative: better). */
export function worsePercent(metric: Metric, base: number, x: number): number {
  if (!(base > 0)) return 0;
  return (higherIsBetter(metric) ? (base - x) / base : (x - base) / base) * 100;
}

/** A phase's verdict for one metric: broken if any probe failed, else isolated within the noise, else degraded. */
export function judge(metric: Metric, base: number | null, values: (number | null)[], noise: number): Verdict {
  if (!values.length || base === null) return { kind: 'isolated' };
  if (values.some((v) => v === null)) return { kind: 'broken' };
  const w = worsePercent(metric, base, median(values as number[]));
  const worse = Math.round(w * 10) / 10;
  return w <= noise ? { kind: 'isolated', worsePercent: worse } : { kind: 'degraded', worsePercent: worse };
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

/** Whether one round is back within the baseline: every verdict metric it has is within the noise, none failed. */
function roundOk(r: Round, base: Map<Metric, { value: number; noise: number }>): boolean {
  for (const [m, b] of base) {
    const v = r.values[m];
    if (v === undefined) continue;
    if (v === null || worsePercent(m, b.value, v) > b.noise) return false;
  }
  return true;
}

/**
 * Judges one fault from its rounds: per neighbour and metric, the three phases, verdicts
 * during and after, and the neighbour's recovery time.
 */
export function analyse(rounds: Round[], startMs: number, endMs: number, neighbours: string[], floor = MIN_NOISE_PERCENT,
  noiseFor?: (neighbour: string, metric: Metric) => number | undefined): Pick<FaultRun, 'metrics' | 'neighbours'> {
  const metrics: MetricRow[] = [];
  const rows: NeighbourRow[] = [];
  for (const nb of neighbours) {
    const mine = rounds.filter((r) => r.neighbour === nb).sort((a, b) => a.startMs - b.startMs);
    const by: Record<Phase, Round[]> = { before: [], during: [], after: [] };
    for (const r of mine) {
      const p = phaseOf(r, startMs, endMs);
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
    const back = by.after.find((r) => roundOk(r, base) && !Object.values(r.values).some((v) => v === null));
    rows.push({ neighbour: nb, verdict, afterVerdict, recoveryMs: back ? Math.max(0, Math.round(back.startMs - endMs)) : null });
  }
  return { metrics, neighbours: rows };
}

/**
 * The run's noise per neighbour and metric: the spread (5th to 95th percentile, relative to the
 * median) of every baseline round of every fault of the pass. One fault's four baseline rounds
 * give an unsteady figure, and they miss what the host does between faults: a neighbour's p50
 * moves between two levels (~45 and ~90 µs for a guest here) as the scheduler places its
 * processes, for minutes at a time.
 */
export function pooledNoise(faults: FaultRun[], floor = MIN_NOISE_PERCENT): Map<string, number> {
  const by = new Map<string, number[]>();
  for (const f of faults) {
    const nbs = [...new Set(f.rounds.map((r) => r.neighbour))];
    for (const nb of nbs) {
      const before = f.rounds.filter((r) => r.neighbour === nb && phaseOf(r, f.startMs, f.endMs) === 'before').sort((a, b) => a.startMs - b.startMs);
      if (before.length >= 3) before.shift();  // the warm-up round, as in analyse
      for (const r of before)
        for (const [m, v] of Object.entries(r.values)) if (typeof v === 'number') by.set(`${nb}/${m}`, [...(by.get(`${nb}/${m}`) ?? []), v]);
    }
  }
  const out = new Map<string, number>();
  for (const [k, xs] of by) {
    const asc = sorted(xs);
    const m = quantile(asc, 0.5);
    out.set(k, m > 0 && xs.length >= 2 ? Math.max(floor, ((quantile(asc, 0.95) - quantile(asc, 0.05)) / m) * 100) : floor);
  }
  return out;
}

/** Judges every fault of a pass again against the pass's pooled noise (the verdicts reported). */
export function judgeAgainstPass(faults: FaultRun[], neighbours: string[], floor = MIN_NOISE_PERCENT): FaultRun[] {
  const pooled = pooledNoise(faults.filter((f) => !f.unsupported), floor);
  return faults.map((f) => (f.unsupported || !f.rounds.length ? f
    : { ...f, ...analyse(f.rounds, f.startMs, f.endMs, neighbours, floor, (nb, m) => pooled.get(`${nb}/${m}`)) }));
}

/** The limit that bears on a fault (none for the network and the kernel's own faults). */
export const LIMIT_FOR: Partial<Record<FaultName, 'cpu' | 'mem' | 'io' | 'pids'>> = { cpu: 'cpu', fork: 'pids', memory: 'mem', disk: 'io' };

/** Per fault and neighbour, unlimited vs limited: contained when the limits made it better (isolated, or a lesser verdict). */
export function containment(unlimited: FaultRun[], limited: FaultRun[]): ContainmentRow[] {
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
      out.push(row);
    }
  }
  return out;
}
