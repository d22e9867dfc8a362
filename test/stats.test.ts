import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ci95, mad, mannWhitney, medianCi, normalCdf, quantile, sorted, stddev, summarize, tCritical95 } from '../src/stats.js';

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

test.run();
