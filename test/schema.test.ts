// The result model: the published JSON Schema is the one the code defines, it rejects what it
// should, and the commands that need no lab print documents that conform to it. (Commands that
// need a lab are checked in their own files: lab-cli, lab-faults, paper-lab, isolate-lab,
// servers; probe kinds in cli, crr and throughput-breadth.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { packageRoot } from '../src/native.js';
import { schemaText } from '../src/result/emit.js';
import { resultProblems } from '../src/result/envelope.js';
import { RESULT_SCHEMAS, SCHEMA_VERSION } from '../src/result/schema.js';
import { responseTime, throughput, streaming, connectionRate } from '../src/probes.js';
import { startEndpoint } from '../src/endpoint.js';
import { assertResult, jsonResult, publishedSchemaCheck, runCli, tempDir } from './helpers.js';

const tag = `sc${process.pid % 100000}`;

test('the published schema file is the one src/result/schema.ts defines (npm run schema)', () => {
  const file = path.join(packageRoot, 'schema', 'umlperf-result.schema.json');
  assert.ok(fs.readFileSync(file, 'utf8') === schemaText(), 'schema/umlperf-result.schema.json is stale: run npm run schema');
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { files: string[]; exports: Record<string, unknown> };
  assert.ok(pkg.files.includes('schema'), 'shipped in the package');
  assert.is(pkg.exports['./schema.json'], './schema/umlperf-result.schema.json');
});

test('every library probe result conforms, and old or wrong documents are rejected', async () => {
  const ep = await startEndpoint({ bind: '127.0.0.1', port: 0 });
  try {
    const host = '127.0.0.1';
    const docs = [
      await responseTime({ host, port: ep.echoPort, iterations: 50, warmup: 5 }),
      await responseTime({ host, port: ep.echoPort, protocol: 'udp', iterations: 50, warmup: 5, keepSamples: false }),
      await throughput({ host, port: ep.discardPort, bytes: 1 << 20 }),
      await throughput({ host, port: ep.discardPort, protocol: 'udp', durationS: 0.1, intervalMs: 50 }),
      await streaming({ host, port: ep.echoPort, rateMbps: 5, durationS: 0.1 }),
      await connectionRate({ host, port: ep.udpSourcePort, transactions: 20 }),
      await connectionRate({ host, port: ep.echoPort, service: 'echo', transactions: 20 }),
    ];
    for (const d of docs) {
      const j = JSON.parse(JSON.stringify(d));
      assertResult(j, d.kind);
      assert.is(j.schemaVersion, SCHEMA_VERSION);
      assert.ok(j.latency === undefined || Number.isFinite(j.latency.p50Ns), `${d.kind}: latency is the one statistics object`);
    }
    const check = publishedSchemaCheck();
    const rt = JSON.parse(JSON.stringify(docs[0])) as Record<string, unknown>;
    // The names of before the result model: each must fail, and the checker must say where.
    const { latency, ...noLatency } = rt;
    const renamed = { ...noLatency, stats: latency };
    assert.ok(check(renamed, 'response').some((p) => /stats|latency/.test(p)), 'stats instead of latency is rejected');
    assert.ok(check({ ...rt, schemaVersion: 1 }, 'response').length > 0, 'an older schemaVersion is rejected');
    assert.ok(check({ ...rt, requestsPerSec: 1 }, 'response').length > 0, 'an unknown field is rejected');
    const tp = JSON.parse(JSON.stringify(docs[2])) as Record<string, unknown>;
    const { Mbps, ...noMbps } = tp;
    assert.ok(check({ ...noMbps, throughputMbps: Mbps }, 'throughput').length > 0, 'throughputMbps instead of Mbps is rejected');
    assert.ok(check({ ...rt, kind: 'crr' }, 'crr').length > 0, 'a document of one kind is not another');
    // The library's own checker agrees with the published file.
    assert.equal(resultProblems(rt), []);
    assert.ok(resultProblems(renamed).length > 0);
  } finally {
    await ep.close();
  }
});

test('every kind in the model has an envelope: tool, version, schemaVersion, kind, startedAt', () => {
  for (const [kind, s] of Object.entries(RESULT_SCHEMAS)) {
    const required = (s as { required?: string[] }).required ?? [];
    for (const f of ['tool', 'version', 'schemaVersion', 'kind', 'startedAt']) assert.ok(required.includes(f), `${kind} requires ${f}`);
    const measured = ['response', 'throughput', 'stream', 'crr', 'probe', 'serve-bench', 'paper', 'isolate'].includes(kind);
    if (measured) for (const f of ['config', 'clock']) assert.ok(required.includes(f), `${kind} (a measurement) requires ${f}`);
  }
});

