// Paired comparisons: ratio CIs, t p-values, Holm, and verdicts against the A/A floor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { holm, incompleteBeta, noiseFloor, pairedRatio, pairedVerdict, tTwoSidedP, unpairedRatio } from '../src/paper/paired.js';

const close = (a: number, b: number, eps: number, what: string) => assert.ok(Math.abs(a - b) <= eps, `${what}: ${a} vs ${b}`);

test('Student t p-values match tables', () => {
  close(tTwoSidedP(2.262157, 9), 0.05, 1e-5, 't 2.262, 9 df');
  close(tTwoSidedP(2.0, 5), 0.101939, 1e-5, 't 2, 5 df');
  close(tTwoSidedP(-3.182446, 3), 0.05, 1e-5, 't -3.18, 3 df');
  close(tTwoSidedP(0, 7), 1, 1e-12, 't 0');
  close(incompleteBeta(0.5, 2, 3), 0.6875, 1e-9, 'I_0.5(2,3)');
});

test('paired ratio: per-block b/a, its CI and p', () => {
  const a = [100, 110, 90, 105, 95, 100, 102, 98];
  const b = a.map((x, i) => x * 1.3 * (1 + (i % 2 ? 0.01 : -0.01)));
  const r = pairedRatio(a, b);
  close(r.ratio, 1.3, 0.002, 'ratio');
  assert.ok(r.ci95Low > 1.28 && r.ci95High < 1.32, `[${r.ci95Low}, ${r.ci95High}]`);
  assert.ok(r.p < 1e-6, `p ${r.p}`);
  assert.is(r.n, 8);
  // Pairing matters: the same values shuffled between blocks lose the pairing.
  const same = pairedRatio(a, a.map((x, i) => x * (1 + (i % 2 ? 0.02 : -0.02))));
  assert.ok(same.ci95Low < 1 && same.ci95High > 1);
  assert.ok(same.p > 0.5, `p ${same.p}`);
  assert.is(pairedRatio([1], [2]).ci95High, Infinity);
  assert.is(pairedRatio([0, 1, 2], [1, 0, 4]).n, 1);
});

test('Holm: step-down, monotone, in input order', () => {
  assert.equal(holm([0.01, 0.04, 0.03]).map((p) => +p.toFixed(6)), [0.03, 0.06, 0.06]);
  assert.equal(holm([0.5, NaN, 0.001]).map((p) => (Number.isNaN(p) ? 'nan' : +p.toFixed(6))), [0.5, 'nan', 0.002]);
  assert.equal(holm([0.2, 0.9]), [0.4, 0.9]);
});

test('verdicts: significant and the whole CI beyond the A/A floor, or not', () => {
  const big = { ratio: 1.3, ci95Low: 1.25, ci95High: 1.35, n: 10, p: 1e-6 };
  const floor = noiseFloor({ ci95Low: 0.97, ci95High: 1.04 });
  close(floor, Math.log(1.04), 1e-12, 'floor');
  assert.is(pairedVerdict(big, 1e-5, floor), 'differs');
  assert.is(pairedVerdict({ ...big, ratio: 1.02, ci95Low: 1.01, ci95High: 1.03 }, 1e-5, floor), 'no effect beyond noise');
  assert.is(pairedVerdict(big, 0.2, floor), 'no effect beyond noise');
  assert.is(pairedVerdict({ ...big, n: 2 }, 1e-5, floor), 'too few runs');
  assert.is(pairedVerdict({ ...big, ratio: 1 / 1.3, ci95Low: 1 / 1.35, ci95High: 1 / 1.25 }, 1e-5, floor), 'differs');
  // Past the floor (+7%), but the CI reaches back into it (+3% < +4%): not shown beyond noise,
  // either way: above or below 1.
  const edge = { ratio: 1.07, ci95Low: 1.03, ci95High: 1.11, n: 10, p: 1e-4 };
  assert.is(pairedVerdict(edge, 1e-3, floor), 'no effect beyond noise');
  assert.is(pairedVerdict({ ...edge, ratio: 1 / 1.07, ci95Low: 1 / 1.11, ci95High: 1 / 1.03 }, 1e-3, floor), 'no effect beyond noise');
  // The same estimate with a CI clear of the floor (+5%..+9%) differs.
  assert.is(pairedVerdict({ ...edge, ci95Low: 1.05, ci95High: 1.09 }, 1e-3, floor), 'differs');
  // A/A rows (floor 0): a CI that excludes 1 and p below α.
  assert.is(pairedVerdict(edge, 1e-3, 0), 'differs');
  assert.is(pairedVerdict({ ...edge, ci95Low: 0.99 }, 0.04, 0), 'no effect beyond noise');
});

