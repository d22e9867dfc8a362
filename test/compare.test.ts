// umlperf compare: two saved runs agree on a figure when the 95% CI of their ratio contains 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { compareResults, ratioCi } from '../src/paper/compare.js';
import type { Measurement, PaperResult } from '../src/paper/model.js';
import { runCli, jsonResult, tempDir } from './helpers.js';

function measurement(side: 'host' | 'guest', p50s: number[], mbps: number[]): Measurement {
  const s = { mean: 0, ci95: 0, n: 0, median: 0, ci95Low: 0, ci95High: 0 };
  return {
    experiment: 1, side, protocol: 'tcp', servers: 'none', guests: side === 'guest' ? 1 : 0,
    latency: { count: 1, minNs: 1, meanNs: 1, maxNs: 1, p50Ns: 1, p90Ns: 1, p99Ns: 1, p999Ns: 1, sent: 1, lost: 0 },
    latencyRunP50Ns: p50s, latencyP50Ns: s, latencySamplesNs: [], throughputRunsMbps: mbps, throughputMbps: s,
  };
}

function result(m: Measurement[], verdict: 'differs' | 'no effect beyond noise'): PaperResult {
  return {
    tool: 'umlperf', version: '0', schemaVersion: 2, kind: 'paper', startedAt: '', finishedAt: '', complete: true, warnings: [],
    config: { experiments: [1], runs: 10, guestsSweep: [0], servers: ['www', 'dns', 'mail'], transport: 'vector', kernel: 'k', image: 'minimal', responseSizeBytes: 64, responseIterations: 100, throughputSeconds: 1, udpDatagramBytes: 1472, probeCpu: null, labCpus: null },
    clock: { source: 'tsc', resolutionNs: 1, overheadNs: 10 }, measurements: m,
    tables: [{ id: 'table1', experiment: 1, title: '', rows: [], comparisons: [{ servers: 'none', protocol: 'tcp', metric: 'throughput', host: 1, guest: 1, ratio: 1, ci95Low: 1, ci95High: 1, paired: true, n: 10, p: 0.5, pHolm: 0.5, floorPercent: 1, verdict }] }],
    openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] },
  };
}

const jitter = (base: number, k: number) => Array.from({ length: 10 }, (_, i) => base * (1 + k * Math.sin(i * 1.7)));

test('the ratio CI: equal samples give 1 inside; a 50% shift with 1% noise gives 1 outside', () => {
  const same = ratioCi(jitter(100, 0.01), jitter(100, 0.01));
  assert.ok(Math.abs(same.ratio - 1) < 1e-9);
  assert.ok(same.low <= 1 && same.high >= 1);
  const shifted = ratioCi(jitter(100, 0.01), jitter(150, 0.01));
  assert.ok(Math.abs(shifted.ratio - 1.5) < 0.01, `${shifted.ratio}`);
  assert.ok(shifted.low > 1.4 && shifted.high < 1.6, `[${shifted.low}, ${shifted.high}]`);
  const one = ratioCi([100], [200]);
  assert.is(one.low, 0);
  assert.is(one.high, Infinity);
});

test('the criterion is the CI of the ratio, not "each value in the other\'s CI": a shift between the two is told apart', () => {
  // Two runs of 10 per-run figures with the same spread; B shifted by 2.6 standard errors.
  // Each run's mean then lies outside the other's 95% CI (±2.26 SE), yet the 95% CI of their
  // ratio (±2.97 SE: two sources of noise) still holds 1: the runs agree.
  const noise = [-1.5, -1.1, -0.7, -0.3, -0.1, 0.1, 0.3, 0.7, 1.1, 1.5];
  const sd = Math.sqrt(noise.reduce((s, x) => s + x * x, 0) / 9);
  const se = (0.01 * sd) / Math.sqrt(10);
  const a = noise.map((x) => 100 * Math.exp(0.01 * x));
  const b = noise.map((x) => 100 * Math.exp(0.01 * x + 2.6 * se));
  const logs = (xs: number[]) => xs.map(Math.log);
  const meanOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ciOf = (xs: number[]) => [meanOf(logs(xs)) - 2.262 * se, meanOf(logs(xs)) + 2.262 * se];
  const [aLow, aHigh] = ciOf(a), [bLow, bHigh] = ciOf(b);
  assert.ok(meanOf(logs(b)) > aHigh && meanOf(logs(a)) < bLow, 'each run outside the other\'s CI');
  assert.ok(aLow < aHigh && bLow < bHigh);
  const c = compareResults(result([measurement('host', a, a)], 'differs'), result([measurement('host', b, b)], 'differs'));
  assert.equal(c.figures, { total: 2, agree: 2 }, JSON.stringify(c.rows));
  // ...and a shift of 3.5 standard errors is beyond what two honest runs show: they disagree.
  const far = noise.map((x) => 100 * Math.exp(0.01 * x + 3.5 * se));
  const d = compareResults(result([measurement('host', a, a)], 'differs'), result([measurement('host', far, far)], 'differs'));
  assert.equal(d.figures, { total: 2, agree: 0 });
  const row = d.rows.find((r) => r.kind === 'figure')!;
  assert.ok(row.kind === 'figure' && row.ci95Low > 1 && !row.agree);
});

