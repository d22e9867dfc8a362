// Reverse, bidirectional and parallel throughput, and interval reports: against sources and
// receivers whose counts are known exactly, and against the endpoint's chargen source.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointBinary, spawnEndpoint, startEndpoint, throughput, type ThroughputInterval, type ThroughputIntervalEvent } from '../src/index.js';
import { countingReceiver, countingSource, silentTcp, withPeer, type Peer } from './fixtures/peers.js';
import { runCli, jsonResult } from './helpers.js';

const host = '127.0.0.1';


const mbpsOf = (bytes: number, ns: number) => (bytes * 8e3) / ns;
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

test('reverse by bytes: exactly the bytes asked for are received from the source, Mbit/s is bytes over the receive time', () =>
  withPeer(() => countingSource(), async (p) => {
    const r = await throughput({ host, port: p.port, reverse: true, bytes: 5_000_000 });
    assert.is(r.config.direction, 'receive');
    assert.is(r.sent, null);
    assert.ok(r.received);
    assert.is(r.received!.bytes, 5_000_000);
    assert.is(r.bytes, 5_000_000);
    assert.is(r.bytesSent, 0);
    assert.ok(p.count.bytes >= 5_000_000, `the source wrote ${p.count.bytes}`);
    assert.ok(r.received!.durationNs > 0);
    assert.ok(close(r.received!.Mbps, mbpsOf(5_000_000, r.received!.durationNs)));
    assert.ok(close(r.Mbps, r.received!.Mbps));
    assert.is(r.received!.retransmits, null, 'the sender is the far end: its retransmits are not ours to see');
  }));

test('reverse from a source paced at ~10.5 Mbit/s reads no faster than the source sends', () =>
  withPeer(() => countingSource({ everyMs: 50, chunk: 65536 }), async (p) => {
    const r = await throughput({ host, port: p.port, reverse: true, durationS: 0.6 });
    const got = r.received!.bytes;
    assert.ok(got > 0 && got <= p.count.bytes, `received ${got} of ${p.count.bytes} written`);
    // 65536 B per 50 ms, plus the first chunk at once: an upper bound whatever the load.
    const most = 65536 * (Math.floor(r.received!.durationNs / 50e6) + 2);
    assert.ok(got <= most, `received ${got} in ${r.received!.durationNs} ns, the source cannot have sent more than ${most}`);
  }));

