// umlperf report: a saved result renders again, in every format, as the run itself rendered it;
// saved results with NaN (null in JSON) render too. Bad files and formats are usage errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Probes } from '../src/paper/experiments.js';
import type { PaperResult, Side } from '../src/paper/model.js';
import { runPaper } from '../src/paper/run.js';
import type { Stage } from '../src/paper/stage.js';
import type { ResponseTimeResult, ThroughputResult } from '../src/probes.js';
import { renderPaper } from '../src/report/render.js';
import { runCli, tempDir } from './helpers.js';

let side: Side = 'host';
let k = 0;
const stage: Stage = {
  async arrange() {},
  target(s) {
    side = s;
    return { netns: 'x', host: s, echoPort: 1, discardPort: 2 };
  },
  describe: () => ({ transport: 'vector', kernel: 'k', image: 'i', labCpus: null }),
  async close() {},
};
const wobble = () => 1 + 0.02 * Math.sin(++k);
const probes: Probes = {
  async responseTime() {
    const p50 = (side === 'host' ? 20_000 : 60_000) * wobble();
    return { latency: { p50Ns: p50 }, samplesNs: [p50 * 0.9, p50, p50 * 1.5], sent: 3, lost: 0 } as unknown as ResponseTimeResult;
  },
  async throughput(o) {
    if (o.findMaxRate) return { search: { maxRateMbps: 100, trials: [] } } as unknown as ThroughputResult;
    const mbps = (side === 'host' ? 9000 : 3000) * wobble();
    return { Mbps: mbps, sentMbps: mbps * 1.2, lossPercent: o.protocol === 'udp' ? 10 : null } as unknown as ThroughputResult;
  },
};

const dir = tempDir(path.join(os.tmpdir(), 'umlperf-report-'));
const file = path.join(dir, 'r.json');
let result: PaperResult;

test.before(async () => {
  result = await runPaper(stage, { runs: 4, guestsSweep: [0, 2], probes, reference: false, seed: 9 });
  fs.writeFileSync(file, renderPaper(result, 'json', true));
});
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('every format renders from the saved file as from the run', () => {
  assert.ok(result.complete, result.error);
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as PaperResult;
  for (const format of ['table', 'md', 'csv', 'html'] as const) {
    const r = runCli(['report', file, '--format', format]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, renderPaper(saved, format), format);
    assert.ok(r.stdout.length > 200, format);
  }
  assert.match(runCli(['report', file]).stdout, /Table 1\. Experiment 1, TCP/);
  const out = path.join(dir, 'page.html');
  const r = runCli(['report', file, '--format', 'html', '--out', out]);
  assert.is(r.status, 0, r.stderr);
  assert.match(fs.readFileSync(out, 'utf8'), /^<!DOCTYPE html>/i);
});

test('usage errors: a missing or foreign file, an unknown format, a bad --out', () => {
  const foreign = path.join(dir, 'other.json');
  fs.writeFileSync(foreign, '[1,2]');
  for (const [args, msg] of [
    [[path.join(dir, 'nope.json')], /no such file/],
    [[foreign], /not a saved umlperf paper result/],
    [[file, '--format', 'pdf'], /Invalid values|format/],
    [[file, '--out', dir], /is a directory/],
    [[], /Not enough|file/],
  ] as const) {
    const r = runCli(['report', ...args]);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test.run();
