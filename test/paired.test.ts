// Paired comparisons: ratio CIs, t p-values, Holm, and verdicts against the A/A floor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { holm, incompleteBeta, noiseFloor, pairedRatio, pairedVerdict, tTwoSidedP } from '../src/paper/paired.js';

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

test('verdicts: significant and beyond the A/A floor, or not', () => {
  const big = { ratio: 1.3, ci95Low: 1.25, ci95High: 1.35, n: 10, p: 1e-6 };
  const floor = noiseFloor({ ci95Low: 0.97, ci95High: 1.04 });
  close(floor, Math.log(1.04), 1e-12, 'floor');
  assert.is(pairedVerdict(big, 1e-5, floor), 'differs');
  assert.is(pairedVerdict({ ...big, ratio: 1.02 }, 1e-5, floor), 'no effect beyond noise');
  assert.is(pairedVerdict(big, 0.2, floor), 'no effect beyond noise');
  assert.is(pairedVerdict({ ...big, n: 2 }, 1e-5, floor), 'too few runs');
  assert.is(pairedVerdict({ ...big, ratio: 1 / 1.3 }, 1e-5, floor), 'differs');
});

test.run();
