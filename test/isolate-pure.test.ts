// Experiment 4 without a lab: the faults' scripts and bounds, the verdicts on synthetic rounds,
// containment, the --limit parser and writers on fake cgroup trees (v1 and v2), Table 6.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cgroupCreate, detectCgroupMode, setCgroupModeForTests } from '../src/lab/cgroup.js';
import { applyLimits, cgroupUsage, checkMemLimit, diskOf, formatLimits, limitControllers, MEM_LIMIT_HEADROOM, parseLimits } from '../src/lab/limits.js';
import { BEFORE_END_SH, crashVictim, deadlineSh, faultScript, FAULTS, FLOOD_MAX_MBPS, FLOOD_TARGET, parseFaultOutput, parseFaults } from '../src/isolate/faults.js';
import { FLOOD_GUEST_PATH, FLOOD_MAX_SECONDS } from '../src/guest/flood.js';
import type { FaultRun, IsolateResult, Metric, Round } from '../src/isolate/model.js';
import { measureRound, type RoundProbes } from '../src/isolate/sample.js';
import { allowedCpus, parseCpuList } from '../src/cpus.js';
import { placement } from '../src/isolate/pin.js';
import { analyse, containment, judge, judgeAgainstPass, MIN_NOISE_PERCENT, pooledNoise, noisePercent, phaseOf, slicesOf, verdictText, windowEnd, worsePercent, worst } from '../src/isolate/verdict.js';
import { containmentGrid, detailGrid, isolateCsv, isolateHtml, isolateMarkdown, isolateText, summaryGrid } from '../src/report/isolate.js';
import { tempDir } from './helpers.js';

test('placement: the prober and the host side on the first CPU the process may use, the guests on the last; none with one CPU', () => {
  assert.equal(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  assert.equal(parseCpuList('3'), [3]);
  assert.equal(parseCpuList('2,0-1, 1'), [0, 1, 2]);
  for (const bad of ['', '3-1', 'a', '1,,2', '4096', '0-4096']) assert.is(parseCpuList(bad), undefined, bad);
  assert.equal(placement([0, 1]), { proberCpu: 0, guestCpu: 1, hostCpu: 0 });
  assert.equal(placement([2, 4, 7]), { proberCpu: 2, guestCpu: 7, hostCpu: 2 });
  assert.is(placement([1]), undefined);
  const mine = allowedCpus();
  assert.ok(mine.length >= 1 && mine.every((c) => Number.isInteger(c) && c >= 0), String(mine));
});

test('faults: all in a fixed order (panic and crash last), a subset keeps that order, bad names and repeats refused', () => {
  assert.equal(parseFaults(undefined), [...FAULTS]);
  assert.equal(parseFaults('all'), [...FAULTS]);
  assert.equal(parseFaults('crash,cpu,panic'), ['cpu', 'panic', 'crash']);
  assert.throws(() => parseFaults('cpu,nope'), /nope/);
  assert.throws(() => parseFaults('cpu,cpu'), /twice/);
  assert.throws(() => parseFaults(''), /is not one of/);
});

test('every fault script is bounded by its window; panic goes through mconsole; the window is checked', () => {
  for (const f of FAULTS) {
    const s = faultScript(f, 7);
    if (f === 'panic') {
      assert.is(s, undefined);
      continue;
    }
    assert.ok(s && /\b7\b/.test(s), `${f}: its script names its 7 s window`);
  }
  assert.match(faultScript('cpu', 3)!, /timeout -s KILL 3 /);
  // The bomb stops on a file test (a shell built-in: stopping needs no fork).
  assert.match(faultScript('fork', 3)!, /while \[ ! -e \/tmp\/umlperf-fork\/stop \]/);
  assert.throws(() => faultScript('cpu', 0), /window/);
  assert.throws(() => faultScript('cpu', 301), /window/);
  assert.throws(() => faultScript('cpu', 1.5), /window/);
});

test('the deadline of the memory and disk faults is the window to the hundredth, not the second (built-ins only)', () => {
  for (const f of ['memory', 'disk'] as const) assert.ok(faultScript(f, 4)!.includes(deadlineSh(4)), f);
  // The loop alone, on this host's /proc/uptime: it ends after the window, not up to a second early.
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync('sh', ['-c', `${deadlineSh(1)}; n=0; while ${BEFORE_END_SH}; do n=$((n+1)); sleep 0.05; done; echo $n`], { encoding: 'utf8', timeout: 10_000 });
    const ms = performance.now() - t0;
    assert.is(r.status, 0, r.stderr);
    assert.ok(Number(r.stdout) > 0, r.stdout);
    assert.ok(ms >= 990 && ms < 5000, `the 1 s window took ${Math.round(ms)} ms`);
  }
});

