// The probes against our in-process endpoint and against socat, a standard service we did not write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clockInfo, responseTime, startEndpoint, streaming, throughput, type Endpoint } from '../src/index.js';
import { freePort, socat, stop } from './helpers.js';

let ep: Endpoint;

test.before(async () => {
  ep = await startEndpoint({ port: 0 });
});
test.after(async () => {
  await ep?.close();
});

test('clock reports its source, resolution and cost', () => {
  const c = clockInfo();
  assert.ok(c.source === 'tsc' || c.source === 'clock_monotonic_raw');
  assert.ok(c.resolutionNs > 0 && c.resolutionNs < 1000, `resolution ${c.resolutionNs}`);
  assert.ok(c.overheadNs > 0 && c.overheadNs < 10000, `overhead ${c.overheadNs}`);
});

for (const protocol of ['tcp', 'udp'] as const) {
  for (const wait of ['block', 'spin', 'busy-poll'] as const) {
    test(`response time ${protocol} ${wait}: every request answered, integer ns, ordered stats`, async () => {
      const r = await responseTime({ host: '127.0.0.1', port: ep.echoPort, protocol, wait, size: 100, iterations: 500, warmup: 20 });
      assert.is(r.sent, 500);
      assert.is(r.received, 500);
      assert.is(r.lost, 0);
      assert.is(r.samplesNs!.length, 500);
      assert.ok(r.samplesNs!.every((x) => Number.isInteger(x) && x > 0));
      const s = r.latency;
      assert.ok(s.minNs <= s.p50Ns && s.p50Ns <= s.p90Ns && s.p90Ns <= s.p99Ns && s.p99Ns <= s.maxNs);
      assert.ok(s.minNs <= s.meanNs && s.meanNs <= s.maxNs);
      assert.is(r.config.wait, wait);
      assert.is(r.config.protocol, protocol);
      assert.ok(r.clock.source.length > 0);
    });
  }
}

test('response time: UDP requests of the largest size come back whole', async () => {
  const r = await responseTime({ host: '127.0.0.1', port: ep.echoPort, protocol: 'udp', size: 65507, iterations: 20, warmup: 2 });
  assert.is(r.received, 20);
});

test('response time: TCP requests larger than one segment are reassembled', async () => {
  const r = await responseTime({ host: '127.0.0.1', port: ep.echoPort, protocol: 'tcp', size: 200_000, iterations: 20, warmup: 2 });
  assert.is(r.received, 20);
  assert.ok(ep.stats().echoedBytes >= 22 * 200_000);
});

test('response time: a UDP target that never answers fails after three timeouts, not iterations x timeout', async () => {
  const dgram = await import('node:dgram');
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const port = (sink.address() as { port: number }).port;
  try {
    const t0 = Date.now();
    type Failed = Error & { code?: string; partial?: { sent: number; lost: number; received: number } };
    const e = await responseTime({ host: '127.0.0.1', port, protocol: 'udp', iterations: 1000, warmup: 0, timeoutMs: 100 }).then(
      (): Failed => assert.unreachable('a silent target is not a result') as never,
      (err: Failed) => err,
    );
    assert.is(e.code, 'ERR_UMLPERF_PEER_SILENT');
    assert.match(e.message, /3 requests in a row/);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.is(e.partial?.sent, 3);
    assert.is(e.partial?.lost, 3);
    assert.is(e.partial?.received, 0);
  } finally {
    sink.close();
  }
});

test('response time: interval paces requests', async () => {
  const r = await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 20, warmup: 0, intervalUs: 2000 });
  assert.ok(r.durationNs >= 19 * 2e6, `duration ${r.durationNs}`);
});

test('throughput TCP by bytes: the receiver confirms every byte', async () => {
  const before = ep.stats().discardedBytes;
  const r = await throughput({ host: '127.0.0.1', port: ep.discardPort, bytes: 50_000_000 });
  assert.is(r.bytesSent, 50_000_000);
  assert.is(r.bytes, 50_000_000);
  assert.ok(r.receiverConfirmed);
  assert.ok(r.Mbps > 0);
  assert.is(ep.stats().discardedBytes - before, 50_000_000);
  assert.ok(r.durationNs >= r.sendDurationNs);
});

test('throughput UDP by duration: the receiver reports its count', async () => {
  const r = await throughput({ host: '127.0.0.1', port: ep.discardPort, protocol: 'udp', durationS: 0.3, size: 1000 });
  assert.ok(r.receiverConfirmed);
  assert.ok(r.datagramsSent! > 0);
  assert.ok(r.datagramsReceived! <= r.datagramsSent!);
  assert.is(r.bytesReceived, r.datagramsReceived! * 1000);
  assert.is(r.lost, r.datagramsSent! - r.datagramsReceived!);
  assert.ok(r.durationNs >= 0.3e9);
});

