// Numbers pinned against peers whose behaviour is known exactly: a fixed reply delay, every Nth
// datagram dropped, a byte count, a known rate limit, and the endpoint's byte-exact echo.
// Bounds are generous where the machine's load enters (delays, rates) and exact where it
// cannot (counts).
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { responseTime, startEndpoint, streaming, throughput } from '../src/index.js';
import { countingReceiver, delayedEcho, dropEveryNth, honestCounter, rateLimitedEcho, silentUdp, withPeer, type Peer } from './fixtures/peers.js';

const host = '127.0.0.1';


for (const protocol of ['tcp', 'udp'] as const) {
  test(`${protocol}: an echo holding each reply 20 ms reads as a p50 just above 20 ms`, () =>
    withPeer(() => delayedEcho(protocol, 20), async (p) => {
      const r = await responseTime({ host, port: p.port, protocol, iterations: 15, warmup: 2, timeoutMs: 2000 });
      assert.is(r.received, 15);
      // Node's timers may fire up to ~1 ms early against the monotonic clock; the margin above
      // is the event loop's wake-up on a shared machine.
      assert.ok(r.latency.p50Ns >= 19e6, `p50 ${r.latency.p50Ns} ns`);
      assert.ok(r.latency.p50Ns < 20e6 + 15e6, `p50 ${r.latency.p50Ns} ns`);
      assert.ok(r.latency.minNs >= 19e6, `min ${r.latency.minNs} ns`);
      // Ping-pong without pauses: the measured phase is the round trips plus a little between them.
      const sum = r.samplesNs!.reduce((a, b) => a + b, 0);
      assert.ok(r.durationNs >= sum && r.durationNs <= sum + 100e6, `duration ${r.durationNs} ns, round trips ${sum} ns`);
    }));
}

test('udp response: an echo dropping every 10th datagram loses exactly 1 in 10', () =>
  withPeer(() => dropEveryNth(10), async (p) => {
    const r = await responseTime({ host, port: p.port, protocol: 'udp', iterations: 100, warmup: 0, timeoutMs: 100 });
    assert.is(r.sent, 100);
    assert.is(r.lost, 10);
    assert.is(r.received, 90);
    assert.is(r.lossPercent, 10);
    assert.is(r.latency.count, 90);
  }));

test('streaming: an echo dropping every 10th datagram loses exactly 1 in 10', () =>
  withPeer(() => dropEveryNth(10), async (p) => {
    const r = await streaming({ host, port: p.port, rateMbps: 2, size: 500, durationS: 0.5 });
    assert.is(r.sent, 250);
    assert.is(p.count.received, 250, 'every datagram reached the peer');
    assert.is(r.lost, 25);
    assert.is(r.received, 225);
    assert.is(r.lossPercent, 10);
    assert.is(r.duplicates, 0);
    // Rates from the counts over the sending time, in Mbit/s.
    assert.ok(Math.abs(r.sentMbps - (r.sent * 500 * 8 * 1e3) / r.durationNs) < 1e-6 * r.sentMbps, `sent ${r.sentMbps}`);
    assert.ok(Math.abs(r.receivedMbps - (r.received * 500 * 8 * 1e3) / r.durationNs) < 1e-6 * r.receivedMbps, `received ${r.receivedMbps}`);
    assert.ok(r.sentMbps > 1.8 && r.sentMbps < 2.2, `sent ${r.sentMbps} Mbit/s at a 2 Mbit/s target`);
  }));

test('tcp throughput: the reported Mbit/s is the receiver’s byte count over the time', () =>
  withPeer(() => countingReceiver(), async (p) => {
    const t0 = process.hrtime.bigint();
    const r = await throughput({ host, port: p.port, bytes: 20_000_000, size: 65536 });
    const callNs = Number(process.hrtime.bigint() - t0);
    assert.is(p.count.bytes, 20_000_000);
    assert.is(r.bytes, p.count.bytes);
    assert.ok(r.receiverConfirmed);
    const receiverSpanNs = Number(p.count.lastAtNs - p.count.firstAtNs);
    assert.ok(r.durationNs >= receiverSpanNs * 0.95, `duration ${r.durationNs} ns, receiver saw bytes for ${receiverSpanNs} ns`);
    assert.ok(r.durationNs <= callNs, `duration ${r.durationNs} ns, the call took ${callNs} ns`);
    const expected = (p.count.bytes * 8) / (r.durationNs / 1e9) / 1e6;
    assert.ok(Math.abs(r.Mbps - expected) < 1e-9 * expected, `${r.Mbps} vs ${expected} Mbit/s`);
  }));