test('the flood goes only to a lab address, capped in rate and time', () => {
  const [a, b] = FLOOD_TARGET.address.split('.').map(Number);
  assert.ok(a === 198 && (b === 18 || b === 19), FLOOD_TARGET.address);
  // Run with a stand-in helper that records its arguments and reports bytes as the real one does.
  const dir = tempDir(path.join(os.tmpdir(), 'isfl-'));
  try {
    const stub = path.join(dir, 'flood');
    fs.writeFileSync(stub, `#!/bin/sh\necho "$@" >> ${dir}/calls\necho "umlperf-flood: sent $(( $3 * 1000 )) bytes in $3.000 s, 0 errors"\n`, { mode: 0o755 });
    for (const [w, pieces] of [[5, ['5']], [130, ['60', '60', '10']]] as [number, string[]][]) {
      fs.rmSync(path.join(dir, 'calls'), { force: true });
      const s = faultScript('flood', w)!.split(FLOOD_GUEST_PATH).join(stub);
      const r = spawnSync('sh', ['-c', s], { encoding: 'utf8', timeout: 10_000 });
      assert.is(r.status, 0, r.stderr);
      const calls = fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n').map((l) => l.split(' '));
      assert.equal(calls.map((c) => c[2]), pieces, `window ${w}: pieces of at most ${FLOOD_MAX_SECONDS} s`);
      for (const c of calls) assert.equal([c[0], c[1], c[3]], [FLOOD_TARGET.address, String(FLOOD_TARGET.port), String(FLOOD_MAX_MBPS)]);
      assert.equal(parseFaultOutput('flood', r.stdout), { floodBytes: w * 1000 });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('crash: the victim is the first server (named, then apache2), else the endpoint', () => {
  assert.is(crashVictim(['www', 'dns']), 'named');
  assert.is(crashVictim(['www', 'mail']), 'apache2');
  assert.is(crashVictim([]), 'umlperf-endpoint');
  assert.match(faultScript('crash', 4, ['www'])!, /pidof apache2/);
});

test('a fault script\'s last line, in figures', () => {
  assert.equal(parseFaultOutput('memory', 'memory: 3 allocators, oomKills=2\n'), { oomKills: 2 });
  assert.equal(parseFaultOutput('crash', 'crash: named pid 120; after 10 s: none'), { restarted: false });
  assert.equal(parseFaultOutput('crash', 'crash: named pid 120; after 10 s: 133'), { restarted: true });
  assert.equal(parseFaultOutput('crash', 'crash: named pid 120; after 10 s: 120'), { restarted: false });
  assert.equal(parseFaultOutput('flood', 'umlperf-flood: sent 1234 bytes in 5.000 s, 0 errors'), { floodBytes: 1234 });
  assert.ok(parseFaultOutput('flood', 'flood: no /usr/bin/umlperf-flood in this image').unsupported);
});

test('phases: before ends before the fault, a round across its start is dropped, during overlaps the window', () => {
  assert.is(phaseOf({ startMs: 0, endMs: 100 }, 100, 200), 'before');
  assert.is(phaseOf({ startMs: 50, endMs: 150 }, 100, 200), undefined);
  assert.is(phaseOf({ startMs: 100, endMs: 250 }, 100, 200), 'during');
  assert.is(phaseOf({ startMs: 200, endMs: 300 }, 100, 200), 'after');
  // A fault that outlived its window (100-150) until 200: rounds of the overrun are neither.
  assert.is(phaseOf({ startMs: 120, endMs: 140 }, 100, 200, 150), 'during');
  assert.is(phaseOf({ startMs: 160, endMs: 190 }, 100, 200, 150), undefined);
  assert.is(phaseOf({ startMs: 200, endMs: 220 }, 100, 200, 150), 'after');
  assert.is(phaseOf({ startMs: 160, endMs: 190 }, 100, 200, 500), 'during', 'a window longer than the fault ends with it');
});

test('a fault that outlived its window is judged on its window: a neighbour degraded through it and back during the overrun is degraded', () => {
  // Window 4000-8000 ms, but the guest answered only at 16000 (the fork fault's exec timeout);
  // the neighbour is slowed 4000-10000 and back from then on.
  const g2 = rounds('g2', 20, (i) => (i >= 4 && i < 10 ? { ...base, tcpMbps: 1000 } : base));
  const f = { fault: 'fork', startMs: 4000, endMs: 16000, windowS: 4, outcome: 'no answer', outlived: true, replaced: true, hostCost: {}, metrics: [], neighbours: [], rounds: g2 } as unknown as FaultRun;
  assert.is(windowEnd(f), 8000);
  const judged = judgeAgainstPass([f], ['g2'])[0].neighbours[0];
  assert.equal(judged.verdict, { kind: 'degraded', worsePercent: 75 });
  // Judged over the whole overrun, half its rounds are back: not sustained, so "isolated".
  assert.is(analyse(g2, { startMs: 4000, endMs: 16000 }, ['g2']).neighbours[0].verdict.kind, 'isolated');
});

test('noise, direction of worse, and a verdict per metric', () => {
  assert.is(noisePercent([100, 100, 100]), MIN_NOISE_PERCENT);
  assert.is(noisePercent([100, 300, 200]), 100);
  assert.is(worsePercent('tcpP50Ns', 100, 150), 50);
  assert.is(worsePercent('tcpMbps', 100, 25), 75);
  assert.is(worsePercent('tcpMbps', 100, 200), -100);
  assert.equal(judge('tcpP50Ns', 100, [110, 120, 130], 50), { kind: 'isolated', worsePercent: 20 });
  assert.equal(judge('tcpP50Ns', 100, [300, 310, 290], 50), { kind: 'degraded', worsePercent: 200 });
  assert.equal(judge('tcpMbps', 100, [100, null, 100], 50), { kind: 'broken' });
  assert.equal(worst({ kind: 'degraded', worsePercent: 80 }, { kind: 'degraded', worsePercent: 120 }), { kind: 'degraded', worsePercent: 120 });
  assert.equal(worst({ kind: 'broken' }, { kind: 'degraded', worsePercent: 900 }), { kind: 'broken' });
  assert.is(verdictText({ kind: 'degraded', worsePercent: 123.4 }), 'degraded by 123%');
});

/** Synthetic rounds of one neighbour, 1 s each from t=0; `f(i)` gives round i's values. */
function rounds(nb: string, n: number, f: (i: number) => Partial<Record<Metric, number | null>>): Round[] {
  return Array.from({ length: n }, (_, i) => ({ neighbour: nb, startMs: i * 1000, endMs: i * 1000 + 900, values: f(i) }));
}
const base = { tcpP50Ns: 50_000, tcpP99Ns: 200_000, udpP50Ns: 40_000, udpP99Ns: 150_000, tcpMbps: 4000 };

test('analyse: an unaffected neighbour is isolated, a slowed one degraded with its recovery, a failed one broken', () => {
  // Fault from 4000 to 8000 ms; rounds 0-3 before (round 0 warms up and is not baseline), 4-7 during, 8-11 after.
  const calm = rounds('host', 12, (i) => ({ ...base, tcpP50Ns: base.tcpP50Ns + (i % 2) * 2000 }));
  const slowed = rounds('g2', 12, (i) => (i >= 4 && i < 10 ? { ...base, tcpMbps: 1000 } : i === 0 ? { ...base, tcpMbps: 100 } : base));
  const r = analyse([...calm, ...slowed], { startMs: 4000, endMs: 8000 }, ['g2', 'host']);
  const g2 = r.neighbours.find((n) => n.neighbour === 'g2')!;
  const host = r.neighbours.find((n) => n.neighbour === 'host')!;
  assert.equal(host.verdict.kind, 'isolated');
  assert.equal(host.recoveryMs, 0);
  assert.equal(g2.verdict, { kind: 'degraded', worsePercent: 75 }, 'the warm-up round (100 Mbit/s) is not the baseline');
  // Back in round 10, which starts 2 s after the fault's end.
  assert.is(g2.recoveryMs, 2000);
  const m = r.metrics.find((x) => x.neighbour === 'g2' && x.metric === 'tcpMbps')!;
  assert.equal([m.before, m.during], [4000, 1000]);

  const dead = rounds('g2', 12, (i) => (i >= 4 && i < 8 ? { ...base, tcpP50Ns: null, tcpP99Ns: null } : base));
  const d = analyse(dead, { startMs: 4000, endMs: 8000 }, ['g2']).neighbours[0];
  assert.equal(d.verdict, { kind: 'broken' });
  assert.is(d.afterVerdict.kind, 'isolated');
});

test('analyse: a tail that moves alone is shown per metric but does not set the neighbour\'s verdict; a failed tail does', () => {
  const tail = rounds('g2', 12, (i) => (i >= 4 && i < 8 ? { ...base, tcpP99Ns: 5_000_000 } : base));
  const r = analyse(tail, { startMs: 4000, endMs: 8000 }, ['g2']);
  assert.is(r.metrics.find((m) => m.metric === 'tcpP99Ns')!.duringVerdict.kind, 'degraded');
  assert.is(r.neighbours[0].verdict.kind, 'isolated');
  const lost = rounds('g2', 12, (i) => (i >= 4 && i < 8 ? { ...base, udpP99Ns: null } : base));
  assert.is(analyse(lost, { startMs: 4000, endMs: 8000 }, ['g2']).neighbours[0].verdict.kind, 'broken');
});

test('analyse: a neighbour that never comes back has no recovery time', () => {
  const gone = rounds('g2', 10, (i) => (i >= 4 ? { ...base, tcpMbps: 500 } : base));
  const n = analyse(gone, { startMs: 4000, endMs: 6000 }, ['g2']).neighbours[0];
  assert.is(n.recoveryMs, null);
  assert.is(n.afterVerdict.kind, 'degraded');
});

/** A repeatable jitter in [-1, 1] (a small LCG): synthetic series that are noisy but the same every run. */
function jitter(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x / 2 ** 32) * 2 - 1;
  };
}

/**
 * A fault's rounds as the run makes them: a warm-up round, 12 baseline rounds (4 slices of 3),
 * 10 rounds during the fault, 6 after; g2's TCP p50 is `level` × (1 ± spread) before and after
 * and `level × factor` (same jitter) during.
 */
function series(fault: FaultRun['fault'], o: { level?: number; spread?: number; factor?: number; seed?: number; at?: (i: number, v: number) => number } = {}): FaultRun {
  const level = o.level ?? 50_000, spread = o.spread ?? 0.05, factor = o.factor ?? 1;
  const j = jitter(o.seed ?? 7);
  const rs = rounds('g2', 29, (i) => {
    let v = level * (1 + spread * j()) * (i >= 13 && i < 23 ? factor : 1);
    if (o.at) v = o.at(i, v);
    return { ...base, tcpP50Ns: Math.round(v) };
  });
  return { ...run(fault, { kind: 'isolated' }, { kind: 'isolated' }), startMs: 13_000, endMs: 23_000, rounds: rs };
}
const judgedAlone = (f: FaultRun) => analyse(f.rounds, f, ['g2']);
const tcp = (a: ReturnType<typeof analyse>) => a.metrics.find((m) => m.metric === 'tcpP50Ns')!;

test('slices: consecutive, near-equal, none empty; the noise is the spread between slice medians, not between rounds', () => {
  assert.equal(slicesOf([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2], [3, 4, 5], [6, 7]]);
  assert.equal(slicesOf([1, 2], 4), [[1], [2]]);
  assert.equal(slicesOf([], 4), []);
  // Twelve rounds at 100 but one stalled at 500: every slice median is still 100.
  assert.is(noisePercent([100, 100, 100, 100, 500, 100, 100, 100, 100, 100, 100, 100]), MIN_NOISE_PERCENT);
  // A level the neighbour moves to halfway through the baseline shows in full (100 of a median of 150).
  assert.is(Math.round(noisePercent([100, 100, 100, 100, 100, 100, 200, 200, 200, 200, 200, 200])), 67);
  // Slices of 110, 90, 100, 105 (median 102.5): a spread of 20/102.5.
  assert.is(Math.round(noisePercent([110, 110, 110, 90, 90, 90, 100, 100, 100, 105, 105, 105])), 20);
  assert.is(MIN_NOISE_PERCENT <= 15, true, 'the floor lets a clear degradation through');
});

test('synthetic series: a neighbour slowed by 40% within ±5% jitter is degraded; one moved by 4% is isolated; the same series gives the same verdict', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const hurt = tcp(judgedAlone(series('cpu', { factor: 1.4, seed })));
    assert.is(hurt.duringVerdict.kind, 'degraded', `seed ${seed}: ${JSON.stringify(hurt)}`);
    assert.ok(Math.abs(hurt.duringVerdict.worsePercent! - 40) < 8, `seed ${seed}: ${hurt.duringVerdict.worsePercent}`);
    assert.ok(hurt.noisePercent < 20, `seed ${seed}: noise ${hurt.noisePercent}`);
    const calm = tcp(judgedAlone(series('cpu', { factor: 1.04, seed })));
    assert.is(calm.duringVerdict.kind, 'isolated', `seed ${seed}: ${JSON.stringify(calm)}`);
  }
  const a = judgedAlone(series('disk', { factor: 1.4, seed: 9 }));
  assert.equal(judgedAlone(series('disk', { factor: 1.4, seed: 9 })), a);
  assert.is(a.neighbours[0].verdict.kind, 'degraded', 'the neighbour\'s verdict follows its p50');
});