test('an A/A row is matched with the other run\'s A/A row, never with the comparison beside it', () => {
  const mk = (aaVerdict: 'differs' | 'no effect beyond noise') => {
    const r = result([measurement('host', jitter(20_000, 0.02), jitter(10_000, 0.02))], 'differs');
    const c = r.tables[0].comparisons[0];
    r.tables[0].comparisons.push({ ...c, aa: true, ratio: 1, verdict: aaVerdict });
    return r;
  };
  const same = compareResults(mk('no effect beyond noise'), mk('no effect beyond noise'));
  assert.equal(same.verdicts, { total: 2, agree: 2 }, JSON.stringify(same.rows.filter((r) => r.kind === 'verdict')));
  const keys = same.rows.filter((r) => r.kind === 'verdict').map((r) => r.key);
  assert.equal(keys, ['table1 throughput tcp servers=none', 'table1 throughput tcp servers=none A/A']);
  const flipped = compareResults(mk('no effect beyond noise'), mk('differs'));
  assert.equal(flipped.verdicts, { total: 2, agree: 1 });
  assert.equal(flipped.rows.filter((r) => r.kind === 'verdict' && !r.agree).map((r) => r.key), ['table1 throughput tcp servers=none A/A']);
});

test('figures and verdicts are counted per run pair, B over A', () => {
  const a = result([measurement('host', jitter(20_000, 0.02), jitter(10_000, 0.02)), measurement('guest', jitter(60_000, 0.02), jitter(3000, 0.02))], 'differs');
  const b = result([measurement('host', jitter(20_000, 0.02), jitter(15_000, 0.02)), measurement('guest', jitter(60_000, 0.02), jitter(3000, 0.02))], 'no effect beyond noise');
  const c = compareResults(a, b);
  assert.equal(c.figures, { total: 4, agree: 3 });
  assert.equal(c.verdicts, { total: 1, agree: 0 });
  // The paired guest/host throughput ratio moved from 0.3 to 0.2: the runs disagree on it.
  assert.equal(c.ratios, { total: 1, agree: 0 });
  const rr = c.rows.find((r) => r.kind === 'ratio');
  assert.ok(rr && rr.kind === 'ratio' && Math.abs(rr.ratioOfRatios - 2 / 3) < 0.01, JSON.stringify(rr));
  assert.equal(compareResults(a, a).ratios, { total: 1, agree: 1 });
  const moved = c.rows.find((r) => r.kind === 'figure' && !r.agree);
  assert.ok(moved && moved.kind === 'figure');
  assert.is(moved.metric, 'throughput');
  assert.match(moved.key, /host/);
  assert.ok(Math.abs(moved.ratio - 1.5) < 0.02);
  assert.equal(c.unmatched, []);
});