test('streaming at a paced rate: counts and rate add up', async () => {
  const r = await streaming({ host: '127.0.0.1', port: ep.echoPort, rateMbps: 20, durationS: 0.5, size: 500 });
  const expected = Math.ceil((20e6 * 0.5) / (500 * 8));
  assert.is(r.sent, expected);
  assert.is(r.received + r.lost, r.sent);
  assert.ok(Math.abs(r.sentMbps - 20) < 2, `sent ${r.sentMbps} Mbps`);
  assert.ok(r.jitterNs >= 0);
  assert.is(r.latency.count, r.received);
});

test('against socat: TCP echo and discard we did not write', async () => {
  const port = await freePort();
  const echo = await socat('echo', 'tcp', port);
  try {
    const r = await responseTime({ host: '127.0.0.1', port, iterations: 100, warmup: 5 });
    assert.is(r.received, 100);
  } finally {
    await stop(echo);
  }
  const dport = await freePort();
  const discard = await socat('discard', 'tcp', dport);
  try {
    const t = await throughput({ host: '127.0.0.1', port: dport, bytes: 10_000_000 });
    assert.is(t.bytesSent, 10_000_000);
    assert.ok(t.receiverConfirmed, 'socat closes after our FIN');
  } finally {
    await stop(discard);
  }
});

test('against socat: UDP echo, and UDP discard that cannot report', async () => {
  const port = await freePort();
  const echo = await socat('echo', 'udp', port);
  try {
    const r = await responseTime({ host: '127.0.0.1', port, protocol: 'udp', iterations: 30, warmup: 2, timeoutMs: 1000 });
    assert.is(r.received + r.lost, 30);
    assert.ok(r.received >= 25, `received ${r.received}`);
  } finally {
    await stop(echo);
  }
  const dport = await freePort();
  const discard = await socat('discard', 'udp', dport);
  try {
    const t = await throughput({ host: '127.0.0.1', port: dport, protocol: 'udp', bytes: 100_000, size: 1000 });
    assert.is(t.bytesSent, 100_000);
    assert.is(t.receiverConfirmed, false);
    assert.is(t.bytesReceived, null);
  } finally {
    await stop(discard);
  }
});

test('errors carry code, errno and syscall', async () => {
  const port = await freePort();
  try {
    await responseTime({ host: '127.0.0.1', port, iterations: 1 });
    assert.unreachable('nothing listens');
  } catch (e) {
    const err = e as Error & { code: string; errno: number; syscall: string };
    assert.is(err.code, 'ECONNREFUSED');
    assert.is(err.syscall, 'connect');
    assert.ok(err.errno < 0);
  }
  try {
    await responseTime({ host: 'no-such-host.invalid', port: 7, iterations: 1 });
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code: string }).code, 'ENOTFOUND');
  }
});

test('bad options are usage errors', async () => {
  for (const bad of [{ size: 0 }, { size: 70000, protocol: 'udp' }, { port: 70000 }, { protocol: 'sctp' }, { iterations: -1 }, { wait: 'nap' }]) {
    try {
      await responseTime({ host: '127.0.0.1', ...(bad as object) });
      assert.unreachable(JSON.stringify(bad));
    } catch (e) {
      assert.is((e as { code: string }).code, 'ERR_UMLPERF_USAGE', JSON.stringify(bad));
    }
  }
});

test('an AbortSignal cancels a running probe promptly', async () => {
  const ac = new AbortController();
  const p = responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 10_000_000, signal: ac.signal });
  setTimeout(() => ac.abort(), 300);
  const t0 = Date.now();
  try {
    await p;
    assert.unreachable();
  } catch (e) {
    const err = e as Error & { partial?: { sent: number; received: number; samplesNs?: number[]; latency: { count: number } } };
    assert.is(err.name, 'AbortError');
    assert.ok(err.cause !== undefined, 'the abort reason is the cause');
    // What was measured before the abort is kept.
    assert.ok(err.partial && err.partial.sent > 0, 'partial result');
    // Past 1e6 iterations the probe keeps a histogram by default, not every sample.
    assert.is(err.partial!.samplesNs, undefined);
    assert.is(err.partial!.latency.count, err.partial!.received);
  }
  assert.ok(Date.now() - t0 < 5000);
  // The endpoint still serves after the cancelled connection.
  const r = await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 10 });
  assert.is(r.received, 10);
});

test('progress is reported', async () => {
  const seen: number[] = [];
  await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 200, onProgress: (p) => seen.push(p.done / p.total) });
  assert.ok(seen.length >= 1);
  assert.is(seen[seen.length - 1], 1);
});

test.run();