test('synthetic series: a burst over part of the window (the shared host\'s load) is not a degradation; the same slowdown held through the window is', () => {
  // 10 rounds during the fault (3 slices): 2.5× in the first six only, then back.
  const burst = judgedAlone(series('disk', { at: (i, v) => (i >= 13 && i < 19 ? v * 2.5 : v) }));
  assert.ok(tcp(burst).duringVerdict.worsePercent! > 100, 'the phase\'s median moved');
  assert.is(tcp(burst).duringVerdict.kind, 'isolated');
  const held = judgedAlone(series('disk', { at: (i, v) => (i >= 13 && i < 23 ? v * 2.5 : v) }));
  assert.is(tcp(held).duringVerdict.kind, 'degraded');
  // Straight from judge: slices of three, three of four beyond the noise needed.
  const b = 100;
  assert.is(judge('tcpP50Ns', b, [200, 200, 200, 200, 200, 200, 200, 200, 200, 100, 100, 100], 20).kind, 'degraded');
  assert.is(judge('tcpP50Ns', b, [200, 200, 200, 200, 200, 200, 200, 100, 100, 100, 100, 100], 20).kind, 'isolated');
  assert.is(judge('tcpMbps', b, [50, 50, 50, 50, 50, 50, 50, 50, 50, 100, 100, 100], 20).kind, 'degraded');
});

