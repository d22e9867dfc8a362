// Where `umlperf paper` keeps each result before rendering: a private directory, files made
// exclusively (never through a planted symlink), the newest 20 kept.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resultsDir, saveResult } from '../bin/results.js';
import type { PaperResult } from '../src/paper/model.js';
import { tempDir } from './helpers.js';

const base = tempDir(path.join(tmpdir(), 'umlperf-results-'));
const dir = path.join(base, 'results');
const result = (startedAt: string) => ({ startedAt, measurements: [{ responseSamplesNs: [1, 2, 3] }] }) as unknown as PaperResult;
const quiet = <T>(f: () => T): { value: T; stderr: string } => {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  try {
    return { value: f(), stderr };
  } finally {
    process.stderr.write = write;
  }
};

test.after(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

test('the whole result, samples too, in a 0700 directory, as a 0600 file named by its start', () => {
  // The environment names the directory (set here only for this call: tests share a process).
  const before = process.env.UMLPERF_RESULTS_DIR;
  process.env.UMLPERF_RESULTS_DIR = dir;
  try {
    assert.is(resultsDir(), dir);
  } finally {
    if (before === undefined) delete process.env.UMLPERF_RESULTS_DIR;
    else process.env.UMLPERF_RESULTS_DIR = before;
  }
  const file = saveResult(result('2026-01-02T03:04:05.678Z'), dir)!;
  assert.is(file, path.join(dir, `paper-2026-01-02T03-04-05-678Z-${process.pid}.json`));
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).measurements[0].responseSamplesNs, [1, 2, 3]);
  assert.is(fs.statSync(dir).mode & 0o777, 0o700);
  assert.is(fs.statSync(file).mode & 0o777, 0o600);
});

test('never through a symlink planted at its name; never into a directory others can enter', () => {
  const target = path.join(base, 'victim');
  fs.writeFileSync(target, 'keep');
  fs.symlinkSync(target, path.join(dir, `paper-2026-01-03T00-00-00-000Z-${process.pid}.json`));
  const r = quiet(() => saveResult(result('2026-01-03T00:00:00.000Z'), dir));
  assert.is(r.value, undefined);
  assert.match(r.stderr, /could not save the result/);
  assert.is(fs.readFileSync(target, 'utf8'), 'keep');
  fs.chmodSync(dir, 0o755);
  const open = quiet(() => saveResult(result('2026-01-04T00:00:00.000Z'), dir));
  assert.is(open.value, undefined);
  assert.match(open.stderr, /not a private directory/);
  fs.chmodSync(dir, 0o700);
});

test('the newest 20 are kept', () => {
  for (let m = 10; m < 40; m++) saveResult(result(`2026-02-01T00:${m}:00.000Z`), dir);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !fs.lstatSync(path.join(dir, f)).isSymbolicLink());
  assert.is(files.length, 20);
  assert.ok(files.includes(`paper-2026-02-01T00-39-00-000Z-${process.pid}.json`), 'the newest stays');
  assert.not.ok(files.includes(`paper-2026-02-01T00-19-00-000Z-${process.pid}.json`), 'the 21st newest went');
  assert.ok(files.includes(`paper-2026-02-01T00-20-00-000Z-${process.pid}.json`), files.sort().join(' '));
  assert.not.ok(files.some((f) => f.startsWith('paper-2026-01-02')), 'the oldest went');
});

test.run();
