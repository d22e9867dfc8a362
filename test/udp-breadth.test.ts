// UDP both ways: reverse UDP from a scripted source whose every datagram is known (loss,
// reordering, duplicates by sequence number), hostile and silent sources, the endpoint's UDP
// source and its bounds (rate, time, reserved ports, the peer's address only, close and ICMP
// stop it), and paced one-way UDP whose reordering the receiver counts.
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startEndpoint, throughput, type Endpoint } from '../src/index.js';
import { honestCounter, withPeer, type Peer } from './fixtures/peers.js';
import { assertResult, freePort, jsonResult, runCli, socat, stop } from './helpers.js';

const host = '127.0.0.1';
const MAGIC = 0x504c4d55;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// wire.h: the 64-byte control messages.
function header(kind: number, session: bigint, seq = 0n, size = 64): Buffer {
  const b = Buffer.alloc(size, 0x2e);
  b.fill(0, 0, 24);
  b.writeUInt32LE(MAGIC, 0);
  b[4] = kind;
  b.writeBigUInt64LE(session, 8);
  b.writeBigUInt64LE(seq, 16);
  return b;
}
function reply(kind: number, session: bigint, datagrams = 0n, bytes = 0n): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(MAGIC, 0);
  b[4] = kind;
  b.writeBigUInt64LE(session, 8);
  b.writeBigUInt64LE(datagrams, 24);
  b.writeBigUInt64LE(bytes, 32);
  return b;
}
interface Request { session: bigint; bitsPerSecond: bigint; durationNs: bigint; size: number; udpPort: number }
const parseRequest = (m: Buffer): Request => ({
  session: m.readBigUInt64LE(8),
  bitsPerSecond: m.readBigUInt64LE(24),
  durationNs: m.readBigUInt64LE(32),
  size: m.readUInt32LE(48),
  udpPort: m.readUInt16LE(52),
});

type Script = (c: net.Socket, rq: Request, send: (seq: bigint, o?: { session?: bigint; size?: number }) => Promise<void>) => Promise<void> | void;

/**
 * A UDP source written from the wire format, not from the endpoint: it reads the request on its
 * TCP control connection and then follows `script` (what to send, and what to report).
 */
async function scriptedSource(script: Script): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const u = dgram.createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, host, () => r()));
  const count = { received: 0, answered: 0, bytes: 0, firstAtNs: 0n, lastAtNs: 0n };
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c)).on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 64) return;
      c.off('data', onData);
      count.received++;
      const rq = parseRequest(buf);
      const send = (seq: bigint, o: { session?: bigint; size?: number } = {}) =>
        new Promise<void>((r) => u.send(header(1, o.session ?? rq.session, seq, o.size ?? rq.size), rq.udpPort, c.remoteAddress!, () => r()));
      void Promise.resolve(script(c, rq, send)).catch(() => c.destroy());
    };
    c.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const port = (server.address() as { port: number }).port;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      u.close();
      server.close(() => r());
    }));
  setTimeout(close, 60_000).unref();
  return { port, count, close };
}

const accept = (c: net.Socket, rq: Request) => c.write(reply(5, rq.session));

test('reverse UDP from a scripted source: distinct, duplicates, reordered and lost exactly as sent; foreign datagrams not counted', () =>
  withPeer(
    () =>
      scriptedSource(async (c, rq, send) => {
        accept(c, rq);
        // 0 1 2 4 3 5 5 7, then 8 from another session and 9 of another size; 9 reported sent (6 and 8 lost).
        for (const s of [0n, 1n, 2n, 4n, 3n, 5n, 5n, 7n]) await send(s);
        await send(8n, { session: rq.session ^ 1n });
        await send(9n, { size: rq.size + 1 });
        await sleep(50);
        c.write(reply(7, rq.session, 9n, 9n * BigInt(rq.size)));
      }),
    async (p) => {
      const r = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, rateMbps: 5, durationS: 0.2, size: 100 });
      const s = r.received!.streams[0];
      assert.is(s.datagramsReceived, 7);
      assert.is(s.duplicates, 1);
      assert.is(s.reordered, 1);
      assert.is(s.datagramsSent, 9);
      assert.is(s.lost, 2);
      assert.is(r.lost, 2);
      assert.is(r.reordered, 1);
      assert.is(r.duplicates, 1);
      assert.is(r.received!.bytes, 700);
      assertResult(r, 'throughput');
      assert.ok(r.receiverConfirmed);
    },
  ));