test('figure rows: medians of each run, metric and unit; figures and verdicts only one run has', () => {
  const m3 = (side: 'host' | 'guest', guests: number, p50s: number[], mbps: number[]) => ({ ...measurement(side, p50s, mbps), experiment: 3 as const, guests });
  const a = result([measurement('host', [10, 30, 20], [5, 7]), m3('host', 4, [1, 2], [3, 4])], 'differs');
  const b = result([measurement('host', [40, 10, 20, 30], [6, 8]), m3('host', 8, [1, 2], [3, 4])], 'differs');
  a.tables.push({ id: 'table5', experiment: 3, title: '', rows: [], comparisons: [{ ...a.tables[0].comparisons[0], guests: 4 }] });
  b.tables.push({ id: 'table5', experiment: 3, title: '', rows: [], comparisons: [{ ...b.tables[0].comparisons[0], guests: 8 }] });
  const c = compareResults(a, b);
  const figs = c.rows.filter((r) => r.kind === 'figure');
  assert.equal(figs.map((r) => r.kind === 'figure' && [r.key, r.metric, r.unit, r.a, r.b]), [
    ['experiment 1 host tcp servers=none guests=0', 'latency p50', 'ns', 20, 25],
    ['experiment 1 host tcp servers=none guests=0', 'throughput', 'Mbps', 6, 7],
  ]);
  assert.equal(c.unmatched, [
    'figure experiment 3 host tcp servers=none guests=4 (only in A)',
    'figure experiment 3 host tcp servers=none guests=8 (only in B)',
    'verdict table5 throughput tcp servers=none guests=4 (only in A)',
    'verdict table5 throughput tcp servers=none guests=8 (only in B)',
  ]);
  assert.equal(c.verdicts, { total: 1, agree: 1 });
  assert.equal(c.ratios, { total: 0, agree: 0 }, 'no guest side: no paired ratio');
  // A run without per-run figures for a metric gives no row for it.
  const empty = result([measurement('host', [], [5, 7])], 'differs');
  assert.equal(compareResults(empty, a).rows.filter((r) => r.kind === 'figure').map((r) => r.kind === 'figure' && r.metric), ['throughput']);
});

test('paired ratio rows for table 5: N guests over the fewest, per block, when paired', () => {
  const m3 = (guests: number, xs: number[]) => ({ ...measurement('host', xs, xs), experiment: 3 as const, guests, blockGroup: 'experiment 3' });
  const base = jitter(1000, 0.05);
  const mk = (k: number) => {
    const r = result([m3(0, base), m3(4, base.map((x) => x * k))], 'differs');
    const c = { ...r.tables[0].comparisons[0], guests: 4, ratio: k };
    r.tables = [{ id: 'table5', experiment: 3, title: '', rows: [], comparisons: [c] }];
    return r;
  };
  const same = compareResults(mk(1.3), mk(1.3));
  assert.equal(same.ratios, { total: 1, agree: 1 });
  const moved = compareResults(mk(1.3), mk(1.1));
  assert.equal(moved.ratios, { total: 1, agree: 0 });
  const row = moved.rows.find((r) => r.kind === 'ratio')!;
  assert.ok(row.kind === 'ratio' && row.key === 'table5 throughput tcp servers=none guests=4' && Math.abs(row.ratioOfRatios - 1.1 / 1.3) < 1e-9, JSON.stringify(row));
});

test('paired ratio rows: not A/A or unpaired rows, blocks with a zero left out', () => {
  const host = jitter(10_000, 0.02), guest = jitter(3000, 0.02);
  const mk = (g: number[]) => {
    const r = result([measurement('host', host, host), measurement('guest', g, g)], 'differs');
    const base = r.tables[0].comparisons[0];
    r.tables[0].comparisons = [base, { ...base, metric: 'latency p50', aa: true }, { ...base, metric: 'latency p50', paired: false }];
    r.tables.push({ id: 'table5', experiment: 3, title: '', rows: [], comparisons: [{ ...base, guests: 2 }] });
    return r;
  };
  const c = compareResults(mk(guest), mk(guest.map((x, i) => (i === 0 ? 0 : x))));
  const rows = c.rows.filter((r) => r.kind === 'ratio');
  assert.is(rows.length, 1, 'only the paired, non-A/A comparison of table 1');
  assert.ok(rows[0].kind === 'ratio' && rows[0].metric === 'throughput' && rows[0].key === 'table1 throughput tcp servers=none');
  assert.ok(rows[0].kind === 'ratio' && Math.abs(rows[0].ratioOfRatios - 1) < 0.02 && rows[0].agree, JSON.stringify(rows[0]));
});

