// Crash safety and the fault matrix, on `lab up --image debian --servers …` through the CLI:
// - fault injection: `lab up` SIGKILLed (or failing) right after each kind of object is made;
//   the state file already lists what it made, and `cleanup` removes everything;
// - SIGINT, SIGTERM and SIGKILL of the CLI at several points (namespaces made, host servers
//   starting, guest booting, health checks running), each followed by a leftover check
//   (processes, namespaces, links, cgroups, mounts, files);
// - a lab whose state file is lost is still found and removed whole (host servers included).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

import { debianImage } from '../src/images/debian.js';
import { cgroupPids } from '../src/lab/cgroup.js';
import { FAULT_POINTS, type FaultPoint } from '../src/lab/fault.js';
import { readState, stateFile, type LabState } from '../src/lab/state.js';
import { knownLabs } from '../src/lab/teardown.js';
import { labProbeTarget, targetDownError } from '../src/lab/lab.js';
import { responseTime } from '../src/probes.js';
import { cliPath, runCli, jsonResult } from './helpers.js';
import { labSnapshot, leftovers, until } from './lab-helpers.js';

// One name per run in this file: hl + pid + a counter (≤ 10 characters).
let seq = 0;
const nextLab = () => `hl${(process.pid % 100000).toString(36)}${(seq++).toString(36)}`.slice(0, 10);
const used: string[] = [];
const SERVERS = 'dns,www,mail';

function up(lab: string, env: Record<string, string> = {}): ChildProcess {
  used.push(lab);
  return spawn(process.execPath, [cliPath, 'lab', 'up', '--lab', lab, '--image', 'debian', '--servers', SERVERS, '--guests', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode, stderr });
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function stateNow(lab: string): LabState | undefined {
  try {
    return readState(lab);
  } catch {
    return undefined;
  }
}

test.before(async () => {
  await debianImage();  // cached after the first build
});

test.after(() => {
  for (const lab of used) runCli(['cleanup', '--lab', lab]);
});

/** What each fault point must find in the state file when the CLI died there. */
const recordedAt: Partial<Record<FaultPoint, (s: LabState, lab: string) => string | undefined>> = {
  'netns-add': (s, lab) => (s.netns.includes(`${lab}-client`) ? undefined : `namespace ${lab}-client made before it was recorded`),
  'tap-created': (s, lab) => (s.links.some((l) => l.kind === 'tap' && l.name === `${lab}g1`) ? undefined : 'TAP made before it was recorded'),
  state: (s) => (s.cgroups !== undefined && s.dataDir && s.ids ? undefined : 'the first state lacks the cgroup, data directory or ids'),
};

for (const point of FAULT_POINTS) {
  test(`SIGKILL right after ${point}: the state file knows what was made; cleanup removes all`, async () => {
    const lab = nextLab();
    const r = await exited(up(lab, { UMLPERF_FAULT: `${point}:kill` }));
    assert.is(r.signal, 'SIGKILL', `lab up did not reach ${point}: ${r.stderr}`);
    const s = stateNow(lab);
    assert.ok(s, 'a state file');
    const why = recordedAt[point]?.(s!, lab);
    assert.is(why, undefined, why);
    if (point === 'netns-add') assert.ok(fs.existsSync(`/run/netns/${lab}-client`), 'the namespace exists');
    const snap = labSnapshot(lab);
    const c = runCli(['cleanup', '--lab', lab]);
    assert.is(c.status, 0, c.stderr);
    assert.equal(leftovers(lab, snap), []);
  });
}

for (const point of ['servers-spawned', 'guest-spawned', 'health-spawned'] as const) {
  test(`lab up failing right after ${point} removes everything itself (exit 1, one line)`, async () => {
    const lab = nextLab();
    const r = await exited(up(lab, { UMLPERF_FAULT: `${point}:fail` }));
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^umlperf: injected fault at ${point}\\n$`));
    assert.equal(leftovers(lab), []);
  });
}

/** Points of `lab up` seen from outside, in the state file. */
const WHEN: Record<string, (s: LabState) => boolean> = {
  namespaces: (s) => s.netns.length === 2,
  'host servers': (s) => s.processes.some((p) => p.role === 'server'),
  'guest booting': (s) => s.processes.some((p) => p.role === 'guest'),
  'health checks': (s) => s.processes.some((p) => p.role === 'health'),
};

for (const sig of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
  for (const [when, reached] of Object.entries(WHEN)) {
    test(`fault matrix: ${sig} of lab up --servers at "${when}": nothing left${sig === 'SIGKILL' ? ' after cleanup' : ''}`, async () => {
      const lab = nextLab();
      const child = up(lab);
      const done = exited(child);
      const ok = await until(() => {
        const s = stateNow(lab);
        return !!s && reached(s);
      }, 90_000);
      assert.ok(ok, `lab up never reached "${when}"`);
      const snap = labSnapshot(lab);
      child.kill(sig);
      const r = await done;
      if (sig === 'SIGKILL') {
        const c = runCli(['cleanup', '--lab', lab]);
        assert.is(c.status, 0, c.stderr);
      } else {
        // The CLI ends an interrupted command as a shell reports the signal: 130, or 143 for SIGTERM.
        assert.is(r.code, sig === 'SIGINT' ? 130 : 143, `exit ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /^umlperf: the operation was aborted\n$/);
      }
      assert.equal(leftovers(lab, labSnapshotMerge(snap, lab)), []);
    });
  }
}

