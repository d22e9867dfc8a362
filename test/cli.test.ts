// The CLI as a user meets it: output on stdout, one-line errors, exit 2 for usage, 1 for failures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { meanCi } from '../src/stats.js';
import { cliPath, freePort, runCli, jsonResult } from './helpers.js';

test('--help lists the commands', () => {
  const r = runCli(['--help']);
  assert.is(r.status, 0);
  assert.match(r.stdout, /probe <kind>/);
  assert.match(r.stdout, /endpoint/);
});

test('probe response with no host measures an in-process loopback endpoint', () => {
  const r = runCli(['probe', 'response', '--iterations', '200']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /response time: TCP 64 B to 127\.0\.0\.1:/);
  assert.match(r.stdout, /answered 200 of 200/);
  assert.is(r.stderr, '', 'no progress noise when stderr is not a terminal');
});

test('probe --json gives the documented result fields', () => {
  const r = runCli(['probe', 'response', '--protocol', 'udp', '--iterations', '100', '--json']);
  assert.is(r.status, 0, r.stderr);
  const p = jsonResult(r.stdout, 'probe');
  assert.is(p.probe, 'response');
  assert.equal(p.config, { runs: 1, completed: 1, interrupted: false });
  assert.is(p.runs.length, 1, 'one run: the same shape as many');
  const j = p.runs[0];
  assert.is(j.kind, 'response');
  for (const k of ['minNs', 'meanNs', 'maxNs', 'p50Ns', 'p90Ns', 'p99Ns', 'p999Ns', 'stddevNs', 'ci95Ns']) {
    assert.ok(Number.isInteger(j.latency[k]), k);
  }
  assert.is(p.summary.p50Ns.mean, j.latency.p50Ns);
  assert.ok(j.clock.source && j.clock.resolutionNs > 0 && j.clock.overheadNs > 0);
  assert.is(j.samplesNs.length, 100);

  const t = jsonResult(runCli(['probe', 'throughput', '--duration', '0.2s', '--json']).stdout, 'probe').runs[0];
  for (const k of ['Mbps', 'bytes', 'durationNs']) assert.type(t[k], 'number', k);
  assert.ok(t.clock);

  const s = jsonResult(runCli(['probe', 'stream', '--rate', '10', '--duration', '0.2s', '--json']).stdout, 'probe').runs[0];
  for (const k of ['sent', 'received', 'lost', 'lossPercent', 'duplicates', 'reordered', 'jitterNs']) assert.type(s[k], 'number', k);
  assert.ok(s.clock);

  // One-way rate search: the best trial's figures, with the search beside them (schema-checked).
  const f = jsonResult(runCli(['probe', 'throughput', '--protocol', 'udp', '--find-max-rate', '--rate', '50', '--duration', '0.1s', '--json']).stdout, 'probe').runs[0];
  assert.is(f.search.lossThresholdPercent, 0.1);
  assert.is(f.search.trials[0].targetRateMbps, 50);
  assert.ok(f.search.trials.length >= 1);
  assert.is(f.search.maxRateMbps, f.search.trials.some((x: { pass: boolean }) => x.pass) ? f.Mbps : 0);
});

test('--runs gives every run and a summary of those runs; Mbit/s is bytes × 8 over the time in µs', () => {
  const r = runCli(['probe', 'throughput', '--bytes', '1000000', '--runs', '3', '--json']);
  assert.is(r.status, 0, r.stderr);
  const j = jsonResult(r.stdout, 'probe');
  assert.is(j.runs.length, 3);
  const mbps: number[] = [];
  for (const run of j.runs) {
    assert.is(run.bytes, 1_000_000, 'TCP: every byte asked for, confirmed by the receiver closing');
    assert.is(run.receiverConfirmed, true);
    // 10^6 bytes in d ns: 8·10^6 bits / (d / 1000) µs = Mbit/s.
    const expected = (8 * run.bytes) / (run.durationNs / 1e3);
    assert.ok(Math.abs(run.Mbps - expected) <= 1e-9 * expected, `${run.Mbps} Mbps for ${run.bytes} B in ${run.durationNs} ns`);
    assert.ok(Math.abs(run.sentMbps - (8 * run.bytesSent) / (run.sendDurationNs / 1e3)) <= 1e-9 * run.sentMbps);
    mbps.push(run.Mbps);
  }
  assert.equal(j.summary.Mbps, meanCi(mbps));
  assert.ok(j.summary.Mbps.ci95 > 0, 'three different runs have a spread');
});

