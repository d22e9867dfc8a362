// Statistics as small pure functions over integer-nanosecond samples. Qcheck reported
// min/avg/max of 10 checks; we add percentiles, spread and a confidence interval.

export interface Stats {
  count: number;
  minNs: number;
  meanNs: number;
  maxNs: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  stddevNs: number;
  /** Median absolute deviation from the median: spread that ignores stalls. */
  madNs: number;
  /** Half-width of the 95% confidence interval of the mean (Student t). */
  ci95Ns: number;
}

/** Sorted copy, ascending. */
export function sorted(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs).sort();
}

/** The median: the middle value, or the mean of the two middle ones; NaN when empty. */
export function median(xs: ArrayLike<number>): number {
  return quantile(sorted(xs), 0.5);
}

/** Quantile q in [0,1] of ascending data, linear between closest ranks. */
export function quantile(asc: ArrayLike<number>, q: number): number {
  const n = asc.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return asc[lo] + (asc[hi] - asc[lo]) * (h - lo);
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Sample standard deviation (n - 1). */
export function stddev(xs: ArrayLike<number>, m = mean(xs)): number {
  if (xs.length < 2) return 0;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

// Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12,
  2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t such that P(|T| < t) = 0.95 with df degrees of freedom. */
export function tCritical95(df: number): number {
  if (df < 1) return NaN;
  if (df <= 30) return T975[Math.floor(df) - 1];
  // Cornish-Fisher expansion around the normal quantile; error < 1e-4 past 30 df.
  const z = 1.959963985;
  const z3 = z ** 3, z5 = z ** 5, z7 = z ** 7;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3);
}

/** Half-width of the 95% confidence interval of the mean; 0 for fewer than 2 values. */
export function ci95(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  return (tCritical95(xs.length - 1) * stddev(xs)) / Math.sqrt(xs.length);
}

export function mad(asc: ArrayLike<number>): number {
  if (asc.length === 0) return NaN;
  const med = quantile(asc, 0.5);
  const dev = new Float64Array(asc.length);
  for (let i = 0; i < asc.length; i++) dev[i] = Math.abs(asc[i] - med);
  return quantile(dev.sort(), 0.5);
}

/** Everything a result reports about a set of nanosecond samples, rounded to integer ns. */
export function summarize(samplesNs: ArrayLike<number>): Stats {
  const asc = sorted(samplesNs);
  const n = asc.length;
  if (n === 0) {
    return { count: 0, minNs: 0, meanNs: 0, maxNs: 0, p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0, stddevNs: 0, madNs: 0, ci95Ns: 0 };
  }
  const m = mean(asc);
  const r = Math.round;
  return {
    count: n,
    minNs: r(asc[0]),
    meanNs: r(m),
    maxNs: r(asc[n - 1]),
    p50Ns: r(quantile(asc, 0.5)),
    p90Ns: r(quantile(asc, 0.9)),
    p99Ns: r(quantile(asc, 0.99)),
    p999Ns: r(quantile(asc, 0.999)),
    stddevNs: r(stddev(asc, m)),
    madNs: r(mad(asc)),
    ci95Ns: r(ci95(asc)),
  };
}

/** Mean and 95% CI half-width of per-run figures (e.g. throughput of 10 runs). */
export function meanCi(xs: ArrayLike<number>): { mean: number; ci95: number; n: number } {
  return { mean: mean(xs), ci95: ci95(xs), n: xs.length };
}

/** Both summaries of per-run figures: mean with its t-interval, median with its sign-test interval. */
export function runSummary(xs: ArrayLike<number>): { mean: number; ci95: number; n: number; median: number; ci95Low: number; ci95High: number } {
  return { ...meanCi(xs), ...medianCi(xs) };
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.SQRT2);
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t) * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

export interface MannWhitney {
  u: number;
  /** Two-sided p-value, normal approximation with tie and continuity corrections. */
  p: number;
  /** P(a sample of x exceeds one of y) + half the ties: 0.5 means no shift. */
  probXGreater: number;
}

/**
 * Mann-Whitney U test of x against y: valid for skewed latency distributions, where a t-test
 * on means is not.
 */
export function mannWhitney(x: ArrayLike<number>, y: ArrayLike<number>): MannWhitney {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, p: NaN, probXGreater: NaN };
  const all: { v: number; fromX: boolean }[] = [];
  for (let i = 0; i < n1; i++) all.push({ v: x[i], fromX: true });
  for (let i = 0; i < n2; i++) all.push({ v: y[i], fromX: false });
  all.sort((a, b) => a.v - b.v);
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1;
    const t = j - i + 1;
    if (t > 1) tieTerm += t ** 3 - t;
    for (let k = i; k <= j; k++) if (all[k].fromX) rankSumX += rank;
    i = j + 1;
  }
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = sigma > 0 ? (Math.abs(u - mu) - 0.5) / sigma : 0;
  const p = sigma > 0 ? Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))) : 1;
  return { u, p, probXGreater: u / (n1 * n2) };
}

/** P(X <= k) for X ~ Binomial(n, 1/2). */
function binomHalfCdf(k: number, n: number): number {
  let term = 0.5 ** n;
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum;
}

/**
 * Median with a distribution-free confidence interval of at least 95% (order statistics of
 * the sign test): robust to the odd stalled run that drags a mean and its t-interval.
 * With fewer than 6 values no such interval exists: it spans min..max.
 */
export function medianCi(xs: ArrayLike<number>): { median: number; ci95Low: number; ci95High: number } {
  const asc = sorted(xs);
  const n = asc.length;
  if (n === 0) return { median: NaN, ci95Low: NaN, ci95High: NaN };
  // Largest k with P(X < k) <= 2.5%: the interval [x(k), x(n-k+1)] (1-based) covers >= 95%.
  let k = 0;
  while (k + 1 <= Math.floor(n / 2) && binomHalfCdf(k, n) <= 0.025) k++;
  const lo = Math.max(0, k - 1);
  return { median: quantile(asc, 0.5), ci95Low: asc[lo], ci95High: asc[n - 1 - lo] };
}

/** A small deterministic PRNG (mulberry32): a sequence in [0, 1) reproducible from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Ratio of medians a/b over paired rounds (a[i] and b[i] measured back to back) and its 95%
 * percentile-bootstrap CI, rounds resampled as pairs: a drift shared by a round's two sides
 * falls out of the ratio instead of widening its CI. Deterministic: the resampling is seeded.
 */
export function pairedMedianRatio(a: ArrayLike<number>, b: ArrayLike<number>, reps = 4000, seed = 1): { ratio: number; low: number; high: number } {
  const n = Math.min(a.length, b.length);
  if (n === 0) return { ratio: NaN, low: NaN, high: NaN };
  const rnd = prng(seed);
  const ra = new Float64Array(n);
  const rb = new Float64Array(n);
  const rs = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rnd() * n);
      ra[i] = a[k];
      rb[i] = b[k];
    }
    rs[r] = median(ra) / median(rb);
  }
  rs.sort();
  const ratio = median(Float64Array.from(a).subarray(0, n)) / median(Float64Array.from(b).subarray(0, n));
  return { ratio, low: rs[Math.floor(0.025 * reps)], high: rs[Math.ceil(0.975 * reps) - 1] };
}
