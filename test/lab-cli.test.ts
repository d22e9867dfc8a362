// The lab through the CLI, as a user meets it: `lab up` leaves the lab running after the CLI
// exits (one tuntap guest, probed), `lab down` removes it; SIGINT during `lab up` removes
// everything before exit; after a SIGKILL of the CLI, `cleanup` removes everything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

import { responseTime, throughput } from '../src/probes.js';
import { labProbeTarget } from '../src/lab/lab.js';
import { readState } from '../src/lab/state.js';
import { teardownLab } from '../src/lab/teardown.js';
import { cliPath, runCli, jsonResult } from './helpers.js';
import { leftovers, recordedProcesses, uniqueLab, until } from './lab-helpers.js';

const UP = uniqueLab('u');
const INT = uniqueLab('i');
const KILL = uniqueLab('k');
const FAIL = uniqueLab('f');

test.after(async () => {
  for (const l of [UP, INT, KILL, FAIL]) await teardownLab(l, { graceful: false });
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Starts `lab up` and waits until its state shows a guest spawned (booting). */
async function upUntilBooting(lab: string, guests: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cliPath, 'lab', 'up', '--lab', lab, '--guests', String(guests)], { stdio: 'ignore' });
  const booting = await until(() => (readState(lab)?.processes.filter((p) => p.role === 'guest').length ?? 0) >= 1, 20_000);
  assert.ok(booting, 'lab up got as far as spawning a guest');
  return child;
}

test('lab up --transport tuntap --json: the lab outlives the CLI, answers probes, and lab down removes it', async () => {
  const r = runCli(['lab', 'up', '--lab', UP, '--guests', '1', '--transport', 'tuntap', '--json'], 90_000);
  assert.is(r.status, 0, r.stderr);
  const j = jsonResult(r.stdout, 'lab');
  assert.equal(Object.keys(j).sort(), ['client', 'guests', 'guestsUpMs', 'host', 'kind', 'name', 'net', 'schemaVersion', 'startedAt', 'tool', 'version']);
  assert.is(j.net.config.transport, 'tuntap');
  assert.equal(j.client, { netns: `${UP}-client`, address: '198.18.0.2' });
  assert.equal(j.host, { netns: `${UP}-host`, address: '198.18.0.1' });
  assert.is(j.guests[0].transport, 'tuntap');
  assert.ok(j.guests[0].bootMs > 0);

  const t = labProbeTarget(UP, 'g1').target;
  for (const protocol of ['tcp', 'udp'] as const) {
    const rt = await responseTime({ ...t, protocol, iterations: 300, warmup: 20, timeoutMs: 2000 });
    assert.is(rt.lost, 0);
  }
  const tp = await throughput({ ...t, protocol: 'tcp', durationS: 0.5 });
  assert.ok(tp.Mbps > 10, `${tp.Mbps} Mbps`);

  // The same through the CLI: --lab/--target, from the client namespace; a missing guest is exit 2.
  const cp = runCli(['probe', 'response', '--lab', UP, '--target', 'g1', '--protocol', 'udp', '--iterations', '200', '--timeout', '2s', '--json']);
  assert.is(cp.status, 0, cp.stderr);
  const cj = jsonResult(cp.stdout, 'probe').runs[0];
  assert.is(cj.config.netns, `${UP}-client`);
  assert.is(cj.config.host, '198.18.0.11');
  assert.is(cj.received + cj.lost, 200);
  assert.is(runCli(['probe', 'response', '--lab', UP, '--target', 'g9']).status, 2);
  // Connection rate to the guest's endpoint: a transaction session at its control port, and its echo.
  for (const service of ['transaction', 'echo']) {
    const cr = runCli(['probe', 'crr', '--lab', UP, '--target', 'g1', '--service', service, '--transactions', '100', '--json', '--no-samples']);
    assert.is(cr.status, 0, cr.stderr);
    const r = jsonResult(cr.stdout, 'probe').runs[0];
    assert.is(r.config.service, service);
    assert.is(r.transactions, 100);
  }

  const st = runCli(['lab', 'status', '--lab', UP, '--json']);
  assert.is(st.status, 0, st.stderr);
  assert.ok(jsonResult(st.stdout, 'lab').guests[0].alive);

  const recorded = recordedProcesses(UP);
  const down = runCli(['lab', 'down', '--lab', UP, '--json']);
  assert.is(down.status, 0, down.stderr);
  assert.equal(jsonResult(down.stdout, 'lab-down').removed, true);
  assert.equal(leftovers(UP, recorded), []);
});

test('SIGINT to the CLI during lab up: everything is removed before it exits (130)', async () => {
  const child = await upUntilBooting(INT, 2);
  const recorded = recordedProcesses(INT);
  child.kill('SIGINT');
  const { code } = await exited(child);
  assert.is(code, 130);
  assert.equal(leftovers(INT, recorded), []);
});

test('SIGKILL of the CLI during lab up, then cleanup --lab: nothing left; cleanup is idempotent', async () => {
  const child = await upUntilBooting(KILL, 2);
  child.kill('SIGKILL');
  await exited(child);
  const recorded = recordedProcesses(KILL);
  assert.ok(fs.existsSync(`/run/netns/${KILL}-host`), 'the killed CLI left its lab behind');
  const r = runCli(['cleanup', '--lab', KILL]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`lab ${KILL}: ended`));
  // Guests spawned after the state was read are found through UML's own pid files.
  assert.equal(leftovers(KILL, recorded), []);
  const again = runCli(['cleanup', '--lab', KILL]);
  assert.is(again.status, 0);
  assert.match(again.stdout, /nothing to clean up/);
});

test('a guest that dies during boot: exit 1, one line with its status and console log; nothing left', () => {
  // Too little memory for the kernel: UML exits at once.
  const r = runCli(['lab', 'up', '--lab', FAIL, '--mem', '8M']);
  assert.is(r.status, 1, r.stderr);
  const m = /^umlperf: guest g1 exited during boot \(status \d+\); console log: (\S+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.ok(fs.existsSync(m![1]), 'the log is kept outside the removed lab directory');
  assert.match(m![1], /^\/var\/lib\/umlperf\/logs\//, 'in root\'s own directory, not a shared one');
  assert.is(fs.statSync(m![1]).mode & 0o777, 0o600);
  fs.rmSync(m![1]);
  assert.equal(leftovers(FAIL), []);
});

test.run();
