// Runs uvu and fails when a suite ran fewer tests than it has. uvu 0.5 swallows an error thrown
// by a before/after hook: the suite prints "(0 / N)", no failure, and exits 0 — a test file
// whose setup breaks would otherwise pass. Usage: node dist/test/strict-run.js DIR PATTERN
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

// uvu exports no bin path: its bin.js sits beside dist/.
const uvu = path.join(path.dirname(createRequire(import.meta.url).resolve('uvu')), '..', 'bin.js');
const child = spawn(process.execPath, [uvu, ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
// uvu has no timeout: a test that waits forever would hold CI until its own limit. Past the
// deadline (UMLPERF_TEST_DEADLINE_MIN, default 45 minutes; a full run takes about 11 here),
// the suite's whole process group is ended and the run fails, saying so.
const deadlineMin = Number(process.env.UMLPERF_TEST_DEADLINE_MIN ?? 45);
const deadline = setTimeout(() => {
  process.stderr.write(`\nstrict-run: the tests did not finish within ${deadlineMin} min (a test waiting forever?); ending them\n`);
  try {
    process.kill(-child.pid!, 'SIGTERM');
    setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000).unref();
  } catch {
    // already gone
  }
}, deadlineMin * 60_000);
// In a group of its own, so a Ctrl-C at the terminal reaches it through us.
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  });
let out = '';
child.stdout.on('data', (d: Buffer) => {
  out += d;
  process.stdout.write(d);
});
child.once('close', (code, signal) => {
  clearTimeout(deadline);
  // eslint-disable-next-line no-control-regex
  const text = out.replace(/\x1b\[[0-9;]*m/g, '');
  const short = [...text.matchAll(/\((\d+) \/ (\d+)\)/g)].filter((m) => Number(m[1]) < Number(m[2]));
  const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
  if (code === 0 && (short.length > 0 || !(passed + skipped === total))) {
    process.stderr.write(`strict-run: ${total - passed - skipped} test(s) did not run or failed without a report (a before/after hook threw?): ${short.map((m) => m[0]).join(' ')}\n`);
    process.exit(1);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
