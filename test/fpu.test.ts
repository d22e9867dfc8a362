// The FPU-state adapter (native/preload/fpu_adapter.c): a test of the library alone that does
// not depend on the host CPU, and a test of guest vector state under real UML guests.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { bootFailureCause } from '../src/lab/boot-failure.js';
import { nativeArtifact } from '../src/artifacts.js';
import { fpuAdapterPath, parseFpuState } from '../src/lab/fpu.js';
import { DEFAULT_KERNEL, elfIsDynamic } from '../src/lab/kernel.js';
import { runOneShotGuest } from '../src/lab/oneshot.js';

interface RegsetRun {
  size: number;
  hostBytes: number;
  get: number;
  set: number;
  reget: number;
  checkedYmm: boolean;
  match: boolean;
}

function regsetCheck(size: number, env: NodeJS.ProcessEnv = {}): RegsetRun {
  const r = spawnSync(nativeArtifact('umlperf-regset-check'), [String(size)], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { PATH: process.env.PATH, ...env },
  });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as RegsetRun;
}

const EFAULT = 14;

// 576 bytes (legacy area + XSAVE header) is smaller than the XSAVE area of every AVX host, so
// this is the AMX case in miniature on any machine.
test('a SETREGSET smaller than the host area fails with EFAULT without the adapter', () => {
  const r = regsetCheck(576);
  assert.ok(r.hostBytes > 576, `host area ${r.hostBytes}`);
  assert.is(r.get, 0);
  assert.is(r.set, EFAULT);
  assert.is(r.match, false);
});

test('with the adapter the same calls succeed and the registers set are read back', () => {
  for (const size of [576, 832]) {
    const r = regsetCheck(size, { LD_PRELOAD: fpuAdapterPath() });
    assert.is(r.set, 0, `size ${size}`);
    assert.is(r.reget, 0, `size ${size}`);
    assert.is(r.match, true, `size ${size}: XMM${r.checkedYmm ? ' and YMM' : ''} registers read back`);
  }
  assert.ok(regsetCheck(832, { LD_PRELOAD: fpuAdapterPath() }).checkedYmm);
});

test('forced through the copying path, a buffer of the full size still round-trips', () => {
  const host = regsetCheck(576).hostBytes;
  const r = regsetCheck(host, { LD_PRELOAD: fpuAdapterPath(), UMLPERF_FPU_ADAPT: 'always' });
  assert.is(r.set, 0);
  assert.is(r.match, true);
});

test('the console-log line says how a guest ran', () => {
  assert.equal(parseFpuState('x\numlperf-fpu: adapted uml=2696 host=11008\ny'), { mode: 'adapted', umlXstateBytes: 2696, hostXstateBytes: 11008 });
  assert.equal(parseFpuState('umlperf-fpu: native uml=2696 host=2432\n'), { mode: 'native', umlXstateBytes: 2696, hostXstateBytes: 2432 });
  assert.equal(parseFpuState('Linux version 6.1\n'), { mode: 'unknown' });
});

test('a statically linked kernel is told from a dynamic one (the adapter loads only into the latter)', () => {
  assert.is(elfIsDynamic(DEFAULT_KERNEL), true);
  assert.is(elfIsDynamic(nativeArtifact('umlperf-fpcheck')), false);
  assert.is(elfIsDynamic('/etc/hostname'), false);
});

test('known boot failures are named with what to do', () => {
  const amx = '[    0.420000] Run /sbin/umlperf-init as init process\nuserspace - ptrace set fp regs failed, errno = 14\nKernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\n';
  assert.is(bootFailureCause(amx)?.code, 'ERR_UMLPERF_FPU_STATE');
  assert.match(bootFailureCause(amx)!.message, /umlperf-fpu\.so/);
  assert.is(bootFailureCause('VFS: Unable to mount root fs on unknown-block(98,0)\n')?.code, 'ERR_UMLPERF_ROOT_MOUNT');
  assert.is(bootFailureCause('Kernel panic - not syncing: Out of memory and no killable processes...\n')?.code, 'ENOMEM');
  assert.is(bootFailureCause('[    0.3] Run /sbin/umlperf-init as init process\nguest halted\n'), undefined);
});

test('vector registers survive preemption and system calls in two guests at once', async () => {
  const seconds = 5;
  const run = (env: NodeJS.ProcessEnv) => runOneShotGuest({
    program: nativeArtifact('umlperf-fpcheck'),
    args: ['--seconds', String(seconds), '--procs', '2', '--threads', '4'],
    env: { LD_PRELOAD: fpuAdapterPath(), ...env },
    timeoutMs: (seconds + 60) * 1000,
  });
  // The second guest sends every save and restore through the adapter's copying path, the path
  // AMX hosts take, so that path is checked on every machine.
  const [plain, copying] = await Promise.all([run({}), run({ UMLPERF_FPU_ADAPT: 'always' })]);
  for (const [name, r] of [['plain', plain], ['copying', copying]] as const) {
    const line = /^fpcheck: .*$/m.exec(r.log)?.[0];
    assert.ok(line, `${name}: no fpcheck line; log ends: ${r.log.slice(-400)}`);
    assert.match(line!, /^fpcheck: ok loops=[1-9]\d* mismatches=0 procs=2 threads=4 modes=sse/, `${name}: ${line}`);
    assert.not.equal(parseFpuState(r.log).mode, 'unknown', `${name}: the adapter announced itself`);
    assert.is(r.timedOut, false);
  }
});

test.run();