test('reverse: a source that closes before the run ends is ERR_UMLPERF_PEER_CLOSED', () =>
  withPeer(() => countingSource({ totalBytes: 100_000 }), async (p) => {
    const e = await throughput({ host, port: p.port, reverse: true, bytes: 1_000_000 }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_PEER_CLOSED', String(e));
    assert.match(e.message, /after 100000 bytes/);
  }));

test('bidir: one direction failing ends the run at once with its own error, not the cancel it caused', async () => {
  const sink = await countingReceiver();
  const source = await countingSource({ totalBytes: 100_000 });
  try {
    const t0 = Date.now();
    const e = await throughput({ host, port: sink.port, sourcePort: source.port, bidir: true, parallel: 2, durationS: 30 }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_PEER_CLOSED', String(e));
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms of a 30 s run`);
  } finally {
    await sink.close();
    await source.close();
  }
});

test('reverse: a source that never sends fails with ETIMEDOUT after the stall limit, not at the run end', () =>
  withPeer(() => silentTcp(), async (p) => {
    const t0 = Date.now();
    const e = await throughput({ host, port: p.port, reverse: true, durationS: 60 }).catch((x) => x);
    assert.is(e.code, 'ETIMEDOUT', String(e));
    assert.ok(Date.now() - t0 < 30_000);
  }));

test('reverse against the endpoint: chargen serves RFC 864 lines, and the probe counts what it sends', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    assert.ok(ep.chargenPort > 0);
    // The pattern: 72 printable characters and CR LF, each line starting one character later.
    const head = await new Promise<string>((resolve, reject) => {
      const s = net.connect(ep.chargenPort, host);
      let text = '';
      s.on('data', (d) => {
        text += d.toString('latin1');
        if (text.length >= 148) {
          s.destroy();
          resolve(text.slice(0, 148));
        }
      });
      s.on('error', reject);
    });
    const line = (k: number) => Array.from({ length: 72 }, (_, i) => String.fromCharCode(32 + ((k + i) % 95))).join('') + '\r\n';
    assert.is(head, line(0) + line(1));

    const r = await throughput({ host, port: ep.chargenPort, reverse: true, bytes: 3_000_000 });
    assert.is(r.received!.bytes, 3_000_000);
    const s = ep.stats();
    assert.ok(s.chargenBytes >= 3_000_000, `chargen sent ${s.chargenBytes}`);
  } finally {
    await ep.close();
  }
});

test('chargen: a connection is closed at the time cap; the per-source limit holds', async () => {
  const ep = await startEndpoint({ port: 0, sourceMaxMs: 300, maxConnectionsPerSource: 2 });
  const socks: net.Socket[] = [];
  try {
    const closedAfter = (s: net.Socket) => new Promise<number>((r) => {
      const t0 = Date.now();
      s.on('close', () => r(Date.now() - t0));
    });
    const a = net.connect(ep.chargenPort, host);
    const b = net.connect(ep.chargenPort, host);
    socks.push(a, b);
    for (const s of socks) s.on('error', () => {}).on('data', () => {});
    await Promise.all(socks.map((s) => new Promise((r) => s.once('connect', r))));
    await new Promise((r) => setTimeout(r, 50));
    // A third connection from the same address is refused (accepted, then closed without data).
    const c = net.connect(ep.chargenPort, host);
    socks.push(c);
    let third = 0;
    c.on('data', (d) => (third += d.length)).on('error', () => {});
    const ms = await Promise.race([closedAfter(a), new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    assert.ok(ms >= 0, 'the chargen connection was closed by the cap');
    await new Promise((r) => setTimeout(r, 100));
    assert.is(third, 0, 'the connection over the per-source limit got nothing');
    const st = ep.stats();
    assert.ok(st.chargenCapped >= 1, `capped ${st.chargenCapped}`);
    assert.ok(st.tcpRefused >= 1, `refused ${st.tcpRefused}`);
  } finally {
    for (const s of socks) s.destroy();
    await ep.close();
  }
});

test('the reverse time cap of the endpoint ends a longer run with ERR_UMLPERF_PEER_CLOSED', async () => {
  const ep = await startEndpoint({ port: 0, sourceMaxMs: 200 });
  try {
    const e = await throughput({ host, port: ep.chargenPort, reverse: true, durationS: 20 }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_PEER_CLOSED', String(e));
  } finally {
    await ep.close();
  }
});

test('the static endpoint serves chargen too: reverse against it; its flags', async () => {
  const ep = await spawnEndpoint({ port: 0, exitWithParent: true });
  try {
    assert.ok(ep.chargenPort > 0);
    const r = await throughput({ host, port: ep.chargenPort, reverse: true, bytes: 2_000_000 });
    assert.is(r.received!.bytes, 2_000_000);
  } finally {
    await ep.close();
  }
  const bin = endpointBinary();
  for (const [args, re] of [
    [['--port', '7100', '--discard-port', '7102'], /chargen port must differ/],
    [['--port', '65534', '--discard-port', '7000'], /no room for the chargen port/],
    [['--source-max-s', '0'], /at least 1/],
  ] as [string[], RegExp][]) {
    const x = spawnSync(bin, args, { encoding: 'utf8', timeout: 5000 });
    assert.is(x.status, 2, `${args.join(' ')}: ${x.stderr}`);
    assert.match(x.stderr, re);
  }
});

test('bidir against the endpoint: both directions counted at once, each confirmed by its far end', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const r = await throughput({ host, port: ep.discardPort, sourcePort: ep.chargenPort, bidir: true, durationS: 0.5 });
    assert.is(r.config.direction, 'both');
    assert.ok(r.sent && r.received);
    assert.ok(r.sent!.bytes > 0 && r.received!.bytes > 0, `sent ${r.sent!.bytes}, received ${r.received!.bytes}`);
    assert.ok(r.receiverConfirmed);
    // Let the endpoint's threads finish counting.
    await new Promise((res) => setTimeout(res, 100));
    const s = ep.stats();
    assert.is(s.discardedBytes, r.sent!.bytes, 'the discard service read exactly what we report sent');
    assert.ok(s.chargenBytes >= r.received!.bytes);
    assert.ok(close(r.Mbps, r.sent!.Mbps + r.received!.Mbps));
    assert.is(r.bytes, r.sent!.bytes + r.received!.bytes);
  } finally {
    await ep.close();
  }
});

test('parallel 4 by bytes: every stream delivers its bytes, the total is their sum', () =>
  withPeer(() => countingReceiver(), async (p) => {
    const r = await throughput({ host, port: p.port, parallel: 4, bytes: 1_000_000 });
    assert.is(r.sent!.streams.length, 4);
    for (const s of r.sent!.streams) {
      assert.is(s.bytes, 1_000_000);
      assert.ok(s.confirmed);
      assert.ok(close(s.Mbps, mbpsOf(s.bytes, s.durationNs)));
    }
    assert.is(p.count.bytes, 4_000_000);
    assert.is(r.bytes, 4_000_000);
    assert.is(r.bytesSent, 4_000_000);
    assert.is(r.sent!.durationNs, Math.max(...r.sent!.streams.map((s) => s.durationNs)));
    assert.ok(close(r.Mbps, mbpsOf(4_000_000, r.sent!.durationNs)));
  }));

test('parallel reverse 3 from the endpoint, and parallel UDP: each stream counted by its receiver', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const r = await throughput({ host, port: ep.chargenPort, reverse: true, parallel: 3, bytes: 500_000 });
    assert.is(r.received!.streams.length, 3);
    assert.is(r.received!.bytes, 1_500_000);
    const u = await throughput({ host, port: ep.discardPort, protocol: 'udp', parallel: 2, durationS: 0.2, size: 1000 });
    assert.is(u.sent!.streams.length, 2);
    assert.ok(u.receiverConfirmed);
    assert.is(u.datagramsSent, u.sent!.streams.reduce((a, s) => a + s.bytes, 0) / 1000 + (u.lost ?? 0));
  } finally {
    await ep.close();
  }
});

function checkIntervals(iv: ThroughputInterval[], total: number, endNs: number) {
  assert.ok(iv.length >= 2, `${iv.length} intervals`);
  assert.is(iv[0].startNs, 0);
  for (let k = 1; k < iv.length; k++) assert.is(iv[k].startNs, iv[k - 1].endNs);
  for (const i of iv) {
    assert.ok(i.endNs > i.startNs);
    assert.ok(close(i.Mbps, mbpsOf(i.bytes, i.endNs - i.startNs)));
  }
  assert.is(iv.reduce((a, i) => a + i.bytes, 0), total);
  assert.ok(iv[iv.length - 1].endNs <= endNs);
}

test('intervals: per-interval bytes add up to the total, back to back, with TCP retransmits', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const r = await throughput({ host, port: ep.discardPort, durationS: 0.5, intervalMs: 100 });
    assert.ok(r.intervals);
    checkIntervals(r.intervals!, r.bytesSent, r.sendDurationNs);
    // Boundaries on the 100 ms grid (each taken at the first step past it).
    assert.ok(r.intervals![0].endNs >= 100e6);
    for (const i of r.intervals!) assert.type(i.retransmits, 'number');
    assert.ok(r.intervals!.length <= 6, `${r.intervals!.length} intervals in 0.5 s at 100 ms`);

    const rev = await throughput({ host, port: ep.chargenPort, reverse: true, durationS: 0.4, intervalMs: 100, parallel: 2 });
    checkIntervals(rev.intervals!, rev.received!.bytes, rev.durationNs);
    for (const s of rev.received!.streams) checkIntervals(s.intervals!, s.bytes, s.durationNs);
    assert.is(rev.intervals![0].retransmits, undefined, 'no retransmit counts for what the far end sends');
  } finally {
    await ep.close();
  }
});

test('onInterval: typed events per stream as the run goes, before it resolves, adding up to each stream', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const events: ThroughputIntervalEvent[] = [];
    let resolved = false;
    const p = throughput({
      host, port: ep.discardPort, sourcePort: ep.chargenPort, bidir: true, durationS: 0.5, intervalMs: 100,
      onInterval: (e) => {
        assert.not.ok(resolved, 'an event after the result');
        events.push(e);
      },
    });
    const r = await p;
    resolved = true;
    const byStream = [0, 1].map((k) => events.filter((e) => e.stream === k));
    assert.is(byStream[0][0].direction, 'send');
    assert.is(byStream[1][0].direction, 'receive');
    for (const [k, evs] of byStream.entries()) {
      const s = k === 0 ? r.sent!.streams[0] : r.received!.streams[0];
      assert.equal(evs.map(({ stream: _s, direction: _d, ...i }) => i), s.intervals);
    }
    assert.type(byStream[0][0].retransmits, 'number');
    assert.is(byStream[1][0].retransmits, undefined);
    // Without a listener, nothing is sent to JS, and asking for events without intervals is a mistake.
    const e = await throughput({ host, port: ep.discardPort, durationS: 0.1, onInterval: () => {} }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_USAGE');
  } finally {
    await ep.close();
  }
});

test('omit: the first part of the run is left out of every figure', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    for (const reverse of [false, true]) {
      const r = await throughput({ host, port: reverse ? ep.chargenPort : ep.discardPort, reverse, durationS: 0.6, intervalMs: 100, omitMs: 300 });
      const d = reverse ? r.received! : r.sent!;
      assert.is(r.config.omitMs, 300);
      assert.ok(r.intervals![0].startNs >= 300e6, `first kept interval starts at ${r.intervals![0].startNs}`);
      assert.is(r.intervals!.reduce((a, i) => a + i.bytes, 0), d.bytes);
      assert.ok(d.durationNs > 0 && d.durationNs < 0.6e9, `${d.durationNs} ns kept of a 0.6 s run`);
      assert.ok(close(d.Mbps, mbpsOf(d.bytes, d.durationNs)));
    }
    // Without intervals, the same cut, and nothing else in the result.
    const o = await throughput({ host, port: ep.discardPort, durationS: 0.4, omitMs: 200 });
    assert.is(o.intervals, undefined);
    assert.ok(o.sent!.durationNs < 0.4e9);
    for (const [opts, re] of [
      [{ protocol: 'udp' as const, durationS: 1, omitMs: 100 }, /TCP only/],
      [{ bytes: 1000, omitMs: 100 }, /durationS/],
      [{ durationS: 0.2, omitMs: 200 }, /shorter/],
      [{ durationS: 1, intervalMs: 300, omitMs: 200 }, /multiple/],
    ] as const) {
      const e = await throughput({ host, port: ep.discardPort, ...opts }).catch((x) => x);
      assert.is(e.code, 'ERR_UMLPERF_USAGE', String(e));
      assert.match(e.message, re);
    }
  } finally {
    await ep.close();
  }
});

test('no intervals unless asked', () =>
  withPeer(() => countingReceiver(), async (p) => {
    const r = await throughput({ host, port: p.port, bytes: 100_000 });
    assert.is(r.intervals, undefined);
    assert.is(r.sent!.streams[0].intervals, undefined);
  }));

test('bad options: reverse UDP by bytes, rate for TCP, both at once, parallel out of range, intervals too short', async () => {
  const bad = async (o: Parameters<typeof throughput>[0], re: RegExp) => {
    const e = await throughput(o).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_USAGE', String(e));
    assert.match(e.message, re);
  };
  await bad({ host, protocol: 'udp', reverse: true, bytes: 1000 }, /durationS, not bytes/);
  await bad({ host, protocol: 'udp', bidir: true, rateMbps: 0 }, /rateMbps/);
  await bad({ host, protocol: 'udp', reverse: true, size: 20 }, /at least 24/);
  await bad({ host, rateMbps: 10 }, /UDP only/);
  await bad({ host, reverse: true, bidir: true }, /not both/);
  await bad({ host, parallel: 0 }, /parallel/);
  await bad({ host, parallel: 129 }, /parallel/);
  await bad({ host, intervalMs: 1 }, /intervalMs/);
  await bad({ host, reverse: true, sourcePort: 9 }, /sourcePort/);
  await bad({ host, reverse: 'yes' as never }, /reverse/);
});

test('CLI: --bidir --parallel 2 --interval 100ms against its own endpoint, as JSON and as tables', () => {
  const j = runCli(['probe', 'throughput', '--bidir', '--parallel', '2', '--interval', '100ms', '--duration', '0.3s', '--json']);
  assert.is(j.status, 0, j.stderr);
  const r = jsonResult(j.stdout, 'probe').runs[0];
  assert.is(r.config.direction, 'both');
  assert.is(r.config.intervalMs, 100);
  assert.is(r.sent.streams.length, 2);
  assert.is(r.received.streams.length, 2);
  assert.ok(r.intervals.length >= 2);
  assert.type(r.intervals[0].Mbps, 'number');
  const t = runCli(['probe', 'throughput', '--reverse', '--parallel', '2', '--interval', '0.1s', '--duration', '0.3s']);
  assert.is(t.status, 0, t.stderr);
  assert.match(t.stdout, /TCP from 127\.0\.0\.1/);
  assert.match(t.stdout, /received total/);
  assert.match(t.stdout, /by interval/);
});

test('CLI: bad breadth flags are one-line usage errors (exit 2)', () => {
  for (const [args, re] of [
    [['--reverse', '--bidir'], /not both/],
    [['--reverse', '--protocol', 'udp', '--bytes', '1000'], /run for --duration, not bytes/],
    [['--rate', '10'], /UDP/],
    [['--parallel', '0'], /--parallel/],
    [['--interval', '5ms'], /--interval/],
    [['--interval', '2h'], /--interval must be a duration from 10ms to 3600s/],
    [['--source-port', '9000'], /--bidir/],
  ] as [string[], RegExp][]) {
    const r = runCli(['probe', 'throughput', '--host', '127.0.0.1', ...args]);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const e = runCli(['probe', 'response', '--host', '127.0.0.1', '--reverse']);
  assert.is(e.status, 2);
  assert.match(e.stderr, /applies to probe throughput only/);
});

test.run();
