// The loss-free rate search (RFC 2544 throughput) against a UDP echo of our own that drops
// whatever exceeds a known rate (a token bucket): the search must land near that rate, and
// every trial's verdict must follow its loss. In-process, on loopback, bounded in rate and time.
import dgram from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { streaming } from '../src/probes.js';

const LIMIT_MBPS = 8;
const SIZE = 1000;
// Depth of the bucket: what a 40 ms stall of this process lets pile up at the limit.
const DEPTH_BITS = LIMIT_MBPS * 1e6 * 0.04;

interface Limited {
  port: number;
  echoed: number;
  dropped: number;
  close(): Promise<void>;
}

function rateLimitedEcho(): Promise<Limited> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    let tokens = DEPTH_BITS;
    let last = process.hrtime.bigint();
    const state = { echoed: 0, dropped: 0 };
    sock.on('message', (msg, peer) => {
      const now = process.hrtime.bigint();
      tokens = Math.min(DEPTH_BITS, tokens + (Number(now - last) / 1e9) * LIMIT_MBPS * 1e6);
      last = now;
      const bits = msg.length * 8;
      if (tokens < bits) {
        state.dropped++;
        return;
      }
      tokens -= bits;
      state.echoed++;
      sock.send(msg, peer.port, peer.address);
    });
    sock.bind(0, '127.0.0.1', () =>
      resolve({
        port: sock.address().port,
        get echoed() { return state.echoed; },
        get dropped() { return state.dropped; },
        close: () => new Promise<void>((r) => sock.close(() => r())),
      }),
    );
  });
}

test('the search lands near the rate where loss begins, and each trial passes exactly when its loss is under the threshold', async () => {
  const echo = await rateLimitedEcho();
  try {
    const r = await streaming({ host: '127.0.0.1', port: echo.port, size: SIZE, rateMbps: 4 * LIMIT_MBPS, durationS: 0.25, findMaxRate: true, lossThresholdPercent: 5, maxTrials: 12 });
    const s = r.search!;
    const trials = s.trials.map((t) => `${t.targetRateMbps.toFixed(2)}→${t.receivedMbps.toFixed(2)} ${t.lossPercent.toFixed(1)}% ${t.pass ? 'pass' : 'fail'}`).join('; ');
    assert.ok(echo.dropped > 0, 'the limit was reached');
    // First trial at the ceiling, far above the limit: it fails and the bisection runs.
    assert.is(s.trials[0].targetRateMbps, 4 * LIMIT_MBPS);
    assert.is(s.trials[0].pass, false, trials);
    assert.ok(s.trials.length >= 4, trials);
    for (const t of s.trials) assert.is(t.pass, t.lossPercent <= 5, trials);
    // The bisection moves up after a pass and down after a failure.
    for (let i = 2; i < s.trials.length; i++) {
      const prev = s.trials[i - 1];
      const cur = s.trials[i];
      if (prev.pass) assert.ok(cur.targetRateMbps > prev.targetRateMbps, `after a pass the rate goes up: ${trials}`);
      else assert.ok(cur.targetRateMbps < prev.targetRateMbps, `after a failure the rate goes down: ${trials}`);
    }
    // What arrived at the best passing rate: near the limit (the bucket lets a little more through).
    assert.ok(s.maxRateMbps > 0.75 * LIMIT_MBPS && s.maxRateMbps < 1.35 * LIMIT_MBPS, `max ${s.maxRateMbps} Mbps; ${trials}`);
    const best = s.trials.filter((t) => t.pass).sort((a, b) => b.targetRateMbps - a.targetRateMbps)[0];
    assert.is(s.maxRateMbps, best.receivedMbps, 'the figure is what arrived in the best passing trial');
    assert.is(r.config.targetRateMbps, best.targetRateMbps, 'the result is that trial');
  } finally {
    await echo.close();
  }
});

test('a ceiling the peer takes: one trial, no bisection', async () => {
  const echo = await rateLimitedEcho();
  try {
    const r = await streaming({ host: '127.0.0.1', port: echo.port, size: SIZE, rateMbps: LIMIT_MBPS / 4, durationS: 0.2, findMaxRate: true, lossThresholdPercent: 5, maxTrials: 12 });
    assert.is(r.search!.trials.length, 1);
    assert.is(r.search!.trials[0].pass, true);
    assert.ok(Math.abs(r.search!.maxRateMbps - LIMIT_MBPS / 4) < 0.2 * LIMIT_MBPS / 4, `max ${r.search!.maxRateMbps}`);
  } finally {
    await echo.close();
  }
});

test.run();
