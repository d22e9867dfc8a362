// The bench's verdict rule (bench/verdict.ts), on rounds made up here with known ratios.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchVerdict, MIN_ROUNDS } from '../bench/verdict.js';

/** n rounds: the peer drifts round to round, ours is `factor` times it with a little noise of its own. */
function rounds(n: number, factor: number, noise: number): { ours: number[]; peer: number[] } {
  const peer: number[] = [], ours: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = 100 * (1 + 0.2 * Math.sin(i * 1.7));
    peer.push(p);
    ours.push(p * factor * (1 + noise * Math.sin(i * 2.3 + 0.5)));
  }
  return { ours, peer };
}

test('higher is better: 5% ahead, tight, is met; the CI contains the ratio', () => {
  const { ours, peer } = rounds(12, 1.05, 0.005);
  const v = benchVerdict('higher', ours, peer);
  assert.ok(v.low <= v.ratio && v.ratio <= v.high, `${v.low} ${v.ratio} ${v.high}`);
  assert.ok(Math.abs(v.ratio - 1.05) < 0.01, `ratio ${v.ratio}`);
  assert.is(v.target, '≥ 1.00');
  assert.ok(v.met);
});

test('higher is better: 1% behind is not "≥ 1.00", even with the CI low end above 0.98', () => {
  const { ours, peer } = rounds(12, 0.99, 0.001);
  const v = benchVerdict('higher', ours, peer);
  assert.ok(v.low >= 0.98 && v.ratio < 1, `${v.low} ${v.ratio}`);
  assert.not.ok(v.met);
});

test('higher is better: at parity with wide noise, the CI reaches below 0.98 and nothing is shown', () => {
  const { ours, peer } = rounds(12, 1.0, 0.15);
  const v = benchVerdict('higher', ours, peer);
  assert.ok(v.low < 0.98, `low ${v.low}`);
  assert.not.ok(v.met);
});

test('lower is better (response time): 3% faster is met, 1% slower is not', () => {
  const fast = rounds(12, 0.97, 0.003);
  const a = benchVerdict('lower', fast.ours, fast.peer);
  assert.is(a.target, '≤ 1.00');
  assert.ok(a.met, `${a.ratio} ${a.high}`);
  const slow = rounds(12, 1.01, 0.001);
  const b = benchVerdict('lower', slow.ours, slow.peer);
  assert.ok(b.high <= 1.02 && b.ratio > 1, `${b.ratio} ${b.high}`);
  assert.not.ok(b.met);
});

test('a cost that should not show: within 1% is met, 3% is not', () => {
  const same = rounds(12, 1.001, 0.002);
  const a = benchVerdict('same', same.ours, same.peer);
  assert.is(a.target, 'within 1%');
  assert.ok(a.met, `${a.low}-${a.high}`);
  const cost = rounds(12, 0.97, 0.002);
  assert.not.ok(benchVerdict('same', cost.ours, cost.peer).met);
});

test(`fewer than ${MIN_ROUNDS} rounds show nothing; unequal rounds are an error`, () => {
  const few = rounds(MIN_ROUNDS - 1, 1.2, 0.001);
  const v = benchVerdict('higher', few.ours, few.peer);
  assert.ok(v.ratio > 1.15);
  assert.not.ok(v.met);
  assert.throws(() => benchVerdict('higher', [1, 2, 3], [1, 2]), /3 rounds of umlperf against 2/);
});

test.run();
