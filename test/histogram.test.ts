// The bounded-memory histogram: its percentiles against exact ones over the same samples,
// within its relative error, in TypeScript and from the native probes (both recorded at once).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionRate, responseTime, startEndpoint } from '../src/index.js';
import { histogramStats, LogHistogram, type HistogramData } from '../src/histogram.js';
import { native } from '../src/native.js';
import { keepHistogram, MAX_DEFAULT_SAMPLES } from '../src/probes.js';
import { prng as rng, summarize, type Stats } from '../src/stats.js';

const ALPHA = 0.001;


/** Every percentile within alpha of the exact one (+1 ns for the rounding of both to integers). */
function assertClose(h: Stats, x: Stats, what: string) {
  assert.is(h.count, x.count, `${what}: count`);
  assert.is(h.minNs, x.minNs, `${what}: min`);
  assert.is(h.maxNs, x.maxNs, `${what}: max`);
  assert.ok(Math.abs(h.meanNs - x.meanNs) <= 1, `${what}: mean ${h.meanNs} vs ${x.meanNs}`);
  assert.ok(Math.abs(h.stddevNs - x.stddevNs) <= Math.max(1, 1e-6 * x.stddevNs), `${what}: stddev ${h.stddevNs} vs ${x.stddevNs}`);
  for (const k of ['p50Ns', 'p90Ns', 'p99Ns', 'p999Ns'] as const) {
    const err = Math.abs(h[k] - x[k]);
    assert.ok(err <= ALPHA * x[k] + 1, `${what}: ${k} ${h[k]} vs exact ${x[k]} (error ${(err / x[k]) * 100}%)`);
  }
}

const sets: [string, (r: () => number, i: number) => number][] = [
  ['log-normal around 50 µs', (r) => Math.round(50_000 * Math.exp(0.5 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())))],
  ['uniform 1 ns .. 10 s', (r) => 1 + Math.floor(r() * 1e10)],
  ['bimodal with rare 10 ms stalls', (r) => (r() < 0.005 ? 10_000_000 + Math.floor(r() * 1e6) : 20_000 + Math.floor(r() * 3000))],
  ['small integers with zeros', (r) => Math.floor(r() * 40)],
  ['a constant', () => 123_456],
];

test('histogram percentiles are within 0.1% of the exact ones; count, min, max, mean and stddev are exact', () => {
  for (const [name, gen] of sets) {
    for (const n of [1, 2, 7, 1000, 100_003]) {
      const r = rng(n + name.length);
      const xs = Array.from({ length: n }, (_, i) => gen(r, i));
      const h = new LogHistogram(ALPHA);
      for (const x of xs) h.record(x);
      assertClose(histogramStats(h), summarize(xs), `${name}, n=${n}`);
    }
  }
});

test('the histogram\'s memory is bounded by the range, not the count', () => {
  const h = new LogHistogram(ALPHA);
  const r = rng(3);
  for (let i = 0; i < 200_000; i++) h.record(1 + Math.floor(r() * 1e12));
  const len = h.counts.length;
  for (let i = 0; i < 200_000; i++) h.record(1 + Math.floor(r() * 1e12));
  assert.is(h.counts.length, len);
  assert.ok(len <= Math.ceil(Math.log(1e12) / Math.log((1 + ALPHA) / (1 - ALPHA))) + 1, `${len} buckets`);
  assert.is(h.count, 400_000);
});

test('the native histogram agrees with the exact samples of the same run (response time TCP and UDP, crr)', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    for (const protocol of ['tcp', 'udp'] as const) {
      const r = await native().responseTime({ host: '127.0.0.1', port: ep.echoPort, protocol, wait: 'block', busyPollUs: 50, size: 64, iterations: 3000, warmup: 10, intervalNs: 0, timeoutNs: 1e9, histogram: true, samples: true }).promise;
      assert.ok(r.histogram, 'histogram returned');
      assertClose(histogramStats(r.histogram as HistogramData), summarize(r.rttNs), `response ${protocol}`);
    }
    const c = await native().crr({ host: '127.0.0.1', port: ep.echoPort, protocol: 'tcp', wait: 'block', busyPollUs: 50, size: 1, transactions: 300, warmup: 5, timeoutNs: 5e9, histogram: true, samples: true }).promise;
    assertClose(histogramStats(c.histogram as HistogramData), summarize(c.latencyNs), 'crr');
  } finally {
    await ep.close();
  }
});

test('keepSamples false: no samples in the result, statistics from the histogram; the default switches past 1e6', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const r = await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 500, keepSamples: false });
    assert.is(r.samplesNs, undefined);
    assert.is(r.latency.count, r.received);
    assert.ok(r.latency.p50Ns > 0 && r.latency.p50Ns <= r.latency.p99Ns && r.latency.p99Ns <= r.latency.maxNs);
    const k = await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 50 });
    assert.is(k.samplesNs!.length, 50);
    const c = await connectionRate({ host: '127.0.0.1', port: ep.udpSourcePort, transactions: 50, keepSamples: false });
    assert.is(c.samplesNs, undefined);
    assert.is(c.latency.count, 50);
    const bad = await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 5, keepSamples: 'no' as never }).catch((x) => x);
    assert.is(bad.code, 'ERR_UMLPERF_USAGE');
  } finally {
    await ep.close();
  }
  assert.is(keepHistogram(undefined, MAX_DEFAULT_SAMPLES), false);
  assert.is(keepHistogram(undefined, MAX_DEFAULT_SAMPLES + 1), true);
  assert.is(keepHistogram(true, 10 * MAX_DEFAULT_SAMPLES), false);
  assert.is(keepHistogram(false, 1), true);
});

test.run();
