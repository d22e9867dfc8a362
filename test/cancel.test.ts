// Cancel always ends: every probe, protocol, phase and wait mode, aborted while its peer is
// silent, rejects with an AbortError whose cause is the abort reason, and the process exits.
// The cases run in a child process so that a probe that ignores cancel cannot hang the suite.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cancelCases, type CancelOutcome } from './fixtures/cancel-cases.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'cancel-child.js');
// Generous: the machine is shared; the figure for the note comes from bench/cancel.ts.
const SETTLE_LIMIT_MS = 3000;

test('every probe, protocol, phase and wait mode: abort settles with AbortError, and the process exits', async () => {
  const p = spawn(process.execPath, [child, 'abort', String(SETTLE_LIMIT_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const budgetMs = cancelCases.length * (SETTLE_LIMIT_MS + 1000) + 10_000;
  const killer = setTimeout(() => p.kill('SIGKILL'), budgetMs);
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => p.once('exit', (c, s) => r([c, s])));
  clearTimeout(killer);
  const lines = out.split('\n').filter((l) => l.startsWith('{'));
  const outcomes = lines.map((l) => JSON.parse(l) as CancelOutcome);
  const bad = outcomes.filter((o) => !o.settled || o.errorName !== 'AbortError' || o.code !== 'ABORT_ERR' || !o.causeIsReason);
  assert.equal(bad, [], `cases that did not end with an AbortError: ${JSON.stringify(bad)}`);
  assert.is(outcomes.length, cancelCases.length, `only ${outcomes.length} cases reported; stderr: ${err.slice(0, 500)}`);
  assert.ok(out.includes('done\n'), 'the child finished its cases');
  assert.is(signal, null, 'the child was not killed: its process exit did not hang');
  assert.is(code, 0);
});

test('process.exit() while every kind of probe runs: the process exits at once', async () => {
  const p = spawn(process.execPath, [child, 'exit'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => p.kill('SIGKILL'), 20_000);
  const exited = new Promise<[number | null, string | null]>((r) => p.once('exit', (c, s) => r([c, s])));
  // Time from the child's exit call to its end.
  await new Promise<void>((r) => p.stdout.on('data', () => out.includes('exiting') && r()));
  const t0 = Date.now();
  const [code, signal] = await exited;
  clearTimeout(killer);
  assert.is(signal, null, `the child did not exit within the bound (${Date.now() - t0} ms)`);
  assert.is(code, 0);
  assert.ok(Date.now() - t0 < 5000, `exit took ${Date.now() - t0} ms`);
});

test.run();
