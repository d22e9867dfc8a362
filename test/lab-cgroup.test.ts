// The lab's cgroup tree on both hierarchies: v1 (this machine kind) is exercised by every lab
// test; v2 (a stock Debian 12) here on a fake tree, so its path is tested on any host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cgroupCreate, cgroupDirs, cgroupLabs, cgroupPids, detectCgroupMode, inCgroupArgs, setCgroupModeForTests } from '../src/lab/cgroup.js';
import { tempDir } from './helpers.js';

const tmp = tempDir(path.join(os.tmpdir(), 'umlperf-hlcg-'));
const v2 = path.join(tmp, 'v2');
const v1 = path.join(tmp, 'v1');

test.before(() => {
  fs.mkdirSync(v2);
  fs.writeFileSync(path.join(v2, 'cgroup.controllers'), 'cpu io memory pids\n');
  fs.writeFileSync(path.join(v2, 'cgroup.subtree_control'), '');
  for (const c of ['pids', 'freezer', 'cpu']) {
    fs.mkdirSync(path.join(v1, c), { recursive: true });
    fs.writeFileSync(path.join(v1, c, 'cgroup.procs'), '');
  }
});

test.after(() => {
  setCgroupModeForTests(undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the hierarchy is told apart: v2 unified, v1 per controller (those mounted of pids, freezer, cpu, cpuacct, memory, blkio), none', () => {
  assert.equal(detectCgroupMode(v2), { version: 2, root: v2 });
  assert.equal(detectCgroupMode(v1), { version: 1, roots: [path.join(v1, 'pids'), path.join(v1, 'freezer'), path.join(v1, 'cpu')] });
  assert.equal(detectCgroupMode(path.join(tmp, 'nothing')), { version: 0 });
});

test('one tree umlperf/<lab>/{host,gN}: one directory per hierarchy; bad leaves refused', () => {
  setCgroupModeForTests(detectCgroupMode(v1));
  assert.equal(cgroupDirs('hlx', 'g2'), [path.join(v1, 'pids/umlperf/hlx/g2'), path.join(v1, 'freezer/umlperf/hlx/g2'), path.join(v1, 'cpu/umlperf/hlx/g2')]);
  setCgroupModeForTests(detectCgroupMode(v2));
  assert.equal(cgroupDirs('hlx', 'host'), [path.join(v2, 'umlperf/hlx/host')]);
  assert.throws(() => cgroupDirs('hlx', '../x'));
  assert.throws(() => cgroupDirs('Bad/lab', 'host'));
});

test('v2: a leaf is made, pids enabled down the tree; a limit the tree cannot take is reported unsupported', () => {
  setCgroupModeForTests(detectCgroupMode(v2));
  const procs = cgroupCreate('hlx', 'g1', { pidsMax: 100 });
  assert.equal([...procs], [path.join(v2, 'umlperf/hlx/g1/cgroup.procs')]);
  assert.ok(fs.statSync(path.join(v2, 'umlperf/hlx/g1')).isDirectory());
  for (const d of ['', 'umlperf', 'umlperf/hlx']) assert.is(fs.readFileSync(path.join(v2, d, 'cgroup.subtree_control'), 'utf8'), '+pids', d);
  assert.equal(procs.unsupported, ['pids.max'], 'a fake tree has no pids.max file');
  assert.equal(cgroupLabs(), ['hlx']);
});

test('a command joins the leaf before it starts: the pid written is the command\'s own', () => {
  setCgroupModeForTests(detectCgroupMode(v2));
  const procs = cgroupCreate('hlx', 'host');
  const r = spawnSync(inCgroupArgs(procs, ['sh', '-c', 'echo $$'])[0], inCgroupArgs(procs, ['sh', '-c', 'echo $$']).slice(1), { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const pid = Number(r.stdout.trim());
  assert.is(fs.readFileSync(procs[0], 'utf8').trim(), String(pid));
  assert.ok(cgroupPids('hlx').includes(pid));
  assert.ok(cgroupPids('hlx', 'host').includes(pid));
  // A leaf that cannot be joined stops the command before it runs.
  const bad = inCgroupArgs([path.join(tmp, 'missing/cgroup.procs')], ['sh', '-c', 'echo ran']);
  const b = spawnSync(bad[0], bad.slice(1), { encoding: 'utf8' });
  assert.is(b.status, 125);
  assert.is(b.stdout, '');
});

test.run();
