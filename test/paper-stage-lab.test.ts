// The lab stage of the paired experiments on real UML guests: one lab per experiment, whose
// conditions are switched by stopping servers (host side and guest) and freezing guests; and
// whatever is stopped or frozen when the run ends, the stage resumes it and leaves nothing.
import fs from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { cgroupDirs, cgroupPids } from '../src/lab/cgroup.js';
import { labGuestExec } from '../src/lab/lab.js';
import { LabStage } from '../src/paper/lab-stage.js';
import { readProcTable, serverRoots } from '../src/paper/pause.js';
import { SERVER_PID_DIR, type ServerName } from '../src/servers/start.js';
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
    await stage.prepare({ experiment: 2, servers: ['httpd', 'named'], guests: 1 });
    lab = labOf(stage);
    assert.ok(lab.startsWith(prefix), lab);
    snap = labSnapshot(lab);
    const names: ServerName[] = ['www', 'dns'];
    assert.equal(hostStates(lab, names), { www: 'run', dns: 'run' }, 'provisioned and running before any condition');
    await stage.arrange({ experiment: 2, servers: 'named', guests: 1 });
    assert.equal(hostStates(lab, names), { www: 'T', dns: 'run' });
    assert.equal(await guestStates(lab, names), { www: 'T', dns: 'run' });
    await stage.arrange({ experiment: 2, servers: 'none', guests: 1 });
    assert.equal(hostStates(lab, names), { www: 'T', dns: 'T' });
    assert.equal(await guestStates(lab, names), { www: 'T', dns: 'T' });
    await stage.arrange({ experiment: 2, servers: 'httpd', guests: 1 });
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

test('experiment 3: the most guests booted once; guests beyond the condition frozen, thawed again; close leaves nothing', async () => {
  const stage = await LabStage.create({ servers: false, labPrefix: `${prefix}g` });
  let lab = '';
  let snap;
  try {
    await stage.prepare({ experiment: 3, servers: [], guests: 2 });
    lab = labOf(stage);
    snap = labSnapshot(lab);
    await stage.arrange({ experiment: 3, servers: 'none', guests: 1 });
    assert.equal([freezer(lab, 'g1'), freezer(lab, 'g2')], ['THAWED', 'FROZEN']);
    await stage.arrange({ experiment: 3, servers: 'none', guests: 0 });
    assert.equal([freezer(lab, 'g1'), freezer(lab, 'g2')], ['FROZEN', 'FROZEN']);
    await stage.arrange({ experiment: 3, servers: 'none', guests: 2 });
    assert.equal([freezer(lab, 'g1'), freezer(lab, 'g2')], ['THAWED', 'THAWED']);
    await stage.arrange({ experiment: 3, servers: 'none', guests: 0 });
    assert.is(labOf(stage), lab);
  } finally {
    await stage.close(); // with both guests frozen
  }
  assert.equal(stage.describe().warnings, []);
  assert.equal(leftovers(lab, snap), []);
});

test.run();