test('synthetic series: one stalled baseline round does not hide a doubling; a baseline that moves between levels does', () => {
  const stalled = judgedAlone(series('memory', { factor: 2, at: (i, v) => (i === 5 ? v * 5 : v) }));
  assert.equal(stalled.neighbours[0].verdict.kind, 'degraded');
  assert.ok(tcp(stalled).noisePercent < 20, String(tcp(stalled).noisePercent));
  // 50 µs for two slices, 100 µs for the next two: during at 100 µs is within that.
  const levels = judgedAlone(series('memory', { at: (i, v) => (i >= 7 && i < 13 ? v * 2 : i >= 13 && i < 23 ? v * 2 : v) }));
  assert.is(levels.neighbours[0].verdict.kind, 'isolated');
  assert.ok(tcp(levels).noisePercent >= 60, String(tcp(levels).noisePercent));
});

test('the pass\'s typical noise: a fault whose own baseline was unusually quiet is judged against the pass\'s usual spread', () => {
  // Five faults whose baselines spread ±15% slice to slice, one with a flat baseline; during it the neighbour is 20% slower.
  const wobbly = (f: FaultRun['fault'], seed: number) => series(f, { seed, at: (i, v) => (i >= 1 && i < 13 ? v * [1, 1.3, 1, 1.3][Math.floor((i - 1) / 3)] : v) });
  const faults = [wobbly('cpu', 1), wobbly('fork', 2), wobbly('disk', 3), wobbly('flood', 4), wobbly('panic', 5), series('memory', { spread: 0, factor: 1.2 })];
  assert.is(tcp(judgedAlone(faults[5])).duringVerdict.kind, 'degraded', 'against its own flat baseline');
  const pooled = pooledNoise(faults).get('g2/tcpP50Ns')!;
  assert.ok(pooled >= 20 && pooled <= 40, String(pooled));
  const judged = judgeAgainstPass(faults.map((f) => ({ ...f, ...judgedAlone(f) })), ['g2']);
  const mem = judged.find((f) => f.fault === 'memory')!;
  assert.is(mem.neighbours[0].verdict.kind, 'isolated');
  assert.is(tcp(mem).noisePercent, Math.round(pooled * 10) / 10);
  // A doubling stands out against either.
  const doubled = judgeAgainstPass([...faults.slice(0, 5), series('memory', { spread: 0, factor: 2 })].map((f) => ({ ...f, ...judgedAlone(f) })), ['g2']);
  assert.equal(doubled.find((f) => f.fault === 'memory')!.neighbours[0].verdict, { kind: 'degraded', worsePercent: 100 });
});