/** The snapshot taken at the signal, plus what was recorded until the CLI died. */
function labSnapshotMerge(a: ReturnType<typeof labSnapshot>, lab: string): ReturnType<typeof labSnapshot> {
  const b = labSnapshot(lab);
  return { processes: [...a.processes, ...b.processes], idsBase: a.idsBase ?? b.idsBase, netnsInodes: [...new Set([...(a.netnsInodes ?? []), ...(b.netnsInodes ?? [])])] };
}

test('guest SIGKILLed mid-probe, then the state file lost: cleanup finds the lab by its names and cgroups and removes it whole', async () => {
  const lab = nextLab();
  const r = await exited(up(lab));
  assert.is(r.code, 0, r.stderr);
  const snap = labSnapshot(lab);
  const g1 = readState(lab)!.guests[0];
  const probe = responseTime({ ...labProbeTarget(lab, 'g1').target, protocol: 'tcp', iterations: 1_000_000, warmup: 0, timeoutMs: 300 });
  await new Promise((res) => setTimeout(res, 300));
  process.kill(g1.pid!, 'SIGKILL');
  // Bounded here whatever the probe does (TCP: a probe's own wait on a dead UDP peer is another matter).
  const failed = await Promise.race([probe.then(() => 'succeeded', () => 'failed'), new Promise((res) => setTimeout(() => res('hung'), 30_000).unref())]);
  assert.is(failed, 'failed', 'the probe of a killed guest fails');
  assert.ok(await until(() => targetDownError(lab, 'g1') !== undefined, 5000), 'the lab sees the guest gone');
  assert.ok(snap.processes.some((p) => p.id === 'host-mail'), 'Postfix master runs on the host side');
  assert.ok(cgroupPids(lab).length > 5, 'the lab\'s processes are in its cgroup tree');
  fs.rmSync(stateFile(lab));
  // `cleanup --all` would find it (not run here: other labs on this machine are not ours).
  assert.ok(knownLabs().includes(lab));
  const c = runCli(['cleanup', '--lab', lab, '--json']);
  assert.is(c.status, 0, c.stderr);
  const [rep] = jsonResult(c.stdout, 'cleanup').labs as Array<{ lab: string; found: boolean; processes: number; netns: number }>;
  assert.ok(rep.found && rep.netns === 2 && rep.processes > 0, c.stdout);
  assert.equal(leftovers(lab, snap), []);
});

test.run();
