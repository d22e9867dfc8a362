// The static umlperf-endpoint: no shared libraries, serves standard echo/discard, stops on SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointBinary, responseTime, throughput } from '../src/index.js';
import { freePort } from './helpers.js';

test('is a static executable', () => {
  const r = spawnSync('file', ['-L', endpointBinary()], { encoding: 'utf8' });
  if (r.status === 0) assert.match(r.stdout, /statically linked/);
  const ldd = spawnSync('ldd', [endpointBinary()], { encoding: 'utf8' });
  assert.match(ldd.stdout + ldd.stderr, /not a dynamic executable/);
});

test('serves echo and discard, never answers with more than it got, exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(endpointBinary(), ['--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().startsWith('umlperf-endpoint ready') && resolve());
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const r = await responseTime({ host: '127.0.0.1', port, protocol: 'udp', size: 1200, iterations: 100 });
    assert.is(r.received, 100);
    const t = await throughput({ host: '127.0.0.1', port: port + 1, protocol: 'udp', bytes: 1_000_000, size: 1000 });
    assert.ok(t.receiverConfirmed);
    assert.is(t.datagramsSent, 1000);

    // Raw datagrams: the reply to each is exactly its request; a query-sized packet too short gets nothing.
    const dgram = await import('node:dgram');
    const s = dgram.createSocket('udp4');
    const replies: number[] = [];
    s.on('message', (m) => replies.push(m.length));
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    for (const n of [1, 17, 512]) s.send(Buffer.alloc(n, 7), port, '127.0.0.1');
    s.send(Buffer.alloc(30, 1), port + 1, '127.0.0.1');
    await new Promise((res) => setTimeout(res, 200));
    s.close();
    assert.equal(replies.sort((a, b) => a - b), [1, 17, 512]);
  } finally {
    const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill('SIGTERM');
    assert.is(await exit, 0);
  }
});

test('bad arguments exit 2 with a message', () => {
  const r = spawnSync(endpointBinary(), ['--port', '99999'], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /bad value for --port/);
  const b = spawnSync(endpointBinary(), ['--bind', 'example.org'], { encoding: 'utf8' });
  assert.is(b.status, 2);
});

test.run();