test('a round: each probe\'s figures, null where it failed (timeout, half the datagrams lost, a tenth of the server\'s requests)', async () => {
  const stats = (p50: number) => ({ p50Ns: p50, p99Ns: p50 * 3 });
  let udpLost = 0, tcpFails = false, benchErrors = 0;
  const probes = {
    responseTime: async (o: { protocol?: string }) => {
      if (o.protocol === 'tcp' && tcpFails) throw new Error('timed out');
      return { latency: stats(o.protocol === 'tcp' ? 50_000 : 40_000), sent: 100, received: 100 - udpLost, lost: udpLost };
    },
    throughput: async () => ({ Mbps: 4000 }),
    serveBench: async () => ({ config: { requests: 50 }, errors: benchErrors, latency: stats(200_000) }),
  } as unknown as RoundProbes;
  const nb = { id: 'g2', netns: 'x-client', address: '198.18.0.12' };
  const o = { neighbours: [nb], probes, bench: 'dns' as const };
  let r = await measureRound(nb, o, performance.now());
  assert.equal(r.values, { tcpP50Ns: 50_000, tcpP99Ns: 150_000, udpP50Ns: 40_000, udpP99Ns: 120_000, tcpMbps: 4000, serverP50Ns: 200_000, serverP99Ns: 600_000 });
  assert.is(r.errors, undefined);
  udpLost = 60; tcpFails = true; benchErrors = 5;
  r = await measureRound(nb, o, performance.now());
  assert.equal([r.values.tcpP50Ns, r.values.udpP50Ns, r.values.serverP50Ns, r.values.tcpMbps], [null, null, 200_000, 4000], 'five of fifty server errors still pass');
  assert.is(r.errors!.length, 2, 'the TCP timeout and the UDP loss');
  benchErrors = 6;
  r = await measureRound(nb, o, performance.now());
  assert.is(r.values.serverP50Ns, null);
});

const run = (fault: FaultRun['fault'], g2: FaultRun['neighbours'][0]['verdict'], host: FaultRun['neighbours'][0]['verdict']): FaultRun => ({
  fault, startMs: 4000, endMs: 8000, windowS: 4, outcome: `${fault}: done`, outlived: false, replaced: fault === 'panic', hostCost: { cpuBefore: 0.01, cpuDuring: 0.93, memBytesBefore: 20 << 20, memPeakBytesDuring: 61 << 20 },
  metrics: [{ neighbour: 'g2', metric: 'tcpMbps', before: 4000, during: 1000, after: 3900, noisePercent: 50, duringVerdict: g2, afterVerdict: { kind: 'isolated', worsePercent: 2.5 } }],
  neighbours: [{ neighbour: 'g2', verdict: g2, afterVerdict: { kind: 'isolated' }, recoveryMs: 1500 }, { neighbour: 'host', verdict: host, afterVerdict: { kind: 'isolated' }, recoveryMs: 0 }],
  rounds: [...rounds('g2', 12, () => base), ...rounds('host', 12, () => ({ ...base, tcpP99Ns: 300_000 }))],
});