test('reverse UDP: the request carries the rate, duration and size asked for', () => {
  let seen: Request | undefined;
  return withPeer(
    () =>
      scriptedSource((c, rq) => {
        seen = rq;
        accept(c, rq);
        c.write(reply(7, rq.session, 0n, 0n));
      }),
    async (p) => {
      const r = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, rateMbps: 12.5, durationS: 0.3, size: 200 });
      assert.ok(seen);
      assert.is(seen!.bitsPerSecond, 12_500_000n);
      assert.is(seen!.durationNs, 300_000_000n);
      assert.is(seen!.size, 200);
      assert.ok(seen!.udpPort >= 1024);
      assert.is(r.received!.bytes, 0);
      assert.is(r.lost, 0);
    },
  );
});

test('reverse UDP: intervals carry the loss of each interval', () =>
  withPeer(
    () =>
      scriptedSource(async (c, rq, send) => {
        accept(c, rq);
        // First interval: 0..9 with 3 and 4 missing; second: 10..19 with 15 missing.
        for (let s = 0n; s < 10n; s++) if (s !== 3n && s !== 4n) await send(s);
        await sleep(300);
        for (let s = 10n; s < 20n; s++) if (s !== 15n) await send(s);
        await sleep(50);
        c.write(reply(7, rq.session, 20n, 20n * BigInt(rq.size)));
      }),
    async (p) => {
      const r = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, rateMbps: 5, durationS: 0.6, size: 64, intervalMs: 100 });
      assert.is(r.lost, 3);
      const lost = r.intervals!.map((i) => i.lost ?? -1);
      assert.ok(lost.every((x) => x >= 0), JSON.stringify(lost));
      assert.is(lost.reduce((a, b) => a + b, 0), 3, JSON.stringify(r.intervals));
      assert.ok(lost.includes(2), `the first burst's 2 losses in one interval: ${JSON.stringify(lost)}`);
    },
  ));

test('reverse UDP against hostile sources: garbage answer, close before the report, a report below what arrived, an absurd sequence number', async () => {
  const cases: [Script, string][] = [
    [(c) => void c.write(Buffer.alloc(64, 0x41)), 'ERR_UMLPERF_PEER_BAD_REPLY'],
    [(c, rq) => { accept(c, rq); setTimeout(() => c.end(), 50); }, 'ERR_UMLPERF_PEER_CLOSED'],
    [async (c, rq, send) => { accept(c, rq); for (const s of [0n, 1n, 2n]) await send(s); await sleep(30); c.write(reply(7, rq.session, 1n, BigInt(rq.size))); }, 'ERR_UMLPERF_PEER_BAD_REPORT'],
    [async (c, rq, send) => { accept(c, rq); await send(1n << 40n); }, 'ERR_UMLPERF_PEER_WRONG_SEQUENCE'],
  ];
  for (const [script, code] of cases) {
    await withPeer(() => scriptedSource(script), async (p) => {
      const e = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, rateMbps: 1, durationS: 0.3, size: 64 }).catch((x) => x);
      assert.is(e.code, code, String(e));
    });
  }
});

test('reverse UDP: a chargen (a TCP source that is not a UDP source) is refused as not one', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const e = await throughput({ host, port: ep.chargenPort, protocol: 'udp', reverse: true, durationS: 0.3 }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_PEER_BAD_REPLY', String(e));
  } finally {
    await ep.close();
  }
});