test('incomplete beta and t at the edges: both branches of the continued fraction, infinities', () => {
  close(incompleteBeta(0.1, 2, 3), 0.0523, 1e-9, 'I_0.1(2,3)');
  close(incompleteBeta(0.9, 2, 3), 0.9963, 1e-9, 'I_0.9(2,3)');
  close(incompleteBeta(0.3, 0.5, 0.5), 2 / Math.PI * Math.asin(Math.sqrt(0.3)), 1e-9, 'arcsine law');
  assert.is(incompleteBeta(0, 2, 3), 0);
  assert.is(incompleteBeta(-0.5, 2, 3), 0);
  assert.is(incompleteBeta(1, 2, 3), 1);
  assert.is(incompleteBeta(1.5, 2, 3), 1);
  assert.is(tTwoSidedP(Infinity, 5), 0);
  assert.is(tTwoSidedP(-Infinity, 5), 0);
  close(tTwoSidedP(1, 1), 0.5, 1e-9, 't 1, 1 df (Cauchy)');
  close(tTwoSidedP(12.7062, 1), 0.05, 1e-5, 't 12.71, 1 df');
  close(tTwoSidedP(1.959964, 1e6), 0.05, 1e-5, 'normal limit');
});

test('paired ratio: unequal lengths pair up to the shorter; constant ratios; nothing to pair', () => {
  const r = pairedRatio([1, 2, 4], [2, 4]);
  assert.is(r.n, 2);
  close(r.ratio, 2, 1e-12, 'ratio');
  assert.equal([r.ci95Low, r.ci95High, r.p], [2, 2, 0]);
  const same = pairedRatio([2, 3, 5], [2, 3, 5]);
  assert.equal([same.ratio, same.ci95Low, same.ci95High, same.p], [1, 1, 1, 1]);
  const none = pairedRatio([], [1]);
  assert.is(none.n, 0);
  assert.ok(Number.isNaN(none.ratio) && Number.isNaN(none.p) && Number.isNaN(none.ci95Low));
  // Two blocks: t with 1 degree of freedom, by hand.
  const two = pairedRatio([1, 1], [Math.E, Math.E ** 3]);
  close(two.ratio, Math.E ** 2, 1e-9, 'geometric mean');
  close(Math.log(two.ci95High), 2 + 12.706 * (Math.SQRT2 / Math.SQRT2), 1e-3, 'upper bound: mean + t(1) · sd/√n (sd √2, n 2)');
  close(two.p, tTwoSidedP(2, 1), 1e-12, 'p');
});

test('unpaired ratio: Welch on the logs, by hand; zeros left out; too few values', () => {
  const a = [1, Math.E ** 2], b = [Math.E, Math.E ** 3, Math.E ** 5];
  const r = unpairedRatio(a, b);
  // log a: 0, 2 (mean 1, var 2); log b: 1, 3, 5 (mean 3, var 4): d = 2, se² = 2/2 + 4/3.
  close(r.ratio, Math.E ** 2, 1e-9, 'ratio of geometric means');
  const va = 1, vb = 4 / 3, se = Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / 1 + vb ** 2 / 2);
  close(r.p, tTwoSidedP(2 / se, df), 1e-12, 'Welch p');
  assert.ok(r.ci95Low < Math.E ** 2 && r.ci95High > Math.E ** 2);
  assert.is(r.n, 2);
  assert.is(unpairedRatio([0, -1, 1, Math.E ** 2], b).n, 2, 'figures that are not positive are left out');
  const few = unpairedRatio([5], [1, 2, 3]);
  assert.equal([few.ci95Low, few.ci95High], [0, Infinity]);
  assert.ok(Number.isNaN(few.p));
  assert.ok(Number.isNaN(unpairedRatio([], [1, 2]).ratio));
  const flat = unpairedRatio([3, 3], [6, 6]);
  assert.equal([flat.ratio, flat.ci95Low, flat.ci95High, flat.p], [2, 2, 2, 0]);
  assert.is(unpairedRatio([3, 3], [3, 3]).p, 1);
});

test('noise floor of a broken A/A, and the verdict at its boundaries', () => {
  assert.is(noiseFloor({ ci95Low: NaN, ci95High: 1.1 }), Infinity);
  assert.is(noiseFloor({ ci95Low: 0.9, ci95High: Infinity }), Infinity);
  assert.is(noiseFloor({ ci95Low: 0, ci95High: 1.1 }), Infinity);
  close(noiseFloor({ ci95Low: 0.8, ci95High: 1.1 }), -Math.log(0.8), 1e-12, 'the wider side');
  const r = { ratio: 1.1, ci95Low: 1.05, ci95High: 1.15, n: 5, p: 0.001 };
  assert.is(pairedVerdict(r, 0.05, 0), 'no effect beyond noise', 'p exactly α is not below it');
  assert.is(pairedVerdict(r, 0.0499, 0), 'differs');
  assert.is(pairedVerdict(r, 0.01, Math.log(1.05)), 'no effect beyond noise', 'a CI reaching the floor is not beyond it');
  assert.is(pairedVerdict(r, 0.01, Math.log(1.0499)), 'differs');
  assert.is(pairedVerdict(r, 0.01, Infinity), 'no effect beyond noise');
  assert.is(pairedVerdict(r, NaN, 0), 'too few runs');
  assert.is(pairedVerdict({ ...r, n: 3 }, 0.01, 0), 'differs');
});

test.run();
