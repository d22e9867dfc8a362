// What probes compute from the native counts, checked against the definitions and against the
// endpoint's own counts: Mbit/s, requests per second, loss. Loopback only, a fraction of a second.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startEndpoint, type Endpoint } from '../src/endpoint.js';
import { responseTime, streaming, throughput } from '../src/probes.js';
import { summarize } from '../src/stats.js';

let ep: Endpoint;
test.before(async () => {
  ep = await startEndpoint({ port: 0 });
});
test.after(async () => {
  await ep.close();
});

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

test('response: statistics of the samples kept, requests per second, loss as a percentage', async () => {
  const before = ep.stats().udpEchoed;
  const r = await responseTime({ host: '127.0.0.1', port: ep.echoPort, protocol: 'udp', size: 48, iterations: 300, warmup: 7 });
  // Every request and warm-up reached the echo once, less any UDP lost on the way (the
  // endpoint's counter may trail its reply by a moment).
  const end = Date.now() + 2000;
  while (ep.stats().udpEchoed - before < 307 - r.lost && Date.now() < end) await new Promise((f) => setTimeout(f, 10));
  const echoed = ep.stats().udpEchoed - before;
  assert.ok(echoed >= 307 - r.lost && echoed <= 307, `echoed ${echoed}, lost ${r.lost}`);
  assert.is(r.sent, 300);
  assert.is(r.received, 300 - r.lost);
  assert.is(r.samplesNs!.length, r.received);
  assert.equal(r.latency, summarize(r.samplesNs!));
  assert.ok(close(r.lossPercent, (100 * r.lost) / r.sent));
  assert.ok(close(r.requestsPerSecond, (r.received * 1e9) / r.durationNs), `${r.requestsPerSecond}/s`);
  assert.equal([r.kind, r.config.size, r.config.iterations, r.config.warmup, r.config.protocol], ['response', 48, 300, 7, 'udp']);
  const lean = await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 10, keepSamples: false });
  assert.is(lean.samplesNs, undefined);
  assert.is(lean.latency.count, 10);
});

test('TCP throughput: bytes the endpoint discarded, Mbit/s = bytes × 8 / µs', async () => {
  const before = ep.stats().discardedBytes;
  const r = await throughput({ host: '127.0.0.1', port: ep.discardPort, bytes: 3_000_000 });
  assert.is(ep.stats().discardedBytes - before, 3_000_000, 'the receiver took every byte');
  assert.is(r.bytes, 3_000_000);
  assert.is(r.bytesReceived, 3_000_000);
  assert.is(r.receiverConfirmed, true);
  assert.ok(close(r.Mbps, (r.bytes * 8) / (r.durationNs / 1e3)), `${r.Mbps} Mbps`);
  assert.ok(close(r.sentMbps, (r.bytesSent * 8) / (r.sendDurationNs / 1e3)));
  assert.equal([r.lost, r.lossPercent, r.datagramsSent, r.datagramsReceived], [null, null, null, null]);
  // Default sizes: 256 KiB per write, and 1 MiB per read when we only receive.
  assert.equal([r.kind, r.config.protocol, r.config.size, r.config.bytes, r.config.durationS, r.config.port], ['throughput', 'tcp', 262144, 3_000_000, null, ep.discardPort]);
  const rev = await throughput({ host: '127.0.0.1', port: ep.chargenPort, reverse: true, durationS: 0.05 });
  assert.equal([rev.config.direction, rev.config.size], ['receive', 1048576]);
});

test('UDP throughput: what the receiver counted, and loss from datagram counts', async () => {
  const r = await throughput({ host: '127.0.0.1', port: ep.discardPort, protocol: 'udp', size: 1000, durationS: 0.05 });
  assert.is(r.receiverConfirmed, true);
  assert.is(r.bytes, r.bytesReceived);
  assert.is(r.lost, r.datagramsSent! - r.datagramsReceived!);
  assert.ok(close(r.lossPercent!, (100 * r.lost!) / r.datagramsSent!));
  assert.ok(close(r.Mbps, (r.bytesReceived! * 8) / (r.durationNs / 1e3)));
  assert.ok(close(r.sentMbps, (r.bytesSent * 8) / (r.sendDurationNs / 1e3)));
  assert.is(r.bytesSent, r.datagramsSent! * 1000);
  assert.equal([r.config.size, r.config.bytes, r.config.durationS], [1000, null, 0.05]);
});

test('streaming: loss as a percentage of what was sent; RTT statistics', async () => {
  const r = await streaming({ host: '127.0.0.1', port: ep.echoPort, rateMbps: 5, durationS: 0.05, size: 500 });
  assert.is(r.received + r.lost, r.sent);
  assert.ok(close(r.lossPercent, (100 * r.lost) / r.sent));
  assert.is(r.latency.count, r.received);
  assert.equal([r.kind, r.config.size, r.config.targetRateMbps, r.config.durationS, r.config.protocol], ['stream', 500, 5, 0.05, 'udp']);
});

test.run();