test('reverse UDP: a source that floods duplicates and never reports is bounded by the run\'s time', () => {
  let timer: NodeJS.Timeout | undefined;
  return withPeer(
    () =>
      scriptedSource((c, rq, send) => {
        accept(c, rq);
        timer = setInterval(() => void send(0n), 1);
        c.on('close', () => clearInterval(timer));
      }),
    async (p) => {
      try {
        const t0 = Date.now();
        const e = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, rateMbps: 1, durationS: 0.3, size: 64 }).catch((x) => x);
        assert.is(e.code, 'ETIMEDOUT', String(e));
        assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
      } finally {
        clearInterval(timer);
      }
    },
  );
});

test('reverse UDP: a silent source times out, a cancel ends the wait at once', () =>
  withPeer(
    () => scriptedSource(() => {}),
    async (p) => {
      const t0 = Date.now();
      const e = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, durationS: 0.2 }).catch((x) => x);
      assert.is(e.code, 'ETIMEDOUT', String(e));
      assert.ok(Date.now() - t0 < 30_000);
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('enough')), 200);
      const t1 = Date.now();
      const a = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, durationS: 0.2, signal: ac.signal }).catch((x) => x);
      assert.is(a.name, 'AbortError', String(a));
      assert.ok(Date.now() - t1 < 4000, `cancel took ${Date.now() - t1} ms`);
    },
  ));

test('reverse UDP: a source that accepts and then sends nothing, nor reports, fails with ETIMEDOUT', () =>
  withPeer(
    () => scriptedSource((c, rq) => void accept(c, rq)),
    async (p) => {
      const t0 = Date.now();
      const e = await throughput({ host, port: p.port, protocol: 'udp', reverse: true, durationS: 0.1 }).catch((x) => x);
      assert.is(e.code, 'ETIMEDOUT', String(e));
      assert.ok(Date.now() - t0 < 30_000);
    },
  ));

async function withEndpoint<T>(o: Parameters<typeof startEndpoint>[0], f: (ep: Endpoint) => Promise<T>): Promise<T> {
  const ep = await startEndpoint({ port: 0, ...o });
  try {
    return await f(ep);
  } finally {
    await ep.close();
  }
}

test('reverse UDP against the endpoint: what arrives is at most what the source says it sent, at the rate asked', () =>
  withEndpoint({}, async (ep) => {
    const r = await throughput({ host, port: ep.udpSourcePort, protocol: 'udp', reverse: true, rateMbps: 20, durationS: 0.5, parallel: 2 });
    assert.is(r.received!.streams.length, 2);
    const sent = ep.stats().udpSourceDatagrams;
    assert.is(r.datagramsSent, sent, 'the source reports what its counter says');
    assert.ok(r.datagramsReceived! + r.lost! === sent);
    // The anchored pace never sends ahead of the schedule: at most rate x duration per stream (+1).
    const most = 2 * (Math.floor((20e6 * 0.5) / (1472 * 8)) + 1);
    assert.ok(sent <= most, `sent ${sent}, at most ${most}`);
    assert.ok(sent >= most / 4, `sent ${sent} of ${most}: the source is far behind its pace`);
  }));

test('the endpoint UDP source refuses over its rate cap, over its time cap, and to a reserved port', () =>
  withEndpoint({ udpSourceMaxMbps: 10, sourceMaxMs: 500 }, async (ep) => {
    const rate = await throughput({ host, port: ep.udpSourcePort, protocol: 'udp', reverse: true, rateMbps: 50, durationS: 0.2 }).catch((x) => x);
    assert.is(rate.code, 'ERR_UMLPERF_SOURCE_REFUSED', String(rate));
    assert.match(rate.message, /cap of 10 Mbit\/s/);
    const time = await throughput({ host, port: ep.udpSourcePort, protocol: 'udp', reverse: true, rateMbps: 5, durationS: 2 }).catch((x) => x);
    assert.is(time.code, 'ERR_UMLPERF_SOURCE_REFUSED', String(time));
    assert.match(time.message, /cap of 500 ms/);
    // A request by hand for a reserved port (discard, 9).
    const answer = await control(ep.udpSourcePort, host, { port: 9 });
    assert.is(answer[4], 6, 'refused');
    assert.is(answer.readUInt32LE(40), 4, 'reason: reserved port');
    assert.is(ep.stats().udpSourceRefused, 3);
    assert.is(ep.stats().udpSourceDatagrams, 0);
  }));

