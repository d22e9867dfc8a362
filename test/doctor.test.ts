// umlperf doctor boots a guest: on success it says how long it took and how the guest's vector
// state was saved; when a guest dies at boot it names the known cause and the console log.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { runCli, jsonResult, tempDir } from './helpers.js';

function doctorJson(args: string[]): { status: number | null; report: any; stderr: string } {
  const r = runCli(['doctor', '--json', ...args], 120_000);
  return { status: r.status, report: r.stdout ? jsonResult(r.stdout, 'doctor') : undefined, stderr: r.stderr };
}

test('doctor boots a guest and reports boot time, kernel and vector-state mode', () => {
  const { status, report, stderr } = doctorJson([]);
  assert.is(status, 0, stderr);
  assert.is(report.boot.ok, true);
  assert.ok(report.boot.bootMs > 0 && report.boot.bootMs < 60_000, `bootMs ${report.boot.bootMs}`);
  assert.match(report.boot.kernelVersion, /^\d+\.\d+/);
  assert.ok(['native', 'adapted'].includes(report.boot.fpuState.mode), JSON.stringify(report.boot.fpuState));
  assert.ok(report.boot.fpuState.hostXstateBytes > 512);
  const line = report.checks.find((c: { name: string }) => c.name === 'guest boots');
  assert.match(line.detail, /ready in \d+ ms; UML \S+; vector state: (native|adapted) \(host XSAVE area \d+ B/);
});

test('a guest that dies as on an AMX host without the adapter: doctor names the cause and the log', () => {
  const dir = tempDir(path.join(os.tmpdir(), 'umlperf-doctor-'));
  try {
    // A stand-in kernel: answers --help like UML, and dies at boot the way Debian's 6.1 does when
    // the host's XSAVE area outgrows its buffer.
    const fake = path.join(dir, 'linux');
    // Its interpreter by its real path: guests run in a root of their own holding only the
    // kernel's and the shell's files.
    fs.writeFileSync(fake, [
      `#!${fs.realpathSync('/bin/sh')}`,
      'case "$1" in --help) printf "User Mode Linux v6.1.0\\nvec[0-9]+:transport=tap\\nubd<n><flags>=\\nhostfs=<root dir>\\nmconsole=notify:<socket>\\n"; exit 0;; --showconfig) exit 0;; esac',
      'echo "[    0.400000] Run /sbin/umlperf-init as init process"',
      'echo "userspace - ptrace set fp regs failed, errno = 14"',
      'echo "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b"',
      'exit 1',
    ].join('\n'), { mode: 0o755 });
    const { status, report } = doctorJson(['--kernel', fake]);
    assert.is(status, 1);
    assert.is(report.boot.ok, false);
    assert.is(report.boot.code, 'ERR_UMLPERF_FPU_STATE');
    assert.match(report.boot.error, /XSAVE area \(AMX\).*console log: \//);
    // The failed guest's log was kept for the user; this test's own copy goes.
    const kept = /console log: (\S+\.log)/.exec(report.boot.error)?.[1];
    if (kept && kept.startsWith('/var/lib/umlperf/logs/')) fs.rmSync(kept, { force: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