test('the machine\'s own move: a run on a 20% slower machine disagrees on its figures, which agree once the reference\'s move is allowed for; text and JSON say so', () => {
  const withDrift = (r: PaperResult, refs: number[], reference = 'TCP 64 B loopback') => ({
    ...r,
    drift: { reference, series: refs.map((x, i) => ({ atMs: i, step: 'experiment 1', block: i, referenceP50Ns: x })), medianReferenceP50Ns: 0, thresholdPercent: 25, flagged: [] },
  });
  const lat = jitter(20_000, 0.02), mbps = jitter(10_000, 0.02), ref = jitter(25_000, 0.03);
  const a = withDrift(result([measurement('host', lat, mbps)], 'differs'), ref);
  const slower = withDrift(result([measurement('host', lat.map((x) => x * 1.2), mbps.map((x) => x / 1.2))], 'differs'), ref.map((x) => x * 1.2));
  const c = compareResults(a, slower);
  assert.equal(c.figures, { total: 2, agree: 0 });
  assert.ok(c.machine && !c.machine.agree && Math.abs(c.machine.ratio - 1.2) < 1e-6 && c.machine.ci95Low > 1.1, JSON.stringify(c.machine));
  assert.is(c.machine!.figuresAgree, 2);
  assert.equal(c.rows.filter((r) => r.kind === 'figure').map((r) => r.kind === 'figure' && r.agreeAllowingMachine), [true, true]);
  // Throughput up 20% on a machine 20% slower: that is no move of the machine's.
  const faster = withDrift(result([measurement('host', lat.map((x) => x * 1.2), mbps.map((x) => x * 1.2))], 'differs'), ref.map((x) => x * 1.2));
  assert.equal(compareResults(a, faster).rows.filter((r) => r.kind === 'figure').map((r) => r.kind === 'figure' && [r.metric, r.agreeAllowingMachine]), [['latency p50', true], ['throughput', false]]);
  // The same machine: it held, and the figures' agreement is unchanged by it.
  const same = compareResults(a, withDrift(result([measurement('host', lat, mbps)], 'differs'), ref));
  assert.ok(same.machine?.agree && same.machine.figuresAgree === 2 && same.figures.agree === 2);
  // No common reference: nothing said of the machine.
  const other = compareResults(a, withDrift(slower, ref, 'TCP 64 B loopback, another placement'));
  assert.is(other.machine, undefined);
  assert.ok(other.rows.every((r) => r.kind !== 'figure' || r.agreeAllowingMachine === undefined));
  const dir = tempDir(path.join(os.tmpdir(), 'umlperf-compare-'));
  try {
    const fa = path.join(dir, 'a.json'), fb = path.join(dir, 'b.json');
    fs.writeFileSync(fa, JSON.stringify(a));
    fs.writeFileSync(fb, JSON.stringify(slower));
    const text = runCli(['compare', fa, fb]);
    assert.is(text.status, 0, text.stderr);
    assert.match(text.stdout, /\nthe machine itself moved between the runs: its reference \(TCP 64 B loopback\) B\/A 1\.200 \[1\.\d+, 1\.\d+\], 25\.\d → 30\.\d µs; allowing for its move, 2 of 2 figures agree\n/);
    assert.match(text.stdout, /DIFFER, as the machine moved/);
    assert.equal(jsonResult(runCli(['compare', fa, fb, '--json']).stdout, 'compare').machine.figuresAgree, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('umlperf compare: text and JSON; unreadable or foreign files are usage errors', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'umlperf-compare-'));
  try {
    const a = path.join(dir, 'a.json'), b = path.join(dir, 'b.json'), bad = path.join(dir, 'bad.json');
    fs.writeFileSync(a, JSON.stringify(result([measurement('host', jitter(20_000, 0.02), jitter(10_000, 0.02))], 'differs')));
    fs.writeFileSync(b, JSON.stringify(result([measurement('host', jitter(20_000, 0.02), jitter(10_000, 0.02))], 'differs')));
    fs.writeFileSync(bad, '{"tool":"other"}');
    const text = runCli(['compare', a, b]);
    assert.is(text.status, 0, text.stderr);
    assert.match(text.stdout, /2 of 2 figures agree .* 1 of 1 verdicts are the same/);
    const json = runCli(['compare', a, b, '--json']);
    assert.equal(jsonResult(json.stdout, 'compare').figures, { total: 2, agree: 2 });
    for (const [args, msg] of [[[a, bad], /not a saved umlperf paper result/], [[a, path.join(dir, 'none.json')], /no such file/], [[a, dir], /a directory/], [[a], /Not enough|b/]] as const) {
      const r = runCli(['compare', ...args]);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