/** Sends one request by hand on a control connection from `from`; resolves with the first 64-byte answer. */
function control(port: number, from: string, o: { port: number; mbps?: number; ms?: number; size?: number }, keep?: (s: net.Socket) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, localAddress: from });
    s.on('error', reject);
    let buf = Buffer.alloc(0);
    s.on('connect', () => {
      const rq = header(4, 42n);
      rq.fill(0, 24);
      rq.writeBigUInt64LE(BigInt(Math.round((o.mbps ?? 1) * 1e6)), 24);
      rq.writeBigUInt64LE(BigInt((o.ms ?? 200) * 1e6), 32);
      rq.writeUInt32LE(o.size ?? 64, 48);
      rq.writeUInt16LE(o.port, 52);
      s.write(rq);
      keep?.(s);
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 64) {
        if (!keep) s.destroy();
        resolve(buf.subarray(0, 64));
      }
    });
    setTimeout(() => reject(new Error('no answer')), 10_000).unref();
  });
}

test('the endpoint UDP source sends only to the control connection\'s own address', () =>
  withEndpoint({ bind: '0.0.0.0' }, async (ep) => {
    // Two sockets on one port number, on 127.0.0.1 and on 127.0.0.2; the control comes from .2.
    const port = await freePort();
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    let atA = 0;
    let atB = 0;
    a.on('message', () => atA++);
    b.on('message', () => atB++);
    try {
      await new Promise<void>((r) => a.bind(port, '127.0.0.1', () => r()));
      await new Promise<void>((r) => b.bind(port, '127.0.0.2', () => r()));
      let sock: net.Socket | undefined;
      const answer = await control(ep.udpSourcePort, '127.0.0.2', { port, mbps: 1, ms: 200 }, (s) => (sock = s));
      assert.is(answer[4], 5, 'accepted');
      await sleep(400);
      sock?.destroy();
      assert.ok(atB > 0, 'the asking address got the stream');
      assert.is(atA, 0, 'no other address got anything');
    } finally {
      a.close();
      b.close();
    }
  }));

test('the endpoint UDP source stops when the control connection closes, and when the port is closed (ICMP)', () =>
  withEndpoint({}, async (ep) => {
    const settle = async () => {
      let prev = -1;
      for (let i = 0; i < 50; i++) {
        await sleep(100);
        const n = ep.stats().udpSourceDatagrams;
        if (n === prev) return n;
        prev = n;
      }
      return -1;
    };
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.bind(0, host, () => r()));
    const port = (u.address() as { port: number }).port;
    let sock: net.Socket | undefined;
    await control(ep.udpSourcePort, host, { port, mbps: 5, ms: 20_000 }, (s) => (sock = s));
    await sleep(200);
    sock!.destroy();
    const afterClose = await settle();
    assert.ok(afterClose > 0, `the stream ran, then stopped (${afterClose})`);
    // Now a stream to a port nobody listens on: ICMP port unreachable ends it.
    u.close();
    const t0 = Date.now();
    let sock2: net.Socket | undefined;
    const done = new Promise<Buffer>((resolve) => {
      void control(ep.udpSourcePort, host, { port, mbps: 5, ms: 20_000 }, (s) => {
        sock2 = s;
        let buf = Buffer.alloc(0);
        s.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 128) resolve(buf.subarray(64, 128));
        });
      });
    });
    const doneMsg = await Promise.race([done, sleep(10_000).then(() => null)]);
    sock2?.destroy();
    assert.ok(doneMsg, 'the source reported the end of a stream to a closed port long before its 20 s');
    assert.is(doneMsg![4], 7);
    assert.ok(Date.now() - t0 < 10_000);
  }));