test('containment: a fault the limits turn from degraded or broken to isolated is contained, with the limit that bears on it', () => {
  const deg = { kind: 'degraded' as const, worsePercent: 75 };
  const iso = { kind: 'isolated' as const };
  const c = containment([run('cpu', deg, iso), run('fork', { kind: 'broken' }, deg), run('flood', deg, iso)], [run('cpu', iso, iso), run('fork', deg, deg), run('flood', deg, iso)]);
  const at = (f: string, n: string) => c.find((x) => x.fault === f && x.neighbour === n)!;
  assert.equal([at('cpu', 'g2').contained, at('cpu', 'g2').limit], [true, 'cpu']);
  assert.is(at('cpu', 'host').contained, false, 'nothing to contain');
  assert.equal([at('fork', 'g2').contained, at('fork', 'g2').limit], [true, 'pids'], 'broken to degraded is contained in part');
  assert.is(at('fork', 'host').contained, false);
  assert.equal([at('flood', 'g2').contained, at('flood', 'g2').limit], [false, undefined]);
  // The host could not apply the cpu limit: a better cpu row is not the limit's doing.
  const u = containment([run('cpu', deg, iso), run('fork', { kind: 'broken' }, deg)], [run('cpu', iso, iso), run('fork', deg, deg)], ['cpu']);
  const cpu = u.find((x) => x.fault === 'cpu' && x.neighbour === 'g2')!;
  assert.equal([cpu.contained, cpu.limit, cpu.limitUnsupported], [false, 'cpu', true]);
  assert.is(u.find((x) => x.fault === 'fork' && x.neighbour === 'g2')!.contained, true);
});

