// Experiment 4 without a lab: the faults' scripts and bounds, the verdicts on synthetic rounds,
// containment, the --limit parser and writers on fake cgroup trees (v1 and v2), Table 6.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cgroupCreate, detectCgroupMode, setCgroupModeForTests } from '../src/lab/cgroup.js';
import { applyLimits, cgroupUsage, checkMemLimit, formatLimits, limitControllers, MEM_LIMIT_HEADROOM, parseLimits } from '../src/lab/limits.js';
import { crashVictim, faultScript, FAULTS, FLOOD_MAX_MBPS, FLOOD_TARGET, parseFaultOutput, parseFaults } from '../src/isolate/faults.js';
import type { FaultRun, IsolateResult, Metric, Round } from '../src/isolate/model.js';
import { measureRound, type RoundProbes } from '../src/isolate/sample.js';
import { analyse, containment, judge, judgeAgainstPass, MIN_NOISE_PERCENT, pooledNoise, noisePercent, phaseOf, verdictText, worsePercent, worst } from '../src/isolate/verdict.js';
import { detailGrid, isolateCsv, isolateHtml, isolateMarkdown, isolateText, summaryGrid } from '../src/report/isolate.js';

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

test('the flood goes only to a lab address, capped in rate and time', () => {
  const [a, b] = FLOOD_TARGET.address.split('.').map(Number);
  assert.ok(a === 198 && (b === 18 || b === 19), FLOOD_TARGET.address);
  const s = faultScript('flood', 5)!;
  assert.ok(s.includes(`${FLOOD_TARGET.address} ${FLOOD_TARGET.port} 5 ${FLOOD_MAX_MBPS}`), s);
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
  const r = analyse([...calm, ...slowed], 4000, 8000, ['g2', 'host']);
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
  const d = analyse(dead, 4000, 8000, ['g2']).neighbours[0];
  assert.equal(d.verdict, { kind: 'broken' });
  assert.is(d.afterVerdict.kind, 'isolated');
});

test('analyse: a tail that moves alone is shown per metric but does not set the neighbour\'s verdict; a failed tail does', () => {
  const tail = rounds('g2', 12, (i) => (i >= 4 && i < 8 ? { ...base, tcpP99Ns: 5_000_000 } : base));
  const r = analyse(tail, 4000, 8000, ['g2']);
  assert.is(r.metrics.find((m) => m.metric === 'tcpP99Ns')!.duringVerdict.kind, 'degraded');
  assert.is(r.neighbours[0].verdict.kind, 'isolated');
  const lost = rounds('g2', 12, (i) => (i >= 4 && i < 8 ? { ...base, udpP99Ns: null } : base));
  assert.is(analyse(lost, 4000, 8000, ['g2']).neighbours[0].verdict.kind, 'broken');
});

test('analyse: a neighbour that never comes back has no recovery time', () => {
  const gone = rounds('g2', 10, (i) => (i >= 4 ? { ...base, tcpMbps: 500 } : base));
  const n = analyse(gone, 4000, 6000, ['g2']).neighbours[0];
  assert.is(n.recoveryMs, null);
  assert.is(n.afterVerdict.kind, 'degraded');
});

test('the pass\'s pooled noise: one stall in a fault\'s baseline no longer hides a doubling', () => {
  // Six quiet faults and one whose baseline had a stall (round 2: 5x); in that one, p50 doubles.
  const quiet = (f: FaultRun['fault']): FaultRun => ({ ...run(f, { kind: 'isolated' }, { kind: 'isolated' }), rounds: rounds('g2', 12, () => base) });
  const stalled = rounds('g2', 12, (i) => (i === 2 ? { ...base, tcpP50Ns: 250_000 } : i >= 4 && i < 8 ? { ...base, tcpP50Ns: 100_000 } : base));
  const alone = analyse(stalled, 4000, 8000, ['g2']);
  assert.is(alone.neighbours[0].verdict.kind, 'isolated', 'against its own baseline (noise ±400%)');
  const faults = [quiet('cpu'), quiet('fork'), quiet('disk'), quiet('flood'), quiet('panic'), quiet('crash'), { ...quiet('memory'), ...alone, rounds: stalled }];
  const first = faults.map((f) => ({ ...f, ...analyse(f.rounds, f.startMs, f.endMs, ['g2']) }));
  const judged = judgeAgainstPass(first, ['g2']);
  const mem = judged.find((f) => f.fault === 'memory')!;
  assert.equal(mem.neighbours[0].verdict, { kind: 'degraded', worsePercent: 100 });
  assert.is(mem.metrics.find((m) => m.metric === 'tcpP50Ns')!.noisePercent, MIN_NOISE_PERCENT);
  assert.is(judged.find((f) => f.fault === 'cpu')!.neighbours[0].verdict.kind, 'isolated');
});

