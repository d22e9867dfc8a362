// The static umlperf-endpoint: no shared libraries, serves standard echo/discard, stops on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointBinary, responseTime, throughput } from '../src/index.js';
import { startBinary, stopBinary } from './helpers.js';
import { until } from './lab-helpers.js';

test('is a static executable', () => {
  const r = spawnSync('file', ['-L', endpointBinary()], { encoding: 'utf8' });
  if (r.status === 0) assert.match(r.stdout, /statically linked/);
  const ldd = spawnSync('ldd', [endpointBinary()], { encoding: 'utf8' });
  assert.match(ldd.stdout + ldd.stderr, /not a dynamic executable/);
});

test('serves echo and discard, never answers with more than it got, exits 0 on SIGTERM', async () => {
  // Port 0: the endpoint takes free ports and names them in its ready line. A fixed port P would
  // also need P+1..P+3 free, and a client connection of an earlier test in TIME_WAIT on one of
  // them makes the bind fail.
  const { child, echo: port, discard, stderr } = await startBinary(['--port', '0']);
  let code: number | null;
  try {
    assert.ok(port > 0 && discard > 0 && port !== discard, `ports ${port} ${discard}`);
    const r = await responseTime({ host: '127.0.0.1', port, protocol: 'udp', size: 1200, iterations: 100 });
    assert.is(r.received, 100);
    const t = await throughput({ host: '127.0.0.1', port: discard, protocol: 'udp', bytes: 1_000_000, size: 1000 });
    assert.ok(t.receiverConfirmed);
    assert.is(t.datagramsSent, 1000);

    // Raw datagrams: the reply to each is exactly its request; a query-sized packet too short gets nothing.
    const dgram = await import('node:dgram');
    const s = dgram.createSocket('udp4');
    const replies: number[] = [];
    s.on('message', (m) => replies.push(m.length));
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    for (const n of [1, 17, 512]) s.send(Buffer.alloc(n, 7), port, '127.0.0.1');
    s.send(Buffer.alloc(30, 1), discard, '127.0.0.1');
    await new Promise((res) => setTimeout(res, 200));
    s.close();
    assert.equal(replies.sort((a, b) => a - b), [1, 17, 512]);
  } finally {
    code = (await stopBinary(child)).code;
  }
  assert.is(code, 0, `exit status; stderr: ${stderr()}`);
});

// The endpoint keeps its per-request time (activity, stalls, UDP rate limits) on the TSC where
// it is invariant, because a UML guest has no vDSO and each clock_gettime is a trap; elsewhere
// on CLOCK_MONOTONIC_RAW. UMLPERF_CLOCK=monotonic takes the second path on any CPU, so both are
// checked here on one machine: the idle timeout is kept to its scale, and echo is untouched.
for (const clock of ['tsc where invariant', 'monotonic']) {
  test(`on its ${clock} clock: a silent connection is closed after the idle timeout, an echoing one stays`, async () => {
    const prefix = clock === 'monotonic' ? ['env', 'UMLPERF_CLOCK=monotonic'] : [];
    const { child, echo } = await startBinary(['--port', '0', '--idle-timeout-ms', '400'], prefix);
    const silent = net.connect(echo, '127.0.0.1');
    const active = net.connect(echo, '127.0.0.1');
    silent.on('error', () => {});
    active.on('error', () => {});
    let echoed = 0, written = 0;
    active.on('data', (d: Buffer) => (echoed += d.length));
    const timer = setInterval(() => {
      active.write('0123456789');
      written += 10;
    }, 100);
    try {
      const closedAfter = await new Promise<number>((res) => {
        const t0 = performance.now();
        silent.once('close', () => res(performance.now() - t0));
        setTimeout(() => res(-1), 4000);
      });
      assert.ok(closedAfter >= 300 && closedAfter < 2500, `silent connection closed after ${closedAfter.toFixed(0)} ms (timeout 400 ms)`);
      await new Promise((res) => setTimeout(res, 300));
      assert.ok(!active.destroyed && active.readyState === 'open', 'the echoing connection is still open');
      assert.ok(echoed > 0 && echoed <= written, `echoed ${echoed} of ${written} bytes`);
    } finally {
      clearInterval(timer);
      silent.destroy();
      active.destroy();
      await stopBinary(child);
    }
  });
}

// Guests run the endpoint with 1 MiB discard reads; the smallest size must work as well.
for (const kib of ['16', '1024']) {
  test(`--discard-read-kib ${kib}: TCP discard takes a whole stream to its end, one connection after another`, async () => {
    const { child, discard } = await startBinary(['--port', '0', '--discard-read-kib', kib]);
    try {
      for (let i = 0; i < 2; i++) {
        const t = await throughput({ host: '127.0.0.1', port: discard, bytes: 8_000_000 });
        assert.is(t.bytes, 8_000_000);
        assert.ok(t.Mbps > 0);
      }
    } finally {
      await stopBinary(child);
    }
  });
}

test('bad arguments exit 2 with a message', () => {
  const r = spawnSync(endpointBinary(), ['--port', '99999'], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /bad value for --port/);
  const b = spawnSync(endpointBinary(), ['--bind', 'example.org'], { encoding: 'utf8' });
  assert.is(b.status, 2);
  for (const kib of ['8', '4097', '1M']) {
    const d = spawnSync(endpointBinary(), ['--discard-read-kib', kib], { encoding: 'utf8' });
    assert.is(d.status, 2, `--discard-read-kib ${kib}`);
    assert.match(d.stderr, /--discard-read-kib/);
  }
});

// --respawn keeps the guest's exec agent (a shell script) going: see src/guest/init.ts.
test('--respawn runs a program again a second after it fails, ends when it exits 0, passes SIGTERM on', async () => {
  for (const args of [['--respawn'], ['--respawn', 'sh'], ['--respawn', '/bin/true', 'x']]) {
    const r = spawnSync(endpointBinary(), args, { encoding: 'utf8' });
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, /--respawn/);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'umlperf-respawn-'));
  try {
    const log = path.join(dir, 'log');
    const status = path.join(dir, 'status');
    const prog = path.join(dir, 'prog');
    fs.writeFileSync(status, '3\n');
    // Each run logs its time and pid, then exits with the status in the file (or, for 's', sleeps).
    fs.writeFileSync(prog, `#!/bin/sh\necho "$(date +%s%N) $$" >> ${log}\nread s < ${status}\n[ "$s" = s ] && exec sleep 30\nexit "$s"\n`, { mode: 0o700 });
    const runs = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number)) : []);
    const child = spawn(endpointBinary(), ['--respawn', prog], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    assert.ok(await until(() => runs().length >= 3, 10_000), `runs: ${runs().length}`);
    const r = runs();
    for (let i = 1; i < r.length; i++) assert.ok(r[i][0] - r[i - 1][0] >= 0.9e9, `a second between runs: ${r[i][0] - r[i - 1][0]} ns`);
    fs.writeFileSync(status, '0\n');
    assert.is(await exited, 0, 'ends when the program exits 0');

    fs.rmSync(log);
    fs.writeFileSync(status, 's\n');
    const again = spawn(endpointBinary(), ['--respawn', prog], { stdio: 'ignore' });
    const ended = new Promise<number | null>((resolve) => again.on('exit', (code) => resolve(code)));
    assert.ok(await until(() => runs().length === 1, 10_000));
    const pid = runs()[0][1];
    again.kill('SIGTERM');
    assert.is(await ended, 0);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the program ended with it');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