test('endpoint and probe in separate processes', async () => {
  // The endpoint picks its own free ports (echo and discard, each TCP and UDP) and prints them:
  // no port chosen here can clash with another process's.
  const ep = spawn(process.execPath, [cliPath, 'endpoint', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Made before anything can fail: an endpoint that is already gone settles it at once.
  const exited = new Promise<number | null>((r) => ep.once('exit', (c) => r(c)));
  let code: number | null;
  try {
    const { echo, discard } = await new Promise<{ echo: number; discard: number }>((resolve, reject) => {
      let out = '';
      let err = '';
      ep.stdout!.on('data', (d: Buffer) => {
        out += d;
        const m = /echo on 127\.0\.0\.1:(\d+), discard on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve({ echo: Number(m[1]), discard: Number(m[2]) });
      });
      ep.stderr!.on('data', (d: Buffer) => (err += d));
      ep.once('exit', (code) => reject(new Error(`endpoint exited (${code}): ${err}`)));
    });
    assert.ok(echo > 0 && discard > 0 && echo !== discard);
    const r = runCli(['probe', 'response', '--host', '127.0.0.1', '--port', String(echo), '--iterations', '100', '--json']);
    assert.is(r.status, 0, r.stderr);
    assert.is(jsonResult(r.stdout, 'probe').runs[0].received, 100);
    const t = runCli(['probe', 'throughput', '--host', '127.0.0.1', '--port', String(discard), '--protocol', 'udp', '--duration', '0.2s', '--json']);
    assert.is(t.status, 0, t.stderr);
    assert.is(jsonResult(t.stdout, 'probe').runs[0].receiverConfirmed, true);
  } finally {
    ep.kill('SIGTERM');
    code = await exited;
  }
  assert.is(code, 0);
});

const usage: [string, string[]][] = [
  ['unknown protocol', ['probe', 'response', '--protocol', 'sctp']],
  ['size 0', ['probe', 'response', '--size', '0']],
  ['UDP size too large', ['probe', 'response', '--protocol', 'udp', '--size', '65508']],
  ['port out of range', ['probe', 'response', '--host', '127.0.0.1', '--port', '70000']],
  ['unresolvable host', ['probe', 'response', '--host', 'no-such-host.invalid']],
  ['unknown probe', ['probe', 'latency']],
  ['unknown option', ['probe', 'response', '--colour']],
  ['no command', []],
  ['bytes and duration together', ['probe', 'throughput', '--bytes', '10', '--duration', '1s']],
];
for (const [what, args] of usage) {
  test(`usage error (${what}): one line, exit 2`, () => {
    const r = runCli(args);
    assert.is(r.status, 2, `${what}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^umlperf: /);
    assert.not.match(r.stderr, /\n\s+at /);
  });
}

test('nothing listening: one line, exit 1', async () => {
  const port = await freePort();
  for (const protocol of ['tcp', 'udp']) {
    const r = runCli(['probe', 'response', '--host', '127.0.0.1', '--port', String(port), '--protocol', protocol]);
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /^umlperf: .*refused/i);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
});

function localEndpoints(): number[] {
  const r = spawnSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes('umlperf-endpoint --bind 127.0.0.1 --port 0') && l.includes(`--parent`)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

test('the local endpoint never outlives the CLI: usage error, SIGKILL', async () => {
  const before = new Set(localEndpoints());
  runCli(['probe', 'throughput', '--bytes', '10', '--duration', '1s']);
  const cli = spawn(process.execPath, [cliPath, 'probe', 'response', '--iterations', '100000000'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 800));
  cli.kill('SIGKILL');
  await new Promise((r) => cli.once('exit', r));
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = localEndpoints().filter((p) => !before.has(p));
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(left, []);
});

test.run();