test('--limit: parsed, printed back, bad input refused; a memory limit below mem= plus headroom is refused', () => {
  const l = parseLimits('cpu=50%,mem=256M,io=20M,pids=512');
  assert.equal(l, { cpuPercent: 50, memBytes: 256 << 20, ioBps: 20 << 20, pids: 512 });
  assert.is(formatLimits(l), 'cpu=50%,mem=256M,io=20M,pids=512');
  for (const bad of ['', 'cpu=50', 'cpu=0%', 'mem=1M', 'io=1', 'pids=3', 'net=1M', 'cpu=50%,cpu=20%', 'cpu'])
    assert.throws(() => parseLimits(bad), /bad --limit/, bad);
  assert.not.throws(() => checkMemLimit({ memBytes: 64 * 1048576 + MEM_LIMIT_HEADROOM }, '64M'));
  assert.throws(() => checkMemLimit({ memBytes: 64 << 20 }, '64M'), /below the guest's mem=64M/);
  assert.throws(() => checkMemLimit({ memBytes: 100 << 20 }, '128M'), /OOM killer/);
});

const tmp = tempDir(path.join(os.tmpdir(), 'umlperf-hiso-'));
test.after(() => {
  setCgroupModeForTests(undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('limits on a fake v1 tree: each control written where the host has it; a missing controller is unsupported', () => {
  const v1 = path.join(tmp, 'v1');
  for (const c of ['pids', 'freezer', 'cpu', 'cpuacct', 'memory']) {
    fs.mkdirSync(path.join(v1, c), { recursive: true });
    fs.writeFileSync(path.join(v1, c, 'cgroup.procs'), '');
  }
  setCgroupModeForTests(detectCgroupMode(v1));
  cgroupCreate('hix', 'g1');
  const leaf = (c: string) => path.join(v1, c, 'umlperf/hix/g1');
  for (const [c, f] of [['cpu', 'cpu.cfs_quota_us'], ['cpu', 'cpu.cfs_period_us'], ['memory', 'memory.limit_in_bytes'], ['pids', 'pids.max']]) fs.writeFileSync(path.join(leaf(c), f), '');
  fs.writeFileSync(path.join(leaf('cpuacct'), 'cpuacct.usage'), '123456789\n');
  fs.writeFileSync(path.join(leaf('memory'), 'memory.usage_in_bytes'), '1048576\n');
  fs.writeFileSync(path.join(leaf('memory'), 'memory.max_usage_in_bytes'), '2097152\n');
  const r = applyLimits('hix', 'g1', { cpuPercent: 50, memBytes: 256 << 20, ioBps: 1 << 20, pids: 300 }, tmp);
  assert.equal(r.applied, { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '50000', 'memory.limit_in_bytes': String(256 << 20), 'pids.max': '300' });
  assert.equal(r.unsupported, ['io'], 'no blkio controller here (and a tmp file may sit on no block device)');
  assert.is(fs.readFileSync(path.join(leaf('cpu'), 'cpu.cfs_quota_us'), 'utf8'), '50000');
  assert.equal(cgroupUsage('hix', 'g1'), { cpuNs: 123456789, memBytes: 1048576, memPeakBytes: 2097152 });
});

test('v1: a leaf joins the scheduling controllers (cpu, blkio) only with a limit there; counting ones always', () => {
  const v1 = path.join(tmp, 'v1j');
  for (const c of ['pids', 'freezer', 'cpu', 'cpuacct', 'memory', 'blkio']) {
    fs.mkdirSync(path.join(v1, c), { recursive: true });
    fs.writeFileSync(path.join(v1, c, 'cgroup.procs'), '');
  }
  setCgroupModeForTests(detectCgroupMode(v1));
  const ctl = (p: string) => path.basename(path.dirname(path.dirname(path.dirname(path.dirname(p)))));
  assert.equal(cgroupCreate('hij', 'g1').map(ctl), ['pids', 'freezer', 'cpuacct', 'memory']);
  assert.equal(cgroupCreate('hij', 'g2', { join: limitControllers({ cpuPercent: 50 }) }).map(ctl), ['pids', 'freezer', 'cpu', 'cpuacct', 'memory']);
  assert.equal(limitControllers({ ioBps: 1 << 20, memBytes: 1 << 30 }), ['blkio']);
  assert.ok(fs.existsSync(path.join(v1, 'cpu/umlperf/hij/g1')), 'made (and removed) in every controller all the same');
});

test('limits on a fake v2 tree: cpu.max, memory.max, pids.max; controllers enabled down the tree', () => {
  const v2 = path.join(tmp, 'v2');
  fs.mkdirSync(v2, { recursive: true });
  fs.writeFileSync(path.join(v2, 'cgroup.controllers'), 'cpu io memory pids\n');
  fs.writeFileSync(path.join(v2, 'cgroup.subtree_control'), '');
  setCgroupModeForTests(detectCgroupMode(v2));
  cgroupCreate('hix', 'g2');
  const leaf = path.join(v2, 'umlperf/hix/g2');
  for (const f of ['cpu.max', 'memory.max', 'cpu.stat', 'memory.current']) fs.writeFileSync(path.join(leaf, f), '');
  fs.writeFileSync(path.join(leaf, 'cpu.stat'), 'usage_usec 42\nuser_usec 40\n');
  fs.writeFileSync(path.join(leaf, 'memory.current'), '4096\n');
  const r = applyLimits('hix', 'g2', { cpuPercent: 150, memBytes: 128 << 20, pids: 64 });
  assert.equal(r.applied, { 'cpu.max': '150000 100000', 'memory.max': String(128 << 20) });
  assert.equal(r.unsupported, ['pids']);
  assert.equal(cgroupUsage('hix', 'g2'), { cpuNs: 42000, memBytes: 4096 });
});

function result(): IsolateResult {
  const deg = { kind: 'degraded' as const, worsePercent: 75 };
  const iso = { kind: 'isolated' as const, worsePercent: 3 };
  return {
    tool: 'umlperf', version: '0.0.0', schemaVersion: 2, kind: 'isolate', startedAt: '2026-01-01T00:00:00.000Z',
    clock: { source: 'tsc', resolutionNs: 1, overheadNs: 10 },
    config: { faults: ['cpu', 'panic'], windowS: 4, image: 'minimal', servers: [], faultyGuest: 'g1', neighbours: ['g2', 'host'], limit: 'cpu=50%', minNoisePercent: 10, baselineSlices: 4, placement: { proberCpu: 0, guestCpu: 1 } },
    passes: [
      { faults: [run('cpu', deg, iso), run('panic', iso, { kind: 'broken' })] },
      { limit: 'cpu=50%', limits: { g1: { limits: { cpuPercent: 50 }, applied: { 'cpu.cfs_quota_us': '50000' }, unsupported: [] } }, faults: [run('cpu', iso, iso), run('panic', iso, { kind: 'broken' })] },
    ],
    containment: [],
    durationMs: 61_000,
  };
}

test('v2: a limit whose control the leaf lacks (controller not enabled, no disk to throttle) is reported unsupported, the rest applied', () => {
  const v2 = path.join(tmp, 'v2b');
  fs.mkdirSync(v2, { recursive: true });
  fs.writeFileSync(path.join(v2, 'cgroup.controllers'), 'cpu io pids\n');
  fs.writeFileSync(path.join(v2, 'cgroup.subtree_control'), '');
  setCgroupModeForTests(detectCgroupMode(v2));
  try {
    cgroupCreate('hiy', 'g1');
    const leaf = path.join(v2, 'umlperf/hiy/g1');
    // No memory.max: the memory controller is not enabled for this tree.
    for (const f of ['cpu.max', 'io.max', 'pids.max']) fs.writeFileSync(path.join(leaf, f), '');
    const disk = diskOf(path.join(tmp, 'v2b'));
    const r = applyLimits('hiy', 'g1', { cpuPercent: 50, memBytes: 256 << 20, ioBps: 20 << 20, pids: 128 }, disk ? path.join(tmp, 'v2b') : undefined);
    assert.equal(r.applied['cpu.max'], '50000 100000');
    assert.equal(r.applied['pids.max'], '128');
    assert.ok(r.unsupported.includes('mem'), JSON.stringify(r));
    if (disk) {
      assert.equal(r.applied['io.max'], `${disk} rbps=${20 << 20} wbps=${20 << 20}`);
      assert.is(fs.readFileSync(path.join(leaf, 'io.max'), 'utf8'), `${disk} rbps=${20 << 20} wbps=${20 << 20}`);
    }
    assert.is(fs.readFileSync(path.join(leaf, 'cpu.max'), 'utf8'), '50000 100000');
    // No disk under the guest's files (tmpfs): io cannot be throttled, and says so.
    const r2 = applyLimits('hiy', 'g1', { ioBps: 1 << 20 }, undefined);
    assert.equal(r2.unsupported, ['io']);
    assert.equal(r2.applied, {});
  } finally {
    setCgroupModeForTests(undefined);
  }
});

test('Table 6: a verdict per fault and neighbour, recovery, host cost; detail rows with units', () => {
  const r = result();
  r.containment = containment(r.passes[0].faults, r.passes[1].faults);
  const g = summaryGrid(r, r.passes[0]);
  assert.equal(g.header.slice(0, 5), ['fault', 'g2', 'g2 back after', 'host', 'host back after']);
  assert.equal(g.rows[0].slice(0, 7), ['cpu (4 busy loops)', 'degraded by 75%', '1.5 s', 'isolated', '', '0.01 → 0.93', '61 MiB']);
  assert.equal(g.rows[1][3], 'broken');
  assert.match(g.rows[1][7], /g1 replaced/);
  const d = detailGrid(r, r.passes[0]);
  assert.equal(d.rows[0], ['cpu', 'g2', 'TCP throughput (Mbit/s)', '4000', '1000', '3900', '±50%', 'degraded by 75%', 'isolated']);
  const text = isolateText(r);
  assert.match(text, /Table 6\. A buggy guest/);
  assert.match(text, /What the host-side limits contain/);
  assert.match(text, /g1: applied cpu\.cfs_quota_us=50000/);
  assert.match(isolateMarkdown(r), /\| cpu \| g2 \| TCP throughput \(Mbit\/s\) \| 4000 \| 1000 \|/);
  assert.match(text, /pinned: the probes to CPU 0, the guests \(g1 and its guest neighbours\) to CPU 1/);
  assert.match(text, /baseline's 4 slices/);
  // A cpu limit the host could not apply: the containment table says so, and claims nothing.
  r.containment = containment(r.passes[0].faults, r.passes[1].faults, ['cpu']);
  const row = containmentGrid(r)!.rows.find((x) => x[0] === 'cpu' && x[1] === 'g2')!;
  assert.equal(row.slice(2), ['cpu (unsupported here)', 'degraded by 75%', 'isolated', 'no (limit not applied)']);
});

test('Table 6 as CSV (one line per pass × fault × metric, equal field counts) and HTML (a chart per fault, the window shaded)', () => {
  const r = result();
  const lines = isolateCsv(r).trim().split('\n');
  assert.is(lines.length, 1 + 4);
  const n = lines[0].split(',').length;
  for (const l of lines) assert.is(l.split(',').length, n, l);
  assert.is(lines[0], 'limit,fault,neighbour,metric,before_us,during_us,after_us,before_Mbps,during_Mbps,after_Mbps,noise_percent,during_verdict,during_worse_percent,after_verdict,recovery_ms,outlived,replaced');
  // Throughput in the Mbps columns only; the µs columns stay empty on its line (one unit per column).
  assert.match(lines[1], /^,cpu,g2,tcpMbps,,,,4000,1000,3900,50,degraded,75,isolated,1500,false,false$/);
  assert.match(lines[3], /^cpu=50%,cpu,g2,tcpMbps,,,,4000,1000,3900,50,isolated,3,isolated,1500,false,false$/);
  assert.match(lines[2], /^,panic,g2,.*,true$/, 'panic replaced the guest');
  const lat = result();
  lat.passes[0].faults[0].metrics = [{ ...lat.passes[0].faults[0].metrics[0], metric: 'tcpP50Ns', before: 52_000, during: 208_500, after: 53_000 }];
  assert.match(isolateCsv(lat).split('\n')[1], /^,cpu,g2,tcpP50Ns,52,208\.5,53,,,,50,/, 'latency in µs, the Mbps columns empty');
  const html = isolateHtml(r);
  assert.is((html.match(/<svg /g) ?? []).length, 4);
  assert.is((html.match(/fill="#f4c7c3"/g) ?? []).length, 4);
  assert.not.match(html, /NaN/);
});

test('Table 6 in headless Chromium: no element wider than the viewport, every fault chart drawn with its window', () => {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  if (!chromium) throw new Error('chromium is not installed: apt-get install chromium');
  const dir = tempDir(path.join(os.tmpdir(), 'umlperf-hiso-html-'));
  try {
    // The page has no script of its own; this one only measures it and writes what it saw.
    const probe = `<script>addEventListener('load', () => {
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('table'));
      const charts = [...document.querySelectorAll('svg')].filter((s) => s.getBoundingClientRect().width > 100 && s.getBoundingClientRect().height > 50);
      document.body.setAttribute('data-check', JSON.stringify({ pageWidth: document.documentElement.scrollWidth, viewport: innerWidth, wide: wide.length, charts: charts.length }));
    });</script>`;
    const file = path.join(dir, 'isolate.html');
    fs.writeFileSync(file, isolateHtml(result()).replace('</body>', `${probe}</body>`));
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`, '--window-size=1000,2000'];
    const dom = spawnSync(chromium, [...args, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    assert.is(dom.status, 0, dom.stderr);
    const m = /data-check="([^"]*)"/.exec(dom.stdout);
    assert.ok(m, 'the page was laid out');
    const check = JSON.parse(m![1].replace(/&quot;/g, '"')) as { pageWidth: number; viewport: number; wide: number; charts: number };
    assert.ok(check.pageWidth <= check.viewport, JSON.stringify(check));
    assert.is(check.wide, 0);
    assert.is(check.charts, 4, 'a chart per fault and pass');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
