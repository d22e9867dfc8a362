// Paired comparisons: two sides measured in the same block, close in time, compared as the
// ratio per block. Pure functions: the ratio with its 95% CI (t on log-ratios), a two-sided
// p-value, Holm's correction across a run's comparisons, and the verdict against an A/A floor.
import { mean, tCritical95 } from '../stats.js';

export interface PairedRatio {
  /** Geometric mean of b/a over the blocks. */
  ratio: number;
  ci95Low: number;
  ci95High: number;
  /** Blocks with both figures positive. */
  n: number;
  /** Two-sided p of "no difference" (one-sample t on the log-ratios); NaN under 2 blocks. */
  p: number;
}

/** Continued fraction of the regularised incomplete beta function (Numerical Recipes' betacf). */
function betacf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-12) break;
  }
  return h;
}

/** ln Γ(x) for x ≥ 0.5 (all this module needs: half-integer and larger arguments). */
function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  x -= 1;
  let a = g[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += g[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** I_x(a, b), the regularised incomplete beta function. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betacf(a, b, x)) / a : 1 - (front * betacf(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t with `df` degrees of freedom. */
export function tTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The ratio b/a per block, summarised. Blocks where either figure is not positive are left out. */
export function pairedRatio(a: number[], b: number[]): PairedRatio {
  const logs: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] > 0 && b[i] > 0) logs.push(Math.log(b[i] / a[i]));
  const n = logs.length;
  if (n === 0) return { ratio: NaN, ci95Low: NaN, ci95High: NaN, n, p: NaN };
  const m = mean(logs);
  if (n < 2) return { ratio: Math.exp(m), ci95Low: 0, ci95High: Infinity, n, p: NaN };
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  if (se === 0) return { ratio: Math.exp(m), ci95Low: Math.exp(m), ci95High: Math.exp(m), n, p: m === 0 ? 1 : 0 };
  const half = tCritical95(n - 1) * se;
  return { ratio: Math.exp(m), ci95Low: Math.exp(m - half), ci95High: Math.exp(m + half), n, p: tTwoSidedP(m / se, n - 1) };
}

/** The mean of the logs of the positive values, and the variance of that mean (NaN under two values). */
export function logMoments(xs: number[]): { m: number; v: number; n: number } {
  const ls = xs.filter((x) => x > 0).map(Math.log);
  const m = ls.length ? mean(ls) : NaN;
  return { m, v: ls.length > 1 ? ls.reduce((acc, x) => acc + (x - m) ** 2, 0) / (ls.length - 1) / ls.length : NaN, n: ls.length };
}

/**
 * The ratio b/a of two independent samples (runs measured at different times): ratio of
 * geometric means with Welch's t on the logs. Fewer than two values on a side: unbounded.
 */
export function unpairedRatio(a: number[], b: number[]): PairedRatio {
  const la = logMoments(a), lb = logMoments(b);
  const n = Math.min(la.n, lb.n);
  if (n === 0) return { ratio: NaN, ci95Low: NaN, ci95High: NaN, n, p: NaN };
  const d = lb.m - la.m;
  if (la.n < 2 || lb.n < 2) return { ratio: Math.exp(d), ci95Low: 0, ci95High: Infinity, n, p: NaN };
  const se = Math.sqrt(la.v + lb.v);
  if (se === 0) return { ratio: Math.exp(d), ci95Low: Math.exp(d), ci95High: Math.exp(d), n, p: d === 0 ? 1 : 0 };
  const df = Math.max(1, (la.v + lb.v) ** 2 / (la.v ** 2 / (la.n - 1) + lb.v ** 2 / (lb.n - 1)));
  const half = tCritical95(df) * se;
  return { ratio: Math.exp(d), ci95Low: Math.exp(d - half), ci95High: Math.exp(d + half), n, p: tTwoSidedP(d / se, df) };
}

/** Holm's step-down adjustment: adjusted p-values in the input order (NaN stays NaN). */
export function holm(ps: number[]): number[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((x, y) => x[0] - y[0]);
  const out = ps.map((p) => (Number.isFinite(p) ? 1 : NaN));
  let running = 0;
  idx.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (idx.length - k) * p));
    out[i] = running;
  });
  return out;
}

/** How far an A/A ratio strays from 1 at most, within its CI: the run's noise floor, as a fraction. */
export function noiseFloor(aa: Pick<PairedRatio, 'ci95Low' | 'ci95High'>): number {
  if (!Number.isFinite(aa.ci95Low) || !Number.isFinite(aa.ci95High) || aa.ci95Low <= 0) return Infinity;
  return Math.max(Math.abs(Math.log(aa.ci95High)), Math.abs(Math.log(aa.ci95Low)));
}

export type PairedVerdict = 'differs' | 'no effect beyond noise' | 'too few runs';

export const ALPHA = 0.05;

/**
 * "differs" needs both: Holm-adjusted p below α, and an effect shown to be larger than the A/A
 * floor: the whole 95% CI of the ratio lies beyond it, on one side of 1 (a minimum-effect test
 * with the floor as its margin). An estimate just past the floor whose CI reaches back into it
 * is an effect of the noise's size, and two runs would call it each way. A/A rows themselves
 * are judged by p alone (floor 0: a CI that excludes 1, implied by p below α).
 */
export function pairedVerdict(r: PairedRatio, pHolm: number, floor: number): PairedVerdict {
  if (r.n < 3 || !Number.isFinite(pHolm)) return 'too few runs';
  if (pHolm >= ALPHA) return 'no effect beyond noise';
  const low = Math.log(r.ci95Low), high = Math.log(r.ci95High);
  return low > floor || high < -floor ? 'differs' : 'no effect beyond noise';
}
