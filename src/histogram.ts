// Statistics from a log-bucketed histogram (native/core/histogram.h): bounded memory for long
// runs. Bucket k holds values in (g^(k-1), g^k], g = (1 + alpha) / (1 - alpha); its
// representative 2 g^k / (g + 1) is within alpha (relative) of every value in it, so every
// percentile is within alpha of the exact one. Count, min, max, mean and standard deviation are
// exact; the MAD is from the representatives (its error is relative to the values, not to itself).
import { tCritical95, type Stats } from './stats.js';

export interface HistogramData {
  alpha: number;
  count: number;
  /** Samples of 0 ns (or less). */
  zeros: number;
  minNs: number;
  maxNs: number;
  meanNs: number;
  /** Sum of squared deviations from the mean (Welford). */
  m2: number;
  /** Dense: counts[k] for bucket k. */
  counts: ArrayLike<number>;
}

/** The same bucketing in TypeScript (tests, and anything that records in JS). */
export class LogHistogram implements HistogramData {
  readonly alpha: number;
  count = 0;
  zeros = 0;
  minNs = 0;
  maxNs = 0;
  meanNs = 0;
  m2 = 0;
  counts: number[] = [];
  private lnGamma: number;
  constructor(alpha = 0.001) {
    this.alpha = alpha;
    this.lnGamma = Math.log((1 + alpha) / (1 - alpha));
  }
  record(ns: number): void {
    this.count++;
    if (this.count === 1 || ns < this.minNs) this.minNs = ns;
    if (this.count === 1 || ns > this.maxNs) this.maxNs = ns;
    const d = ns - this.meanNs;
    this.meanNs += d / this.count;
    this.m2 += d * (ns - this.meanNs);
    if (ns <= 0) {
      this.zeros++;
      return;
    }
    const k = Math.ceil(Math.log(ns) / this.lnGamma);
    while (this.counts.length <= k) this.counts.push(0);
    this.counts[k]++;
  }
}

/** (value, count) runs in ascending order: the zeros, then each non-empty bucket's representative, clamped to [min, max]. */
function runs(h: HistogramData): [number, number][] {
  const g = (1 + h.alpha) / (1 - h.alpha);
  const out: [number, number][] = [];
  if (h.zeros > 0) out.push([Math.min(0, h.minNs), h.zeros]);
  for (let k = 0; k < h.counts.length; k++) {
    const c = h.counts[k];
    if (!c) continue;
    const v = (2 * Math.pow(g, k)) / (g + 1);
    out.push([Math.min(h.maxNs, Math.max(h.minNs, v)), c]);
  }
  return out;
}

/** Quantile q of ascending (value, count) runs, linear between closest ranks (as stats.ts's quantile). */
function quantileOfRuns(rs: [number, number][], n: number, q: number): number {
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const at = (rank: number) => {
    let seen = 0;
    for (const [v, c] of rs) {
      seen += c;
      if (rank < seen) return v;
    }
    return rs[rs.length - 1][0];
  };
  const a = at(lo);
  return a + (at(hi) - a) * (h - lo);
}

/** Everything a result reports, as summarize() does for every sample. */
export function histogramStats(h: HistogramData): Stats {
  const n = h.count;
  if (n === 0) return { count: 0, minNs: 0, meanNs: 0, maxNs: 0, p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0, stddevNs: 0, madNs: 0, ci95Ns: 0 };
  const rs = runs(h);
  const med = quantileOfRuns(rs, n, 0.5);
  const dev = rs.map(([v, c]) => [Math.abs(v - med), c] as [number, number]).sort((a, b) => a[0] - b[0]);
  const sd = n > 1 ? Math.sqrt(h.m2 / (n - 1)) : 0;
  const r = Math.round;
  return {
    count: n,
    minNs: r(h.minNs),
    meanNs: r(h.meanNs),
    maxNs: r(h.maxNs),
    p50Ns: r(med),
    p90Ns: r(quantileOfRuns(rs, n, 0.9)),
    p99Ns: r(quantileOfRuns(rs, n, 0.99)),
    p999Ns: r(quantileOfRuns(rs, n, 0.999)),
    stddevNs: r(sd),
    madNs: r(quantileOfRuns(dev, n, 0.5)),
    ci95Ns: r(n > 1 ? (tCritical95(n - 1) * sd) / Math.sqrt(n) : 0),
  };
}
