// The paired experiments' parts that need no lab: finding a server's process tree, stopping and
// continuing it with the guest-side script (run here on the host against processes of this
// test), freezing a leaf on fake v1 and v2 cgroup trees, the adaptive CI over every
// comparison of an experiment, and the drift reference on synthetic series.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { cgroupFreeze, cgroupThawAll, detectCgroupMode, setCgroupModeForTests } from '../src/lab/cgroup.js';
import { widestCiPercent } from '../src/paper/experiments.js';
import { descendants, GUEST_SIGNAL_SCRIPT, readProcTable, serverProgram, serverRoots, type ProcEntry } from '../src/paper/pause.js';
import { driftWatch, referenceFigure } from '../src/paper/run.js';
import { tempDir } from './helpers.js';

const tmp = tempDir(path.join(os.tmpdir(), 'umlperf-rrpair-'));
test.after(() => {
  setCgroupModeForTests(undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const table = (rows: [number, number, string][]) => new Map<number, ProcEntry>(rows.map(([pid, ppid, argv0]) => [pid, { ppid, argv0 }]));

test('a server tree: its root runs the server program under another parent; children of every depth, parents first', () => {
  const t = table([
    [1, 0, '/sbin/init'],
    [10, 1, 'sh'],
    [11, 10, serverProgram('www')], // apache's parent
    [12, 11, serverProgram('www')], // its children run the same program
    [13, 11, serverProgram('www')],
    [14, 12, 'helper'],
    [20, 10, serverProgram('dns')],
    [30, 1, serverProgram('mail')],
    [31, 30, 'qmgr'],
    [32, 30, 'pickup'],
    [40, 1, '/usr/local/bin/endpoint'],
  ]);
  assert.is(serverProgram('dns'), '/usr/sbin/named');
  assert.equal(serverRoots(t, t.keys(), ['www']), [11]);
  assert.equal(serverRoots(t, t.keys(), ['dns', 'mail']), [20, 30]);
  assert.equal(serverRoots(t, [12, 13, 20], ['www', 'dns']), [20], 'only candidates count; a child of a server is not a root');
  assert.equal(serverRoots(t, t.keys(), []), []);
  assert.equal(descendants(t, [11]), [12, 13, 14]);
  assert.equal(descendants(t, [30]), [31, 32]);
  assert.equal(descendants(t, [40]), []);
});

test('the host process table: this process with its parent and argv[0]', () => {
  const t = readProcTable();
  assert.is(t.get(process.pid)?.ppid, process.ppid);
  assert.is(t.get(process.pid)?.argv0, fs.readFileSync('/proc/self/cmdline', 'utf8').split('\0')[0]);
});

const stateOf = (pid: number): string => {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
};

async function until(what: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

test('the guest-side script stops a server tree from its PID file (the parent and its children), continues it, leaves others alone', async () => {
  const pids = path.join(tmp, 'pids');
  fs.mkdirSync(pids);
  // A "server" with two children, and a bystander; all this test's own, ended by their group.
  const server = spawn('sh', ['-c', 'sleep 60 & sleep 60 & wait'], { detached: true, stdio: 'ignore' });
  const other = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  try {
    assert.ok(await until(() => descendants(readProcTable(), [server.pid!]).length === 2), 'the children started');
    const kids = descendants(readProcTable(), [server.pid!]);
    fs.writeFileSync(path.join(pids, 'www.pid'), `${server.pid}\n`);
    fs.writeFileSync(path.join(pids, 'dns.pid'), `${other.pid}\n`);
    fs.writeFileSync(path.join(pids, 'mail.pid'), 'not-a-pid\n');
    const run = (...args: string[]) => spawnSync('/bin/sh', ['-c', GUEST_SIGNAL_SCRIPT, 'sh', pids, ...args], { encoding: 'utf8' });
    const stop = run('STOP', 'www', 'mail', 'none');
    assert.is(stop.status, 0, stop.stderr);
    assert.is(stop.stdout.trim(), '1 3', 'one server found (a bad or missing PID file is skipped): the parent and its two children');
    for (const p of [server.pid!, ...kids]) assert.ok(await until(() => stateOf(p) === 'T'), `${p} stopped: ${stateOf(p)}`);
    assert.is.not(stateOf(other.pid!), 'T', 'a server not named keeps running');
    // One run both stops and continues: the bystander stopped, the server continued.
    const both = run('STOP', 'dns', 'CONT', 'www');
    assert.is(both.status, 0, both.stderr);
    assert.is(both.stdout.trim(), '2 4');
    for (const p of [server.pid!, ...kids]) assert.ok(await until(() => stateOf(p) !== 'T'), `${p} continued: ${stateOf(p)}`);
    assert.ok(await until(() => stateOf(other.pid!) === 'T'), 'the bystander stopped');
    assert.is(run('CONT', 'dns').stdout.trim(), '1 1');
    assert.ok(await until(() => stateOf(other.pid!) !== 'T'));
  } finally {
    for (const c of [server, other]) {
      try {
        process.kill(-c.pid!, 'SIGCONT');
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

test('freezing a leaf: v1 freezer.state, v2 cgroup.freeze (done when cgroup.events says so); thaw-all thaws every leaf', async () => {
  const v1 = path.join(tmp, 'v1');
  fs.mkdirSync(path.join(v1, 'freezer', 'umlperf', 'rrlab', 'g1'), { recursive: true });
  fs.mkdirSync(path.join(v1, 'freezer', 'umlperf', 'rrlab', 'g2'), { recursive: true });
  fs.writeFileSync(path.join(v1, 'freezer', 'cgroup.procs'), '');
  for (const g of ['g1', 'g2']) fs.writeFileSync(path.join(v1, 'freezer/umlperf/rrlab', g, 'freezer.state'), 'THAWED\n');
  setCgroupModeForTests(detectCgroupMode(v1));
  assert.is(await cgroupFreeze('rrlab', 'g2', true, 200), true);
  assert.is(fs.readFileSync(path.join(v1, 'freezer/umlperf/rrlab/g2/freezer.state'), 'utf8'), 'FROZEN');
  assert.is(fs.readFileSync(path.join(v1, 'freezer/umlperf/rrlab/g1/freezer.state'), 'utf8'), 'THAWED\n', 'the other guest untouched');
  assert.is(await cgroupFreeze('rrlab', 'g3', true, 200), false, 'no such leaf');
  cgroupThawAll('rrlab');
  assert.is(fs.readFileSync(path.join(v1, 'freezer/umlperf/rrlab/g2/freezer.state'), 'utf8'), 'THAWED');

  const v2 = path.join(tmp, 'v2');
  const leaf = path.join(v2, 'umlperf', 'rrlab', 'g1');
  fs.mkdirSync(leaf, { recursive: true });
  fs.writeFileSync(path.join(v2, 'cgroup.controllers'), '');
  fs.writeFileSync(path.join(v2, 'cgroup.subtree_control'), '');
  fs.writeFileSync(path.join(leaf, 'cgroup.freeze'), '0\n');
  fs.writeFileSync(path.join(leaf, 'cgroup.events'), 'populated 1\nfrozen 0\n');
  setCgroupModeForTests(detectCgroupMode(v2));
  // The kernel has not reported the leaf frozen: not done within the deadline.
  assert.is(await cgroupFreeze('rrlab', 'g1', true, 100), false);
  assert.is(fs.readFileSync(path.join(leaf, 'cgroup.freeze'), 'utf8'), '1');
  fs.writeFileSync(path.join(leaf, 'cgroup.events'), 'populated 1\nfrozen 1\n');
  assert.is(await cgroupFreeze('rrlab', 'g1', true, 100), true);
  cgroupThawAll('rrlab');
  assert.is(fs.readFileSync(path.join(leaf, 'cgroup.freeze'), 'utf8'), '0');
  setCgroupModeForTests({ version: 0 });
  assert.is(await cgroupFreeze('rrlab', 'g1', true, 100), false, 'no cgroups: unsupported, said so');
  setCgroupModeForTests(undefined);
});

test('adaptive runs look at every comparison of an experiment: guest/host, each condition against the baseline, the A/A', () => {
  const steady = [100, 100, 100, 100];
  const noisy = [100, 150, 70, 120];
  const cell = (cond: number, side: 'host' | 'guest', aa: boolean, p50s: number[]) => ({ cond, side, aa, protocol: 'tcp' as const, p50s, mbps: steady });
  const base = [cell(0, 'host', false, steady), cell(0, 'guest', false, steady), cell(0, 'host', true, steady)];
  assert.is(widestCiPercent(base), 0);
  // Condition 1 on the host differs from the baseline by a noisy factor per block: only the
  // condition-vs-baseline comparison sees it (its guest/host ratio is steady).
  const cond1 = [cell(1, 'host', false, noisy), cell(1, 'guest', false, noisy.map((x) => x * 2))];
  assert.ok(widestCiPercent([...base, ...cond1]) > 20, `${widestCiPercent([...base, ...cond1])}`);
  // ...and a noisy A/A alone widens it too.
  assert.ok(widestCiPercent([base[0], base[1], cell(0, 'host', true, noisy)]) > 20);
  // Fewer than two blocks: unknown, so more blocks are needed.
  assert.is(widestCiPercent([cell(0, 'host', false, [1]), cell(0, 'guest', false, [2])]), Infinity);
});

test('the reference figure is the median of short probes: one or two probes caught by load do not move it', async () => {
  const xs = [20_000, 61_000, 19_000, 55_000, 21_000];
  let i = 0;
  assert.is(await referenceFigure(async () => xs[i++]), 21_000);
  assert.is(i, 5);
  let j = 0;
  assert.is(await referenceFigure(async () => [10, 30, 20][j++], 3), 20);
});

test('the drift watch on synthetic series: a step change, a slow ramp, a steady machine, an empty run', () => {
  const series = (xs: number[]) => xs.map((referenceP50Ns, block) => ({ atMs: block * 1000, step: block < 5 ? 'experiment 1' : 'experiment 2: servers none/named', block: block % 5, referenceP50Ns }));
  // Steady within ±10%: nothing flagged.
  const steady = driftWatch(series([20, 21, 19, 22, 20, 18, 20, 21, 19, 20].map((x) => x * 1000)), 25);
  assert.is(steady.medianReferenceP50Ns, 20_000);
  assert.equal(steady.flagged, []);
  // The machine got busy for the last three blocks (+60%): those are named, with their step.
  const step = driftWatch(series([20, 20, 20, 20, 20, 20, 20, 32, 32, 32].map((x) => x * 1000)), 25);
  assert.equal(step.flagged.map((f) => [f.step, f.block, Math.round(f.deviationPercent)]), [
    ['experiment 2: servers none/named', 2, 60], ['experiment 2: servers none/named', 3, 60], ['experiment 2: servers none/named', 4, 60]]);
  // A slow ramp from 16 to 25 µs: only the ends stray beyond ±20% of the median (20.5 µs).
  const ramp = driftWatch(series([16, 17, 18, 19, 20, 21, 22, 23, 24, 25].map((x) => x * 1000)), 20);
  assert.is(ramp.medianReferenceP50Ns, 20_500);
  assert.equal(ramp.flagged.map((f) => `${f.step}#${f.block}`), ['experiment 1#0', 'experiment 2: servers none/named#4']);
  // Faster is drift too.
  assert.equal(driftWatch(series([20_000, 20_000, 10_000, 20_000]), 25).flagged.map((f) => Math.round(f.deviationPercent)), [-50]);
  assert.equal(driftWatch([], 25), { series: [], medianReferenceP50Ns: 0, thresholdPercent: 25, flagged: [] });
});

test.run();