test('the pass\'s pooled noise spans the levels a neighbour moves between from fault to fault', () => {
  // The neighbour sits at 50 µs in some faults' baselines and at 100 µs in others (scheduler
  // placement): a fault during which it sits at 100 µs is within the run's noise.
  const at = (f: FaultRun['fault'], level: number, during: number): FaultRun => ({
    ...run(f, { kind: 'isolated' }, { kind: 'isolated' }),
    rounds: rounds('g2', 12, (i) => ({ ...base, tcpP50Ns: i >= 4 && i < 8 ? during : level })),
  });
  const faults = [at('cpu', 50_000, 50_000), at('fork', 100_000, 100_000), at('disk', 50_000, 100_000), at('flood', 100_000, 100_000), at('memory', 50_000, 300_000)];
  const noise = pooledNoise(faults).get('g2/tcpP50Ns')!;
  assert.ok(noise >= 100, String(noise));
  const judged = judgeAgainstPass(faults.map((f) => ({ ...f, ...analyse(f.rounds, f.startMs, f.endMs, ['g2']) })), ['g2']);
  assert.is(judged.find((f) => f.fault === 'disk')!.neighbours[0].verdict.kind, 'isolated');
  assert.equal(judged.find((f) => f.fault === 'memory')!.neighbours[0].verdict, { kind: 'degraded', worsePercent: 500 });
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'umlperf-hiso-'));
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
    config: { faults: ['cpu', 'panic'], windowS: 4, image: 'minimal', servers: [], faultyGuest: 'g1', neighbours: ['g2', 'host'], limit: 'cpu=50%', minNoisePercent: 50 },
    passes: [
      { faults: [run('cpu', deg, iso), run('panic', iso, { kind: 'broken' })] },
      { limit: 'cpu=50%', limits: { g1: { limits: { cpuPercent: 50 }, applied: { 'cpu.cfs_quota_us': '50000' }, unsupported: [] } }, faults: [run('cpu', iso, iso), run('panic', iso, { kind: 'broken' })] },
    ],
    containment: [],
    durationMs: 61_000,
  };
}

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
});

test('Table 6 as CSV (one line per pass × fault × metric, equal field counts) and HTML (a chart per fault, the window shaded)', () => {
  const r = result();
  const lines = isolateCsv(r).trim().split('\n');
  assert.is(lines.length, 1 + 4);
  const n = lines[0].split(',').length;
  for (const l of lines) assert.is(l.split(',').length, n, l);
  assert.match(lines[1], /^,cpu,g2,tcpMbps,4000,1000,3900,50,degraded,75,isolated,1500,false,false$/);
  assert.match(lines[3], /^cpu=50%,cpu,g2,tcpMbps,4000,1000,3900,50,isolated,3,isolated,1500,false,false$/);
  assert.match(lines[2], /^,panic,g2,.*,true$/, 'panic replaced the guest');
  const html = isolateHtml(r);
  assert.is((html.match(/<svg /g) ?? []).length, 4);
  assert.is((html.match(/fill="#f4c7c3"/g) ?? []).length, 4);
  assert.not.match(html, /NaN/);
});

test('Table 6 in headless Chromium: no element wider than the viewport, every fault chart drawn with its window', () => {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  if (!chromium) throw new Error('chromium is not installed: apt-get install chromium');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umlperf-hiso-html-'));
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