test('a control connection that asks nothing is closed (the request deadline)', () =>
  withEndpoint({}, async (ep) => {
    const s = net.connect(ep.udpSourcePort, host);
    s.on('error', () => {});
    const t0 = Date.now();
    const closed = await new Promise<boolean>((r) => {
      s.on('close', () => r(true));
      setTimeout(() => r(false), 20_000).unref();
    });
    assert.ok(closed, 'closed');
    assert.ok(Date.now() - t0 >= 1000, 'not before the request deadline');
    assert.ok(ep.stats().udpSourceRefused >= 1);
  }));

test('paced UDP into discard: the pace holds, the endpoint counts reordering (0 here), a 40-byte counter leaves it unknown', async () => {
  await withEndpoint({}, async (ep) => {
    const r = await throughput({ host, port: ep.discardPort, protocol: 'udp', rateMbps: 20, durationS: 0.5 });
    assert.is(r.config.rateMbps, 20);
    const most = Math.floor((20e6 * 0.5) / (1472 * 8)) + 1;
    assert.ok(r.datagramsSent! <= most, `sent ${r.datagramsSent}, at most ${most} at the pace`);
    assert.ok(r.receiverConfirmed);
    assert.is(r.reordered, 0);
    assert.is(r.lost, r.datagramsSent! - r.datagramsReceived!);
    assertResult(r, 'throughput');
  });
  await withPeer(() => honestCounter(), async (p) => {
    const r = await throughput({ host, port: p.port, protocol: 'udp', rateMbps: 5, durationS: 0.2 });
    assert.ok(r.receiverConfirmed);
    assert.is(r.reordered, null, 'an older receiver does not count reordering');
  });
});

test('the endpoint discard counts late datagrams of a session as reordered', () =>
  withEndpoint({}, async (ep) => {
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.bind(0, host, () => r()));
    try {
      const send = (b: Buffer) => new Promise<void>((r) => u.send(b, ep.discardPort, host, () => r()));
      for (const s of [0n, 2n, 1n, 3n, 6n, 4n, 5n]) await send(header(1, 77n, s, 100));
      await sleep(100);
      const got = new Promise<Buffer>((r) => u.once('message', (m) => r(m)));
      await send(header(2, 77n, 0n, 64));
      const rep = await Promise.race([got, sleep(5000).then(() => Buffer.alloc(0))]);
      assert.ok(rep.length >= 48, `report of ${rep.length} bytes`);
      assert.ok(rep.length <= 64, 'never more than the query');
      assert.is(rep.readBigUInt64LE(24), 7n);
      assert.is(rep.readBigUInt64LE(40), 3n, '1, 4 and 5 came late');
    } finally {
      u.close();
    }
  }));

test('paced UDP to a plain RFC 863 discard: exit 0, unconfirmed by the receiver; to a closed port: an error', async () => {
  const port = await freePort();
  const d = await socat('discard', 'udp', port);
  try {
    const ok = runCli(['probe', 'throughput', '--host', host, '--port', String(port), '--protocol', 'udp', '--rate', '5', '--duration', '300ms']);
    assert.is(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /unconfirmed/);
  } finally {
    await stop(d);
  }
  const closed = await freePort();
  const bad = await throughput({ host, port: closed, protocol: 'udp', rateMbps: 5, durationS: 0.3 }).catch((x) => x);
  assert.is(bad.code, 'ECONNREFUSED', String(bad));
});

test('CLI: --reverse --protocol udp against its own endpoint, JSON with per-interval loss; --rate with TCP is a usage error', () => {
  const j = runCli(['probe', 'throughput', '--protocol', 'udp', '--reverse', '--rate', '10', '--duration', '300ms', '--interval', '100ms', '--json']);
  assert.is(j.status, 0, j.stderr);
  const r = jsonResult(j.stdout, 'probe').runs[0];
  assert.is(r.config.direction, 'receive');
  assert.is(r.config.rateMbps, 10);
  assert.type(r.lost, 'number');
  assert.ok(r.intervals.length >= 2);
  assert.type(r.intervals[0].lost, 'number');
  const bad = runCli(['probe', 'throughput', '--rate', '10']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--rate applies to UDP/);
});

test.run();
