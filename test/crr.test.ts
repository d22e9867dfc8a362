// Connection rate (connect, request, response, close per transaction) against an echo
// (service 'echo'): the endpoint's, whose connection count is known exactly, a ground-truth echo
// with a known delay, and hostile echoes. Transaction sessions: crr-session.test.ts.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionRate, startEndpoint } from '../src/index.js';
import { closingEcho, delayedEcho, silentTcp, withPeer, type Peer } from './fixtures/peers.js';
import { runCli, jsonResult } from './helpers.js';

const host = '127.0.0.1';


test('against the endpoint\'s echo: one connection per transaction, warm-up included, and the rate is transactions over the time', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const r = await connectionRate({ host, port: ep.echoPort, service: 'echo', transactions: 150, warmup: 5, size: 100 });
    assert.is(r.kind, 'crr');
    assert.is(r.config.service, 'echo');
    assert.is(r.transactions, 150);
    assert.is(r.samplesNs!.length, 150);
    assert.is(r.latency.count, 150);
    assert.is(ep.stats().tcpConnections, 155);
    assert.ok(r.latency.minNs > 0 && r.latency.minNs <= r.latency.p50Ns && r.latency.p50Ns <= r.latency.p99Ns && r.latency.p99Ns <= r.latency.maxNs);
    assert.ok(Math.abs(r.transactionsPerSecond - (150 * 1e9) / r.durationNs) < 1e-9 * r.transactionsPerSecond);
    // The transactions run back to back: the phase holds them all, and little else.
    const sum = r.samplesNs!.reduce((a, b) => a + b, 0);
    assert.ok(r.durationNs >= sum && r.durationNs <= sum + 1e9, `duration ${r.durationNs} ns, transactions ${sum} ns`);
  } finally {
    await ep.close();
  }
});

test('an echo holding each reply 20 ms: every transaction takes at least that', () =>
  withPeer(() => delayedEcho('tcp', 20), async (p) => {
    const r = await connectionRate({ host, port: p.port, service: 'echo', transactions: 8, warmup: 1 });
    assert.is(r.transactions, 8);
    assert.ok(r.latency.minNs >= 19e6, `min ${r.latency.minNs} ns`);
    assert.is(p.count.received, 9, 'one request per transaction');
  }));

test('an echo that closes instead of answering: ERR_UMLPERF_PEER_CLOSED, with what was measured as partial', () =>
  withPeer(() => closingEcho(1), async (p) => {
    const e = await connectionRate({ host, port: p.port, service: 'echo', transactions: 5, warmup: 0 }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_PEER_CLOSED', String(e));
    assert.is(e.partial?.kind, 'crr');
    assert.is(e.partial.transactions, 0);
  }));

test('an echo that alters the reply: ERR_UMLPERF_PEER_BAD_REPLY', async () => {
  const server = net.createServer((c) => {
    c.on('error', () => {});
    c.on('data', (d) => c.write(Buffer.from(d.map((b) => b ^ 0x20))));
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const e = await connectionRate({ host, port, service: 'echo', transactions: 3, warmup: 0, size: 16 }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_PEER_BAD_REPLY', String(e));
  } finally {
    server.close();
  }
});

test('an echo that never answers: ETIMEDOUT after the per-transaction timeout', () =>
  withPeer(() => silentTcp(), async (p) => {
    const t0 = Date.now();
    const e = await connectionRate({ host, port: p.port, service: 'echo', transactions: 100, warmup: 0, timeoutMs: 300 }).catch((x) => x);
    assert.is(e.code, 'ETIMEDOUT', String(e));
    assert.ok(Date.now() - t0 < 10_000);
  }));

test('a silent echo with a timeout shorter than the receive slice: the failure comes at the timeout, not a slice later', () =>
  withPeer(() => silentTcp(), async (p) => {
    const t0 = Date.now();
    const e = await connectionRate({ host, port: p.port, service: 'echo', transactions: 10, warmup: 0, timeoutMs: 30 }).catch((x) => x);
    const ms = Date.now() - t0;
    assert.is(e.code, 'ETIMEDOUT', String(e));
    // The receive waits in slices of 100 ms; the last one is cut to the deadline.
    assert.ok(ms >= 30 && ms < 95, `failed after ${ms} ms`);
  }));

test('bad options, and the CLI', async () => {
  for (const [o, re] of [
    [{ transactions: 0 }, /transactions/],
    [{ size: 0 }, /size/],
    [{ size: 65537 }, /size/],
    [{ protocol: 'udp' }, /TCP only/],
    [{ service: 'http' }, /service/],
    [{ responseSize: 0 }, /responseSize/],
    [{ responseSize: 65537 }, /responseSize/],
    [{ service: 'echo', size: 10, responseSize: 20 }, /responseSize goes with service 'transaction'/],
  ] as [Record<string, unknown>, RegExp][]) {
    const e = await connectionRate({ host, ...o }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_USAGE', String(e));
    assert.match(e.message, re);
  }
  const j = runCli(['probe', 'crr', '--transactions', '50', '--json', '--no-samples']);
  assert.is(j.status, 0, j.stderr);
  const r = jsonResult(j.stdout, 'probe').runs[0];
  assert.is(r.kind, 'crr');
  assert.is(r.transactions, 50);
  assert.is(r.samplesNs, undefined);
  const t = runCli(['probe', 'crr', '--transactions', '20']);
  assert.is(t.status, 0, t.stderr);
  assert.match(t.stdout, /transactions\/s/);
  const b = runCli(['probe', 'crr', '--host', host, '--bytes', '5']);
  assert.is(b.status, 2);
  assert.match(b.stderr, /--bytes applies to probe throughput only/);
});

test.run();
