// umlperf paper on real UML guests (experiments 1 and 3, minimal image): the JSON a user gets,
// and Ctrl-C part-way: what was measured is printed, and nothing is left behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { paperLabPrefix } from '../src/paper/lab-stage.js';
import { cliPath, runCli, jsonResult, tempDir } from './helpers.js';

// Every paper run saves its result before rendering: here, into a directory of this test.
const results = tempDir(path.join(tmpdir(), 'umlperf-paper-results-'));
process.env.UMLPERF_RESULTS_DIR = results;
test.after(() => {
  fs.rmSync(results, { recursive: true, force: true });
});

function leftoversOf(pid: number): string[] {
  const p = paperLabPrefix(pid);
  const left: string[] = [];
  for (const ns of fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : []) if (ns.startsWith(p)) left.push(`netns ${ns}`);
  for (const d of fs.existsSync('/run/umlperf') ? fs.readdirSync('/run/umlperf') : []) if (d.startsWith(p)) left.push(`dir ${d}`);
  return left;
}

test('experiments 1 and 3 on UML guests: tables 1, 2 and 5 in the documented JSON', () => {
  const r = runCli(['paper', '--experiment', '1,3', '--runs', '3', '--guests', '0,2', '--format', 'json'], 300_000);
  assert.is(r.status, 0, r.stderr);
  const j = jsonResult(r.stdout, 'paper');
  assert.ok(j.complete);
  assert.equal(j.tables.map((t: { id: string }) => t.id), ['table1', 'table2', 'table5']);
  const t1 = j.tables[0];
  const host = t1.rows.find((x: { side: string }) => x.side === 'host');
  const guest = t1.rows.find((x: { side: string }) => x.side === 'guest');
  assert.ok(host && guest);
  // Resolution far below Qcheck's 1 ms: sub-millisecond medians, distinct per side.
  assert.ok(host.latency.p50Ns > 0 && host.latency.p50Ns < 1_000_000, `host p50 ${host.latency.p50Ns}`);
  assert.ok(guest.latency.p50Ns > 0, `guest p50 ${guest.latency.p50Ns}`);
  assert.ok(guest.throughputMbps.mean > 0 && host.throughputMbps.mean > 0);
  assert.match(j.config.transport, /vector/);
  assert.equal([...new Set(j.tables[2].rows.map((x: { guests: number }) => x.guests))], [0, 2]);
  assert.is(j.openQuestions.rateSearches.length, 2);
  // The whole result was saved before it was rendered, and the stderr line says where.
  const saved = /result saved in (\S+)/.exec(r.stderr)?.[1];
  assert.ok(saved && saved.startsWith(results), r.stderr);
  const kept = jsonResult(fs.readFileSync(saved!, 'utf8'), 'paper');
  assert.equal(kept.tables, j.tables);
  assert.ok(kept.measurements.every((m: { latencySamplesNs?: number[] }) => Array.isArray(m.latencySamplesNs)), 'samples kept for re-rendering');
});

test('Ctrl-C part-way: exit 130, the runs measured so far are printed, nothing is left', async () => {
  const child = spawn(process.execPath, [cliPath, 'paper', '--experiment', '1,3', '--runs', '40', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  // Let experiment 1 get going, then interrupt.
  const end = Date.now() + 60_000;
  while (Date.now() < end && leftoversOf(child.pid!).length === 0) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 6000));
  child.kill('SIGINT');
  const code = await exited;
  assert.is(code, 130, err);
  const j = jsonResult(out, 'paper');
  assert.is(j.complete, false);
  assert.is(j.error, 'interrupted');
  assert.match(err, /interrupted/);
  assert.equal(leftoversOf(child.pid!), []);
});

test('bad options: exit 2 before anything is built', () => {
  for (const args of [['--experiment', '5'], ['--runs', '0'], ['--guests', 'x'], ['--servers', 'ftp'], ['--format', 'pdf']]) {
    const r = runCli(['paper', ...args]);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
});

test.run();