test('doctor, cleanup, lab down, image, report --format json and compare --json print conforming documents', () => {
  const doc = runCli(['doctor', '--no-boot', '--json'], 60_000);
  assert.ok(doc.status === 0 || doc.status === 1, doc.stderr);
  jsonResult(doc.stdout, 'doctor');

  const c = runCli(['cleanup', '--lab', tag, '--json']);
  assert.is(c.status, 0, c.stderr);
  assert.equal(jsonResult(c.stdout, 'cleanup').labs.map((l: { found: boolean }) => l.found), [false]);

  const d = runCli(['lab', 'down', '--lab', tag, '--json']);
  assert.is(d.status, 0, d.stderr);
  assert.is(jsonResult(d.stdout, 'lab-down').removed, false);

  const img = runCli(['image', 'build', '--json'], 120_000);
  assert.is(img.status, 0, img.stderr);
  assert.ok(fs.existsSync(jsonResult(img.stdout, 'image').base));

  // A saved paper result made by the code (the fixture of the report tests), rendered as JSON.
  const dir = tempDir(path.join(os.tmpdir(), 'umlperf-schema-'));
  try {
    const saved = path.join(dir, 'r.json');
    fs.writeFileSync(saved, JSON.stringify(minimalPaper()));
    const rep = runCli(['report', saved, '--format', 'json']);
    assert.is(rep.status, 0, rep.stderr);
    jsonResult(rep.stdout, 'paper');
    // A saved isolate result, rendered again as JSON.
    const iso = path.join(dir, 'iso.json');
    fs.writeFileSync(iso, JSON.stringify(minimalIsolate()));
    const ri = runCli(['report', iso, '--format', 'json']);
    assert.is(ri.status, 0, ri.stderr);
    jsonResult(ri.stdout, 'isolate');
    const cmp = runCli(['compare', saved, saved, '--json']);
    assert.is(cmp.status, 0, cmp.stderr);
    assert.is(jsonResult(cmp.stdout, 'compare').config.a, saved);
    // An older file is refused with one line that says so.
    fs.writeFileSync(saved, JSON.stringify({ ...minimalPaper(), schemaVersion: undefined }));
    const old = runCli(['report', saved]);
    assert.is(old.status, 2);
    assert.match(old.stderr, /older umlperf \(schemaVersion 1\)/);
    assert.is(old.stderr.trim().split('\n').length, 1);
    fs.writeFileSync(saved, JSON.stringify({ ...minimalPaper(), warnings: 'none' }));
    const bad = runCli(['report', saved]);
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /not a valid umlperf paper result: \/warnings/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function minimalIsolate(): Record<string, unknown> {
  const iso = { kind: 'isolated', worsePercent: 2 };
  return {
    tool: 'umlperf', version: '0.2.0', schemaVersion: SCHEMA_VERSION, kind: 'isolate', startedAt: '2026-01-01T00:00:00.000Z',
    config: { faults: ['cpu'], windowS: 3, image: 'minimal', servers: [], faultyGuest: 'g1', neighbours: ['g2', 'host'], minNoisePercent: 10 },
    clock: { source: 'tsc', resolutionNs: 0.4, overheadNs: 12 },
    passes: [{ faults: [{
      fault: 'cpu', startMs: 1000, endMs: 4000, windowS: 3, outcome: 'ok', outlived: false, replaced: false, hostCost: { cpuBefore: 0.01, cpuDuring: 1.9 },
      metrics: [{ neighbour: 'g2', metric: 'tcpP50Ns', before: 50_000, during: 52_000, after: 50_500, noisePercent: 10, duringVerdict: iso, afterVerdict: iso }],
      neighbours: [{ neighbour: 'g2', verdict: iso, afterVerdict: iso, recoveryMs: 0 }],
      rounds: [{ neighbour: 'g2', startMs: 0, endMs: 500, values: { tcpP50Ns: 50_000, tcpMbps: null } }],
    }] }],
    durationMs: 9000,
  };
}

function minimalPaper(): Record<string, unknown> {
  const mc = { mean: 10, ci95: 1, n: 3, median: 10, ci95Low: 9, ci95High: 11 };
  const lat = { count: 3, minNs: 1000, meanNs: 2000, maxNs: 3000, p50Ns: 2000, p90Ns: 2900, p99Ns: 3000, p999Ns: 3000 };
  return {
    tool: 'umlperf', version: '0.2.0', schemaVersion: SCHEMA_VERSION, kind: 'paper', startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z', complete: true, warnings: [],
    config: { experiments: [1], runs: 3, guestsSweep: [0], servers: ['www', 'dns', 'mail'], transport: 'vector', kernel: 'linux.uml', image: 'minimal', responseSizeBytes: 64, responseIterations: 100, throughputSeconds: 0.5, udpDatagramBytes: 1472, probeCpu: null, labCpus: null },
    clock: { source: 'tsc', resolutionNs: 0.4, overheadNs: 12 },
    measurements: (['host', 'guest'] as const).map((side) => ({
      experiment: 1, side, protocol: 'tcp', servers: 'none', guests: side === 'guest' ? 1 : 0,
      latency: { ...lat, sent: 3, lost: 0 }, latencyRunP50Ns: [2000, 2100, 1900], latencyP50Ns: mc, latencySamplesNs: [1000, 2000, 3000],
      throughputRunsMbps: [10, 11, 9], throughputMbps: mc,
    })),
    tables: [{ id: 'table1', experiment: 1, title: 'Table 1', rows: [{ side: 'host', protocol: 'tcp', servers: 'none', guests: 0, latency: lat, throughputMbps: mc }], comparisons: [] }],
    openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] },
  };
}

test.run();
