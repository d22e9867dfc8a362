// A lab of 4 minimal guests on the vector transport, made through the library: every guest
// boots and answers probes; the host side answers too; a guest killed with SIGKILL in the
// middle of a probe gives a clear error; `lab down` leaves nothing behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

import { responseTime, throughput } from '../src/probes.js';
import { labDown, labStatus, labUp, labProbeTarget, targetDownError, type LabInfo } from '../src/lab/lab.js';
import { readState } from '../src/lab/state.js';
import { teardownLab } from '../src/lab/teardown.js';
import { labSnapshot, leftovers, uniqueLab, until } from './lab-helpers.js';

const LAB = uniqueLab('v');
let lab: LabInfo | undefined;

test.after(async () => {
  await teardownLab(LAB, { graceful: false });
});

test('lab up with 4 vector guests: each reports an address, pid and boot time', async () => {
  lab = await labUp({ name: LAB, guests: 4, transport: 'vector' });
  assert.is(lab.guests.length, 4);
  lab.guests.forEach((g, i) => {
    assert.is(g.id, `g${i + 1}`);
    assert.is(g.address, `198.18.0.${11 + i}`);
    assert.is(g.transport, 'vector');
    assert.ok(g.pid > 1);
    assert.ok(g.bootMs > 100 && g.bootMs < 60_000, `boot ${g.bootMs} ms`);
  });
  const st = labStatus(LAB);
  assert.is(st.status, 'up');
  assert.ok(st.guests.every((g) => g.alive));
});

test('a second lab up with the same name is refused and leaves the first alone', async () => {
  try {
    await labUp({ name: LAB, guests: 1 });
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ERR_UMLPERF_LAB_EXISTS');
  }
  assert.ok(labStatus(LAB).guests.every((g) => g.alive));
});

test('a guest and the host answer TCP and UDP response-time probes and a TCP throughput probe', async () => {
  for (const target of ['g1', 'host']) {
    const t = labProbeTarget(LAB, target).target;
    for (const protocol of ['tcp', 'udp'] as const) {
      const r = await responseTime({ ...t, protocol, iterations: 300, warmup: 20, timeoutMs: 2000 });
      assert.is(r.lost, 0, `${target} ${protocol} lost`);
      assert.ok(r.latency.p50Ns > 1000 && r.latency.p50Ns < 50e6, `${target} ${protocol} p50 ${r.latency.p50Ns} ns`);
    }
    const tp = await throughput({ ...t, protocol: 'tcp', durationS: 0.5 });
    assert.ok(tp.Mbps > 10, `${target} throughput ${tp.Mbps} Mbps`);
  }
});

/** Processes running as a uid (a guest's UML kernel and all its helpers share one). */
function pidsOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${e}/status`, 'utf8'));
      if (m && Number(m[1]) === uid && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${e}/status`, 'utf8'))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

test('guests run without address-space randomisation (ADDR_NO_RANDOMIZE: steady figures from boot to boot)', () => {
  const ADDR_NO_RANDOMIZE = 0x0040000;
  for (const g of labStatus(LAB).guests) {
    // The kernel's main process, and its helpers (same uid): the personality is inherited.
    const uid = readState(LAB)!.guests.find((x) => x.id === g.id)!.uid!;
    // All but the supervisor (a shell, the kernel's parent).
    const stat = fs.readFileSync(`/proc/${g.pid}/stat`, 'utf8');
    const supervisor = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const pids = pidsOfUid(uid).filter((p) => p !== supervisor);
    assert.ok(pids.includes(g.pid), `${g.id}: kernel ${g.pid} among ${pids.join(' ')}`);
    for (const p of pids) {
      const persona = parseInt(fs.readFileSync(`/proc/${p}/personality`, 'utf8'), 16);
      assert.ok(persona & ADDR_NO_RANDOMIZE, `${g.id} pid ${p}: personality ${persona.toString(16)}`);
    }
  }
});

test('a guest killed with SIGKILL mid-probe: the probe fails, the lab says the guest is gone, and none of its helpers linger', async () => {
  const st = labStatus(LAB);
  const g4 = st.guests[3];
  const uid = readState(LAB)!.guests[3].uid!;
  assert.ok(pidsOfUid(uid).length >= 3, 'the guest runs as its own uid: kernel, supervisor, helpers');
  assert.ok(!pidsOfUid(uid).includes(readState(LAB)!.guests[0].pid!), 'each guest has a uid of its own');
  const t = labProbeTarget(LAB, 'g4').target;
  const probe = responseTime({ ...t, protocol: 'tcp', iterations: 1_000_000, warmup: 0, timeoutMs: 500 });
  await new Promise((r) => setTimeout(r, 300));
  // The kernel's main process alone, as a crash or the OOM killer would end it.
  process.kill(g4.pid, 'SIGKILL');
  let failed: unknown;
  try {
    await probe;
  } catch (e) {
    failed = e;
  }
  assert.ok(failed, 'the probe must fail, not hang or succeed');
  assert.ok(await until(() => targetDownError(LAB, 'g4') !== undefined, 3000));
  const err = targetDownError(LAB, 'g4')!;
  assert.is(err.code, 'ERR_UMLPERF_GUEST_EXIT');
  assert.match(err.message, new RegExp(`guest g4 \\(pid ${g4.pid}\\) is not running; log: /var/lib/umlperf/labs/${LAB}/g4.log`));
  assert.is(targetDownError(LAB, 'g1'), undefined, 'the others still run');
  // UML's helpers (I/O threads, ptraced address spaces: one of them spins) go with the kernel.
  assert.ok(await until(() => pidsOfUid(uid).length === 0, 5000), `left: ${pidsOfUid(uid).join(' ')}`);
});

test('lab down leaves no namespace, process, TAP, cgroup, mount or file behind', async () => {
  const recorded = labSnapshot(LAB);
  assert.ok(recorded.processes.length >= 5, 'endpoint + 4 guests recorded');
  const taps = (readState(LAB)?.links ?? []).filter((l) => l.kind === 'tap');
  assert.equal(taps.map((t) => t.name), [1, 2, 3, 4].map((n) => `${LAB}g${n}`), 'one TAP per guest recorded');
  const tapUp = (t: { name: string; netns?: string }) =>
    spawnSync('ip', [...(t.netns ? ['-n', t.netns] : []), 'link', 'show', 'dev', t.name], { encoding: 'utf8' }).status === 0;
  assert.ok(taps.every(tapUp), 'the TAPs exist while the lab is up');
  const r = await labDown(LAB);
  assert.ok(r.removed);
  assert.equal(leftovers(LAB, recorded), []);
  assert.not.match(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout, LAB);
  // No TAP left: not in its namespace (gone), nor moved to or made in the root namespace.
  assert.equal(taps.filter(tapUp).map((t) => t.name), []);
  assert.equal(taps.filter((t) => fs.existsSync(`/sys/class/net/${t.name}`)).map((t) => t.name), []);
  assert.not.match(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout, new RegExp(`\\b${LAB}g\\d`));
  const again = await labDown(LAB);
  assert.is(again.removed, false, 'idempotent');
});

test.run();