test('udp throughput: the receiver’s own count is what is reported, losses included', () =>
  withPeer(() => honestCounter(), async (p) => {
    const r = await throughput({ host, port: p.port, protocol: 'udp', bytes: 2_000_000, size: 1000 });
    assert.ok(r.receiverConfirmed);
    assert.is(r.datagramsSent, 2000);
    assert.is(r.datagramsReceived, p.datagrams());
    assert.is(r.bytesReceived, p.datagrams() * 1000);
    assert.is(r.lost, 2000 - p.datagrams());
    const expected = (p.datagrams() * 1000 * 8) / (r.durationNs / 1e9) / 1e6;
    assert.ok(Math.abs(r.Mbps - expected) < 1e-9 * Math.max(expected, 1), `${r.Mbps} vs ${expected}`);
  }));

/** A search from an 8 Mbit/s ceiling (2% loss allowed) against a 2 Mbit/s limit: it bisected and landed near it. */
function searchedNear2Mbps(s: { maxRateMbps: number; trials: { targetRateMbps: number; lossPercent: number; pass: boolean }[] }): void {
  assert.ok(s.trials.length >= 4, `${s.trials.length} trials: the bisection ran`);
  assert.is(s.trials[0].targetRateMbps, 8);
  assert.is(s.trials[0].pass, false, 'the ceiling (8 Mbit/s) is over the limit');
  for (const t of s.trials) assert.is(t.pass, t.lossPercent <= 2);
  // Every trial well above the limit failed, every one well below passed.
  for (const t of s.trials) {
    if (t.targetRateMbps > 2.6) assert.is(t.pass, false, `${t.targetRateMbps} Mbit/s passed`);
    if (t.targetRateMbps < 1.4) assert.is(t.pass, true, `${t.targetRateMbps} Mbit/s failed`);
  }
  assert.ok(s.maxRateMbps >= 1.4 && s.maxRateMbps <= 2.6, `found ${s.maxRateMbps} Mbit/s for a 2 Mbit/s limit`);
}

test('streaming search: against an echo limited to 500 datagrams/s (2 Mbit/s at 500 B), the search bisects and lands near it', () =>
  withPeer(() => rateLimitedEcho(500), async (p) => {
    // 0.6 s trials: the peer's 100 ms burst adds at most 1/6 to what a trial can pass.
    const r = await streaming({ host, port: p.port, size: 500, rateMbps: 8, durationS: 0.6, findMaxRate: true, lossThresholdPercent: 2, maxTrials: 7 });
    searchedNear2Mbps(r.search!);
  }));

/**
 * A rate search cancelled after 1 s (0.4 s trials from 8 Mbit/s against a 2 Mbit/s peer)
 * rejects with an AbortError whose `partial` is a trial's own result — the best passing one,
 * else the first — with the trials done so far. `rateOf` and `mbpsOf` read a result's asked
 * rate and measured rate.
 */
async function cancelledSearch<R>(search: (signal: AbortSignal) => Promise<R>, rateOf: (r: R) => number, mbpsOf: (r: R) => number): Promise<void> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 1000);
  const e = await search(ac.signal).then(() => null, (x) => x);
  clearTimeout(t);
  assert.ok(e, 'the search was cancelled');
  assert.is(e.name, 'AbortError');
  const s = e.partial?.search;
  assert.ok(s && s.trials.length >= 1 && s.trials.length < 7, `partial trials: ${JSON.stringify(s?.trials)}`);
  assert.is(s.trials[0].targetRateMbps, 8);
  assert.is(s.trials[0].pass, false);
  const passed = s.trials.filter((x: { pass: boolean }) => x.pass);
  assert.is(rateOf(e.partial), passed.length ? passed.at(-1).targetRateMbps : 8);
  assert.is(s.maxRateMbps, passed.length ? mbpsOf(e.partial) : 0);
}

test('streaming search: cancelled mid-search, it rejects with the trials done so far as partial', () =>
  withPeer(() => rateLimitedEcho(500), (p) =>
    cancelledSearch((signal) => streaming({ host, port: p.port, size: 500, rateMbps: 8, durationS: 0.4, findMaxRate: true, lossThresholdPercent: 2, maxTrials: 7, signal }),
      (r) => r.config.targetRateMbps, (r) => r.receivedMbps)));

