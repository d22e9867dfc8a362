import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ci95, mad, mannWhitney, mean, meanCi, median, medianCi, normalCdf, pairedMedianRatio, quantile, runSummary, sorted, stddev, summarize, tCritical95 } from '../src/stats.js';

test('quantile interpolates between closest ranks', () => {
  const asc = sorted([4, 1, 3, 2]);
  assert.is(quantile(asc, 0), 1);
  assert.is(quantile(asc, 1), 4);
  assert.is(quantile(asc, 0.5), 2.5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('summarize gives integer ns and the Qcheck triple', () => {
  const s = summarize([1000, 2000, 3000, 4000, 100000]);
  assert.is(s.count, 5);
  assert.is(s.minNs, 1000);
  assert.is(s.maxNs, 100000);
  assert.is(s.meanNs, 22000);
  assert.is(s.p50Ns, 3000);
  assert.is(s.madNs, 1000);
  for (const v of Object.values(s)) assert.ok(Number.isInteger(v), `${v} is an integer`);
});

test('stddev is the sample standard deviation', () => {
  assert.is(stddev([2, 4, 4, 4, 5, 5, 7, 9]).toFixed(6), (2.138089935).toFixed(6));
  assert.is(stddev([5]), 0);
});

test('Student t critical values match tables', () => {
  assert.is(tCritical95(1), 12.706);
  assert.is(tCritical95(9), 2.262);
  assert.ok(Math.abs(tCritical95(40) - 2.021) < 0.001);
  assert.ok(Math.abs(tCritical95(120) - 1.98) < 0.001);
  assert.ok(Math.abs(tCritical95(1e6) - 1.96) < 0.001);
});

test('ci95 of ten values uses t with 9 df', () => {
  const xs = [10, 12, 11, 13, 9, 10, 11, 12, 10, 12];
  const expect = (2.262 * stddev(xs)) / Math.sqrt(10);
  assert.ok(Math.abs(ci95(xs) - expect) < 1e-9);
  assert.is(ci95([1]), 0);
});

test('mad ignores a stall', () => {
  assert.is(mad(sorted([10, 11, 12, 13, 5000])), 1);
});

test('empty input summarises to zeros', () => {
  assert.is(summarize([]).count, 0);
});

test('median: the middle value, the mean of the two middle ones, NaN when empty; the input is not reordered', () => {
  const xs = [9, 1, 5];
  assert.is(median(xs), 5);
  assert.equal(xs, [9, 1, 5]);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('median CI: order statistics x(2)..x(9) of ten, min..max below six', () => {
  const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
  assert.equal(medianCi(ten), { median: 5.5, ci95Low: 2, ci95High: 9 });
  assert.equal(medianCi([3, 1, 2]), { median: 2, ci95Low: 1, ci95High: 3 });
  // Robust: one stalled run moves neither end.
  assert.equal(medianCi([1e9, ...ten.slice(1)]), { median: 5.5, ci95Low: 2, ci95High: 9 });
});

test('normal CDF matches known values', () => {
  assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
  assert.ok(Math.abs(normalCdf(-1) - 0.158655) < 1e-6);
});

test('Mann-Whitney U: a known textbook case and the null case', () => {
  // x all below y: U = 0, clearly significant for 8 vs 8.
  const x = [1, 2, 3, 4, 5, 6, 7, 8];
  const y = [11, 12, 13, 14, 15, 16, 17, 18];
  const r = mannWhitney(x, y);
  assert.is(r.u, 0);
  assert.is(r.probXGreater, 0);
  assert.ok(r.p < 0.001, `p ${r.p}`);
  // Identical samples: no evidence of a shift.
  const same = mannWhitney(x, x);
  assert.is(same.u, 32);
  assert.ok(same.p > 0.9);
  // Interleaved: U = n1*n2/2 area, p large.
  const mixed = mannWhitney([1, 3, 5, 7, 9, 11], [2, 4, 6, 8, 10, 12]);
  assert.is(mixed.u, 15);
  assert.ok(mixed.p > 0.5);
});

test('Mann-Whitney corrects for ties and for continuity (values as scipy.stats.mannwhitneyu, asymptotic)', () => {
  // Ties across and within the samples: without the tie correction p would be ~0.0197.
  const tied = mannWhitney([1, 2, 2, 3, 3, 3, 4], [3, 3, 4, 4, 5, 5, 6]);
  assert.is(tied.u, 6);
  assert.ok(Math.abs(tied.p - 0.0178543) < 1e-6, `p ${tied.p}`);
  assert.ok(Math.abs(tied.probXGreater - 6 / 49) < 1e-12);
  // Almost all tied: the correction shrinks sigma a lot.
  const flat = mannWhitney([5, 5, 5, 5, 5], [5, 5, 5, 5, 6]);
  assert.is(flat.u, 10);
  assert.ok(Math.abs(flat.p - 0.4237108) < 1e-6, `p ${flat.p}`);
  // Fully apart, no ties: two-sided, symmetric in its arguments.
  const apart = mannWhitney([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  assert.ok(Math.abs(apart.p - 0.000182672) < 1e-7, `p ${apart.p}`);
  const back = mannWhitney([11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.is(back.p, apart.p);
  assert.is(back.u, 100);
  assert.is(back.probXGreater, 1);
  // Everything tied: no evidence at all.
  assert.is(mannWhitney([3, 3, 3], [3, 3, 3]).p, 1);
  assert.ok(Number.isNaN(mannWhitney([], [1, 2]).p));
  assert.ok(Number.isNaN(mannWhitney([1, 2], []).u));
});

test('median CI is two-sided: 2.5% in each tail (n = 14: x(3)..x(12); a 5% tail would give x(4)..x(11))', () => {
  const xs = Array.from({ length: 14 }, (_, i) => (i * 5) % 14 + 1); // 1..14, shuffled
  assert.equal(medianCi(xs), { median: 7.5, ci95Low: 3, ci95High: 12 });
  // n = 6, the smallest with an interval inside min..max? P(X <= 0) = 1.6% <= 2.5%: x(1)..x(6).
  assert.equal(medianCi([6, 5, 4, 3, 2, 1]), { median: 3.5, ci95Low: 1, ci95High: 6 });
  // n = 9: x(2)..x(8) (P(X <= 1) = 2.0%).
  assert.equal(medianCi([9, 8, 7, 6, 5, 4, 3, 2, 1]), { median: 5, ci95Low: 2, ci95High: 8 });
  // n = 30: x(10)..x(21) (P(X <= 9) = 2.1%, P(X <= 10) = 4.9%).
  const thirty = Array.from({ length: 30 }, (_, i) => 30 - i);
  assert.equal(medianCi(thirty), { median: 15.5, ci95Low: 10, ci95High: 21 });
  const e = medianCi([]);
  assert.ok(Number.isNaN(e.median) && Number.isNaN(e.ci95Low) && Number.isNaN(e.ci95High));
});

test('meanCi and runSummary: mean with its t-interval, median with its interval, and n', () => {
  const xs = [10, 12, 11, 13, 9, 10, 11, 12, 10, 12];
  const s = runSummary(xs);
  assert.is(s.mean, 11);
  assert.is(s.n, 10);
  assert.ok(Math.abs(s.ci95 - (2.262 * stddev(xs)) / Math.sqrt(10)) < 1e-12);
  assert.is(s.median, 11);
  assert.equal([s.ci95Low, s.ci95High], [10, 12]);
  assert.equal(meanCi([4]), { mean: 4, ci95: 0, n: 1 });
  assert.ok(Number.isNaN(mean([])));
});

test('summarize: percentiles interpolated between ranks, spread measures, all rounded', () => {
  const xs = Array.from({ length: 1001 }, (_, i) => 1000 - i); // 0..1000, reversed
  const s = summarize(xs);
  assert.equal([s.count, s.minNs, s.maxNs, s.meanNs, s.p50Ns, s.p90Ns, s.p99Ns, s.p999Ns], [1001, 0, 1000, 500, 500, 900, 990, 999]);
  assert.is(s.madNs, 250);
  assert.is(s.stddevNs, Math.round(stddev(xs)));
  assert.is(s.stddevNs, 289);
  assert.is(s.ci95Ns, Math.round(ci95(xs)));
  assert.is(s.ci95Ns, 18);
  const two = summarize([1, 2]);
  assert.equal([two.meanNs, two.p50Ns, two.p99Ns], [2, 2, 2]);
  assert.is(quantile([10, 20], 0.25), 12.5);
  assert.is(quantile([10, 20, 30], 0.75), 25);
});

test('t critical values: the table up to 30 df and the expansion beyond', () => {
  assert.is(tCritical95(2), 4.303);
  assert.is(tCritical95(30), 2.042);
  assert.ok(Math.abs(tCritical95(31) - 2.0395) < 1e-3);
  assert.ok(Number.isNaN(tCritical95(0)));
  assert.ok(Math.abs(normalCdf(2.5) - 0.99379) < 1e-5);
  assert.ok(Math.abs(normalCdf(-2.5) - 0.00621) < 1e-5);
});

test('pairedMedianRatio: the ratio of the medians; a drift both sides of a round share does not widen the CI', () => {
  // Rounds at levels that drift by 2x; in every round a is exactly 1.1 x b.
  const b = [50, 60, 100, 55, 90, 70, 80, 52, 95, 65];
  const a = b.map((x) => x * 1.1);
  const r = pairedMedianRatio(a, b);
  // median(b) = (65 + 70) / 2 = 67.5; median(a) = 1.1 x 67.5.
  assert.ok(Math.abs(r.ratio - 1.1) < 1e-12, `ratio ${r.ratio}`);
  assert.ok(Math.abs(r.low - 1.1) < 1e-12 && Math.abs(r.high - 1.1) < 1e-12, `CI ${r.low}..${r.high}`);
  // Hand-checked small case: medians 3 and 2 (odd count), so 1.5; the CI holds it.
  const s = pairedMedianRatio([1, 3, 9], [2, 2, 2]);
  assert.is(s.ratio, 1.5);
  assert.ok(s.low <= 1.5 && s.high >= 1.5 && s.low >= 0.5 && s.high <= 4.5, `CI ${s.low}..${s.high}`);
  assert.equal(pairedMedianRatio([1, 3, 9], [2, 2, 2]), s, 'seeded: the same CI every time');
  assert.ok(Number.isNaN(pairedMedianRatio([], []).ratio));
});

test.run();
