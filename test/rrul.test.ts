// Latency under load (probe rrul): against a ground-truth echo that is slow exactly while bulk
// traffic flows, against the endpoint from one address, bad options, cancel and the CLI.
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { latencyUnderLoad, spawnEndpoint, startEndpoint } from '../src/index.js';
import { countingSource } from './fixtures/peers.js';
import { assertResult, jsonResult, runCli } from './helpers.js';

const host = '127.0.0.1';

/**
 * TCP and UDP echo on one port, a TCP discard, and a TCP source: the echoes hold each reply
 * `delayMs` while at least one discard connection is open, and answer at once otherwise.
 */
async function loadSensitiveEcho(delayMs: number) {
  let loads = 0;
  const sockets = new Set<net.Socket>();
  const track = (c: net.Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c)).on('error', () => {});
  };
  const later = (f: () => void) => (loads > 0 ? setTimeout(f, delayMs) : f());
  const echo = net.createServer((c) => {
    track(c);
    c.setNoDelay(true);
    c.on('data', (d) => later(() => !c.destroyed && c.write(d)));
  });
  const discard = net.createServer({ allowHalfOpen: true }, (c) => {
    track(c);
    loads++;
    // The bulk streams are bounded here (a read every 2 ms): the echo shares this process's
    // event loop, and a discard reading at line rate would starve it on a quiet machine.
    c.pause();
    const t = setInterval(() => {
      c.resume();
      setImmediate(() => c.pause());
    }, 2);
    c.on('close', () => clearInterval(t));
    c.on('data', () => {});
    c.on('end', () => c.end());
    c.on('close', () => loads--);
  });
  await new Promise<void>((r) => echo.listen(0, host, () => r()));
  const port = (echo.address() as { port: number }).port;
  const u = dgram.createSocket('udp4');
  u.on('message', (m, from) => later(() => u.send(m, from.port, from.address)));
  await new Promise<void>((r) => u.bind(port, host, () => r()));
  await new Promise<void>((r) => discard.listen(0, host, () => r()));
  const source = await countingSource({ everyMs: 2 });
  return {
    echoPort: port,
    discardPort: (discard.address() as { port: number }).port,
    sourcePort: source.port,
    async close() {
      for (const s of sockets) s.destroy();
      u.close();
      await new Promise((r) => echo.close(r));
      await new Promise((r) => discard.close(r));
      await source.close();
    },
  };
}

test('rrul: the loaded response times are measured while the bulk streams run (a peer slow only under load)', async () => {
  const p = await loadSensitiveEcho(30);
  try {
    const r = await latencyUnderLoad({ host, echoPort: p.echoPort, discardPort: p.discardPort, sourcePort: p.sourcePort, streams: 2, durationS: 3, intervalMs: 50 });
    assert.is(r.kind, 'rrul');
    for (const proto of ['tcp', 'udp'] as const) {
      const x = r[proto];
      assert.ok(x.idle.latency.p50Ns < 30e6, `${proto} idle p50 ${x.idle.latency.p50Ns} ns: no load, no delay`);
      assert.ok(x.loaded.latency.p50Ns >= 30e6, `${proto} loaded p50 ${x.loaded.latency.p50Ns} ns: measured under load`);
      assert.is(x.idle.latency.count + x.idle.lost, r.config.iterations);
      assert.ok(Math.abs(x.p50Ratio - x.loaded.latency.p50Ns / x.idle.latency.p50Ns) < 1e-9);
    }
    assert.ok(r.bulk.sentMbps > 0 && r.bulk.receivedMbps > 0, JSON.stringify(r.bulk));
    assert.ok(Math.abs(r.bulk.Mbps - (r.bulk.sentMbps + r.bulk.receivedMbps)) < 1e-6);
    assertResult(r, 'rrul');
  } finally {
    await p.close();
  }
});

test('rrul against the static endpoint from one address: 8 streams each way fit its per-source limits', async () => {
  const ep = await spawnEndpoint({ port: 0, exitWithParent: true });
  try {
    const r = await latencyUnderLoad({ host, echoPort: ep.echoPort, discardPort: ep.discardPort, sourcePort: ep.chargenPort, streams: 8, durationS: 1 });
    assert.ok(r.bulk.sentMbps > 0 && r.bulk.receivedMbps > 0);
    assert.ok(r.tcp.loaded.latency.count > 0 && r.udp.loaded.latency.count > 0);
    assert.ok(!('samplesNs' in r.tcp.loaded));
  } finally {
    await ep.close();
  }
});

test('rrul: an endpoint whose per-source limit is too small fails the run promptly, and a cancel ends it', async () => {
  const ep = await startEndpoint({ port: 0, maxConnectionsPerSource: 2 });
  try {
    const t0 = Date.now();
    const e = await latencyUnderLoad({ host, echoPort: ep.echoPort, discardPort: ep.discardPort, sourcePort: ep.chargenPort, streams: 4, durationS: 10 }).catch((x) => x);
    assert.instance(e, Error);
    assert.type(e.code, 'string');
    assert.ok(Date.now() - t0 < 25_000, `failed after ${Date.now() - t0} ms`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('enough')), 1500);
    const t1 = Date.now();
    const a = await latencyUnderLoad({ host, echoPort: ep.echoPort, discardPort: ep.discardPort, sourcePort: ep.chargenPort, streams: 1, durationS: 30, signal: ac.signal }).catch((x) => x);
    assert.is(a.name, 'AbortError', String(a));
    assert.ok(Date.now() - t1 < 10_000, `cancel took ${Date.now() - t1} ms`);
  } finally {
    await ep.close();
  }
});

test('rrul: bad options are usage errors', async () => {
  for (const [o, re] of [
    [{ host, streams: 0 }, /streams/],
    [{ host, streams: 33 }, /streams/],
    [{ host, durationS: 0.1 }, /durationS/],
    [{ host, size: 4 }, /size/],
    [{ host: '' }, /host/],
  ] as [Parameters<typeof latencyUnderLoad>[0], RegExp][]) {
    const e = await latencyUnderLoad(o).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_USAGE', String(e));
    assert.match(e.message, re);
  }
});

test('CLI: probe rrul against its own endpoint, as JSON and as a table; a bad flag is exit 2', () => {
  const j = runCli(['probe', 'rrul', '--parallel', '2', '--duration', '1s', '--json']);
  assert.is(j.status, 0, j.stderr);
  const r = jsonResult(j.stdout, 'probe').runs[0];
  assert.is(r.kind, 'rrul');
  assert.is(r.config.streams, 2);
  assert.type(r.tcp.loaded.latency.p99Ns, 'number');
  assert.type(r.bulk.Mbps, 'number');
  const t = runCli(['probe', 'rrul', '--duration', '1s']);
  assert.is(t.status, 0, t.stderr);
  assert.match(t.stdout, /idle/);
  assert.match(t.stdout, /loaded/);
  const bad = runCli(['probe', 'rrul', '--reverse']);
  assert.is(bad.status, 2);
});

test.run();