test('one-way UDP search: against a receiver taking 500 datagrams/s (2 Mbit/s at 500 B), the search bisects on its count and lands near it', () =>
  withPeer(() => honestCounter({ pps: 500 }), async (p) => {
    const r = await throughput({ host, port: p.port, protocol: 'udp', size: 500, rateMbps: 8, durationS: 0.6, findMaxRate: true, lossThresholdPercent: 2, maxTrials: 7 });
    const s = r.search!;
    searchedNear2Mbps(s);
    // The result is the best passing trial's: its rate is the one the search reports.
    assert.ok(r.receiverConfirmed);
    assert.is(r.Mbps, s.maxRateMbps);
    assert.ok(r.lossPercent! <= 2);
  }));

test('one-way UDP search: a receiver that reports no count (a blackhole, a standard discard) fails the search, never passes a trial', () =>
  withPeer(() => silentUdp(), async (p) => {
    const e = await throughput({ host, port: p.port, protocol: 'udp', size: 500, rateMbps: 2, durationS: 0.1, findMaxRate: true }).then(() => null, (x) => x);
    assert.ok(e, 'the search failed');
    assert.is(e.code, 'ERR_UMLPERF_UNCONFIRMED');
    assert.match(e.message, /did not report its count/);
  }));

test('one-way UDP search: cancelled mid-search, it rejects with the trials done so far as partial', () =>
  withPeer(() => honestCounter({ pps: 500 }), (p) =>
    cancelledSearch((signal) => throughput({ host, port: p.port, protocol: 'udp', size: 500, rateMbps: 8, durationS: 0.4, findMaxRate: true, lossThresholdPercent: 2, maxTrials: 7, signal }),
      (r) => r.config.rateMbps ?? NaN, (r) => r.Mbps)));

test('one-way UDP search: what it cannot do is a usage error, before anything is sent', async () => {
  for (const [o, re] of [
    [{ findMaxRate: true }, /findMaxRate is UDP only/],
    [{ protocol: 'udp', findMaxRate: true, reverse: true }, /not with reverse or bidir/],
    [{ protocol: 'udp', findMaxRate: true, parallel: 2 }, /one stream/],
    [{ protocol: 'udp', findMaxRate: true, bytes: 1000 }, /durationS, not bytes/],
    [{ protocol: 'udp', lossThresholdPercent: 1 }, /go with findMaxRate/],
    [{ protocol: 'udp', findMaxRate: 'yes' }, /findMaxRate must be true or false/],
  ] as const) {
    const e = await throughput({ host, port: 9, durationS: 0.1, ...o } as never).then(() => null, (x) => x);
    assert.ok(e, JSON.stringify(o));
    assert.is(e.name, 'UsageError', `${JSON.stringify(o)}: ${e.message}`);
    assert.match(e.message, re);
  }
});

test('the endpoint echoes exactly the bytes sent, never more (TCP stream, UDP datagrams)', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    // TCP: 1 MiB of random bytes in uneven writes; after our FIN the endpoint closes.
    const sent = randomBytes(1 << 20);
    const back = await new Promise<Buffer>((res, rej) => {
      const got: Buffer[] = [];
      const c = net.connect(ep.echoPort, host);
      const t = setTimeout(() => c.destroy(new Error('no close within 20 s')), 20_000);
      c.on('connect', () => {
        for (let off = 0; off < sent.length; ) {
          const n = Math.min(1 + Math.floor(Math.random() * 70_000), sent.length - off);
          c.write(sent.subarray(off, off + n));
          off += n;
        }
        c.end();
      });
      c.on('data', (d) => got.push(d));
      c.on('error', rej);
      c.on('close', () => {
        clearTimeout(t);
        res(Buffer.concat(got));
      });
    });
    assert.is(back.length, sent.length);
    assert.ok(back.equals(sent), 'TCP: the same bytes in the same order');

    // UDP: each reply is its request, one reply per request.
    const s = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    s.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => s.bind(0, host, () => r()));
    const requests = [1, 8, 100, 1472, 9000, 65507].map((n) => randomBytes(n));
    try {
      for (const q of requests) {
        s.send(q, ep.echoPort, host);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      s.close();
    }
    assert.is(replies.length, requests.length);
    for (let i = 0; i < requests.length; i++) assert.ok(replies[i].equals(requests[i]), `datagram of ${requests[i].length} bytes`);
  } finally {
    await ep.close();
  }
});

test.run();
