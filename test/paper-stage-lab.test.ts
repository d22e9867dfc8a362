// The lab stage of the paired experiments on real UML guests: one lab per experiment, whose
// conditions are switched by stopping servers (host side and guest) and freezing guests; and
// whatever is stopped or frozen when the run ends, the stage resumes it and leaves nothing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { cgroupDirs, cgroupPids } from '../src/lab/cgroup.js';
import { labGuestExec } from '../src/lab/lab.js';
import { LabStage } from '../src/paper/lab-stage.js';
import { responseTime } from '../src/probes.js';
import { readProcTable, serverRoots } from '../src/paper/pause.js';
import { SERVER_PID_DIR, type ServerName } from '../src/servers/start.js';
import { cliPath, runCli as spawnSyncCli, tempDir } from './helpers.js';
import { labSnapshot, leftovers } from './lab-helpers.js';

const prefix = `rr${(process.pid % 1296).toString(36)}`;

const labOf = (s: LabStage) => s.target('host').netns!.replace(/-client$/, '');

const stateOf = (pid: number): string => {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
};

/** Host side: each server's process state (T: stopped). */
function hostStates(lab: string, names: ServerName[]): Record<string, string> {
  const t = readProcTable();
  const out: Record<string, string> = {};
  for (const n of names) {
    const roots = serverRoots(t, cgroupPids(lab, 'host'), [n]);
    assert.is(roots.length, 1, `one ${n} on the host side`);
    out[n] = stateOf(roots[0]) === 'T' ? 'T' : 'run';
  }
  return out;
}

/** Guest g1: each server's process state, read in the guest (T: stopped). */
async function guestStates(lab: string, names: ServerName[]): Promise<Record<string, string>> {
  const r = await labGuestExec(lab, 'g1', ['/bin/sh', '-c', `for n; do read -r p < ${SERVER_PID_DIR}/$n.pid; read -r a b st rest < /proc/$p/stat; echo "$n $st"; done`, 'sh', ...names], { timeoutMs: 30_000 });
  assert.is(r.status, 0, r.stderr.toString());
  const out: Record<string, string> = {};
  for (const line of r.stdout.toString().trim().split('\n')) {
    const [n, st] = line.split(' ');
    out[n] = st === 'T' ? 'T' : 'run';
  }
  return out;
}

const freezer = (lab: string, g: string) => {
  const d = cgroupDirs(lab, g).find((x) => x.includes('/freezer/'));
  if (d) return fs.readFileSync(`${d}/freezer.state`, 'utf8').trim();
  // v2: one tree, cgroup.freeze
  return fs.readFileSync(`${cgroupDirs(lab, g)[0]}/cgroup.freeze`, 'utf8').trim() === '1' ? 'FROZEN' : 'THAWED';
};

test('experiment 2: all servers provisioned, each condition runs one alone (host side and guest), close resumes and removes all', async () => {
  const stage = await LabStage.create({ servers: true, labPrefix: `${prefix}s` });
  let lab = '';
  let snap;
  try {
    await stage.prepare({ experiment: 2, servers: ['www', 'dns'], guests: 1 });
    lab = labOf(stage);
    assert.ok(lab.startsWith(prefix), lab);
    snap = labSnapshot(lab);
    const names: ServerName[] = ['www', 'dns'];
    assert.equal(hostStates(lab, names), { www: 'run', dns: 'run' }, 'provisioned and running before any condition');
    await stage.arrange({ experiment: 2, servers: 'dns', guests: 1 });
    assert.equal(hostStates(lab, names), { www: 'T', dns: 'run' });
    assert.equal(await guestStates(lab, names), { www: 'T', dns: 'run' });
    await stage.arrange({ experiment: 2, servers: 'none', guests: 1 });
    assert.equal(hostStates(lab, names), { www: 'T', dns: 'T' });
    assert.equal(await guestStates(lab, names), { www: 'T', dns: 'T' });
    await stage.arrange({ experiment: 2, servers: 'www', guests: 1 });
    assert.equal(hostStates(lab, names), { www: 'run', dns: 'T' });
    assert.equal(await guestStates(lab, names), { www: 'run', dns: 'T' });
    // The same lab throughout: switching is not rebuilding.
    assert.is(labOf(stage), lab);
  } finally {
    // Closed with named stopped on both sides, as after an error or Ctrl-C.
    await stage.close();
  }
  assert.equal(stage.describe().warnings, []);
  assert.equal(leftovers(lab, snap), []);
});

test('experiment 3: the most guests booted once; guests beyond the condition frozen, thawed again; another experiment\'s lab parked whole and back; close leaves nothing', async () => {
  const stage = await LabStage.create({ servers: false, labPrefix: `${prefix}g` });
  assert.ok(stage.canPark(), 'this host has a cgroup freezer');
  let lab = '', one = '';
  const snaps: ReturnType<typeof labSnapshot>[] = [];
  const states = (l: string, leaves: string[]) => leaves.map((x) => freezer(l, x));
  try {
    await stage.prepare({ experiment: 1, servers: [], guests: 1 });
    one = labOf(stage);
    snaps.push(labSnapshot(one));
    await stage.prepare({ experiment: 3, servers: [], guests: 2 });
    lab = labOf(stage);
    assert.is.not(lab, one);
    snaps.push(labSnapshot(lab));
    // Experiment 1's lab is parked: its host side (endpoint) and its guest frozen.
    assert.equal(states(one, ['host', 'g1']), ['FROZEN', 'FROZEN']);
    await stage.arrange({ experiment: 3, servers: 'none', guests: 1 });
    assert.equal(states(lab, ['host', 'g1', 'g2']), ['THAWED', 'THAWED', 'FROZEN']);
    await stage.arrange({ experiment: 3, servers: 'none', guests: 0 });
    assert.equal(states(lab, ['g1', 'g2']), ['FROZEN', 'FROZEN']);
    await stage.arrange({ experiment: 3, servers: 'none', guests: 2 });
    assert.equal(states(lab, ['g1', 'g2']), ['THAWED', 'THAWED']);
    assert.is(labOf(stage), lab);
    // Back to experiment 1: its lab thawed and answering, experiment 3's parked whole.
    await stage.arrange({ experiment: 1, servers: 'none', guests: 1 });
    assert.is(labOf(stage), one);
    assert.equal(states(one, ['host', 'g1']), ['THAWED', 'THAWED']);
    assert.equal(states(lab, ['host', 'g1', 'g2']), ['FROZEN', 'FROZEN', 'FROZEN']);
    for (const side of ['host', 'guest'] as const) {
      const t = stage.target(side);
      const r = await responseTime({ host: t.host, netns: t.netns, port: t.echoPort, protocol: 'tcp', size: 64, iterations: 20, timeoutMs: 10_000 });
      assert.is(r.received, 20, side);
    }
    await stage.arrange({ experiment: 3, servers: 'none', guests: 0 });
    assert.equal(states(lab, ['host', 'g1', 'g2']), ['THAWED', 'FROZEN', 'FROZEN']);
    assert.equal(states(one, ['host', 'g1']), ['FROZEN', 'FROZEN']);
  } finally {
    await stage.close(); // with guests of both labs frozen
  }
  assert.equal(stage.describe().warnings, []);
  assert.equal(leftovers(lab, snaps[1]), []);
  assert.equal(leftovers(one, snaps[0]), []);
});

/** Anything named after a lab prefix: namespaces, run and data directories, cgroups. */
function leftoversOfPrefix(p: string): string[] {
  const out: string[] = [];
  const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d) : []);
  for (const ns of ls('/run/netns')) if (ns.startsWith(p)) out.push(`netns ${ns}`);
  for (const d of ls('/run/umlperf')) if (d.startsWith(p)) out.push(`dir /run/umlperf/${d}`);
  for (const d of ls('/var/lib/umlperf/labs')) if (d.startsWith(p)) out.push(`dir /var/lib/umlperf/labs/${d}`);
  for (const root of ['/sys/fs/cgroup/pids/umlperf', '/sys/fs/cgroup/freezer/umlperf', '/sys/fs/cgroup/umlperf']) for (const d of ls(root)) if (d.startsWith(p)) out.push(`cgroup ${root}/${d}`);
  return out;
}

test('Ctrl-C while guests are frozen (umlperf paper --lab PREFIX, experiment 3): exit 130, the guests thawed and torn down, nothing left', async () => {
  const p = `${prefix}i`;
  const results = tempDir('/tmp/umlperf-rr-results-');
  const child = spawn(process.execPath, [cliPath, 'paper', '--experiment', '3', '--guests', '0,2', '--runs', '40', '--lab', p, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, UMLPERF_RESULTS_DIR: results } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const lab = `${p}0`;
  // Wait until a guest of its lab is frozen, then interrupt.
  let frozen = false;
  const end = Date.now() + 180_000;
  while (!frozen && Date.now() < end && child.exitCode === null) {
    frozen = ['g1', 'g2'].some((g) => {
      try {
        return freezer(lab, g) === 'FROZEN';
      } catch {
        return false;
      }
    });
    if (!frozen) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(frozen, `a guest of ${lab} was frozen: ${err.slice(-400)}`);
  child.kill('SIGINT');
  const code = await exited;
  fs.rmSync(results, { recursive: true, force: true });
  assert.is(code, 130, err.slice(-400));
  const j = JSON.parse(out);
  assert.is(j.complete, false);
  assert.is(j.error, 'interrupted');
  assert.equal(j.warnings, [], 'resumed before teardown without trouble');
  assert.equal(leftoversOfPrefix(p), []);
});

test('paper --lab: a bad prefix is a usage error before anything is built', () => {
  for (const bad of ['Rr', '1rr', 'rr-x', 'rrrrrrrrr']) {
    const r = spawnSyncCli(['paper', '--lab', bad]);
    assert.is(r.status, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /lab/);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test.run();
