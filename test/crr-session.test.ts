// Connection rate in a transaction session (the default service): the endpoint's side of the
// protocol, spoken to byte by byte (who closes first, the response's bytes, whom a session
// serves, its end, its caps), and the probe against fake endpoints that lie, stall or refuse.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionRate, startEndpoint } from '../src/index.js';
import { sessionReply } from './fixtures/peers.js';
import { jsonResult, runCli } from './helpers.js';

const host = '127.0.0.1';
const MAGIC = 0x504c4d55;
const REQUEST = 8;
const ACCEPT = 9;
const REFUSE = 10;

function sessionRequest(requestSize: number, responseSize: number, session = 42n): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt8(REQUEST, 4);
  b.writeBigUInt64LE(session, 8);
  b.writeUInt32LE(requestSize, 24);
  b.writeUInt32LE(responseSize, 28);
  return b;
}

/** Everything a connection receives until the peer closes (or `ms` pass), and whether it closed. */
function collect(sock: net.Socket, ms = 3000): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let ended = false;
    const done = () => {
      clearTimeout(t);
      resolve({ data: Buffer.concat(parts), ended });
    };
    const t = setTimeout(done, ms);
    sock.on('data', (d) => parts.push(d));
    sock.on('end', () => (ended = true));
    sock.on('close', done);
    sock.on('error', () => {});
  });
}

/** Reads exactly n bytes (or rejects after ms). */
function readN(sock: net.Socket, n: number, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => reject(new Error(`no ${n} bytes in ${ms} ms`)), ms);
    const on = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= n) {
        clearTimeout(t);
        sock.off('data', on);
        resolve(buf.subarray(0, n));
      }
    };
    sock.on('data', on);
  });
}

function connect(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A control connection with an accepted session: the socket and the session's port. */
async function openSession(controlPort: number, requestSize: number, responseSize: number): Promise<{ ctl: net.Socket; port: number }> {
  const ctl = await connect(controlPort);
  ctl.on('error', () => {});
  ctl.write(sessionRequest(requestSize, responseSize));
  const rep = await readN(ctl, 64);
  assert.is(rep.readUInt32LE(0), MAGIC);
  assert.is(rep.readUInt8(4), ACCEPT);
  assert.is(rep.readBigUInt64LE(8), 42n, 'the session id is echoed');
  const port = rep.readUInt16LE(36);
  assert.ok(port > 0);
  return { ctl, port };
}

/** TIME_WAIT sockets on loopback, as "local peer" strings. */
function timeWaits(): Set<string> {
  const r = spawnSync('ss', ['-Htan', 'state', 'time-wait'], { encoding: 'utf8' });
  return new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/).slice(-2).join(' ')).filter((l) => l.includes('127.0.0.1')));
}
const portOf = (addr: string) => Number(addr.slice(addr.lastIndexOf(':') + 1));

test('a session: one connection per transaction, the endpoint closes each first (its TIME_WAITs), an echo leaves them to us', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    let before = timeWaits();
    const r = await connectionRate({ host, port: ep.udpSourcePort, transactions: 150, warmup: 5, size: 100 });
    assert.is(r.config.service, 'transaction');
    assert.is(r.config.responseSize, 100);
    assert.is(r.transactions, 150);
    assert.is(r.latency.count, 150);
    assert.ok(Math.abs(r.transactionsPerSecond - (150 * 1e9) / r.durationNs) < 1e-9 * r.transactionsPerSecond);
    const s = ep.stats();
    assert.is(s.transactions, 155, 'warm-up included');
    assert.is(s.transactionSessions, 1);
    assert.is(s.tcpConnections, 1, 'the control connection; the session\'s are its own');
    // Every transaction left one TIME_WAIT, and it is the server's: its local port is the
    // session's, the same for all.
    let fresh = [...timeWaits()].filter((x) => !before.has(x));
    const byLocal = new Map<number, number>();
    for (const x of fresh) byLocal.set(portOf(x.split(' ')[0]), (byLocal.get(portOf(x.split(' ')[0])) ?? 0) + 1);
    const [sessionPort, served] = [...byLocal.entries()].sort((a, b) => b[1] - a[1])[0] ?? [0, 0];
    assert.ok(served >= 155, `server-side TIME_WAITs: ${served} of 155 (${fresh.length} new)`);
    assert.is(fresh.filter((x) => portOf(x.split(' ')[1]) === sessionPort).length, 0, 'none on the client side');

    before = timeWaits();
    await connectionRate({ host, port: ep.echoPort, service: 'echo', transactions: 50, warmup: 0 });
    fresh = [...timeWaits()].filter((x) => !before.has(x));
    assert.ok(fresh.filter((x) => portOf(x.split(' ')[1]) === ep.echoPort).length >= 50, 'against an echo, the client keeps them');
  } finally {
    await ep.close();
  }
});

test('the control port serves both the UDP source and transaction sessions: without it (udpSourcePort false) a session is refused, an echo still serves crr', async () => {
  const ep = await startEndpoint({ port: 0, udpSourcePort: false });
  try {
    assert.is(ep.udpSourcePort, 0);
    const e = await connectionRate({ host, port: ep.echoPort + 3, transactions: 5, warmup: 0 }).then(() => null, (x) => x);
    assert.ok(e, 'no transaction session without the control port');
    const r = await connectionRate({ host, port: ep.echoPort, service: 'echo', transactions: 5, warmup: 0 });
    assert.is(r.transactions, 5);
  } finally {
    await ep.close();
  }
});

test('the response is the request\'s bytes repeated to its size, then the endpoint closes; a small request can have a large response', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const { ctl, port } = await openSession(ep.udpSourcePort, 3, 10);
    const c = await connect(port);
    const got = collect(c);
    c.write('abc');
    const { data, ended } = await got;
    assert.is(data.toString(), 'abcabcabca');
    assert.ok(ended, 'the server closed first: we never ended our side');
    ctl.destroy();

    const r = await connectionRate({ host, port: ep.udpSourcePort, transactions: 20, warmup: 0, size: 7, responseSize: 65536 });
    assert.is(r.transactions, 20);
    assert.is(r.config.responseSize, 65536);
  } finally {
    await ep.close();
  }
});

test('a session serves its control connection\'s address only, ends when that connection closes, and refuses sizes over 64 KiB', async () => {
  const ep = await startEndpoint({ port: 0 });
  try {
    const ctl0 = await connect(ep.udpSourcePort);
    ctl0.write(sessionRequest(1, 65537));
    const refused = await readN(ctl0, 64);
    assert.is(refused.readUInt8(4), REFUSE);
    assert.is(refused.readUInt32LE(32), 6, 'reason: the sizes');
    assert.is(refused.readUInt32LE(40), 65536, 'with the cap');
    ctl0.destroy();

    const { ctl, port } = await openSession(ep.udpSourcePort, 1, 1);
    const stranger = await connect(port, '127.0.0.2');
    const strangerGot = collect(stranger);
    stranger.write('x');
    const s = await strangerGot;
    assert.is(s.data.length, 0, 'nothing for another address');
    assert.is(ep.stats().transactions, 0);
    const own = await connect(port);
    const ownGot = collect(own);
    own.write('y');
    assert.is((await ownGot).data.toString(), 'y');
    assert.is(ep.stats().transactions, 1);

    ctl.destroy();
    // The session's port closes within the endpoint's wake-up slice (200 ms).
    const t0 = Date.now();
    let gone = false;
    while (!gone && Date.now() - t0 < 3000) {
      gone = await connect(port).then((x) => (x.destroy(), false), (e) => e.code === 'ECONNREFUSED');
      if (!gone) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(gone, 'the session port still listens after its control connection closed');
    assert.is(ep.stats().transactionSessions, 1);
  } finally {
    await ep.close();
  }
});

/**
 * A fake endpoint: its control port answers `reply(session, sessionPort)` (or nothing), and its
 * session port runs `serve` on each connection.
 */
async function fakeEndpoint(reply: ((session: bigint, port: number) => Buffer) | null, serve: (c: net.Socket) => void) {
  const sessions = net.createServer((c) => {
    c.on('error', () => {});
    serve(c);
  });
  const control = net.createServer((c) => {
    c.on('error', () => {});
    readN(c, 64, 10_000).then(
      (rq) => reply && c.write(reply(rq.readBigUInt64LE(8), (sessions.address() as net.AddressInfo).port)),
      () => c.destroy(),
    );
  });
  await Promise.all([sessions, control].map((s) => new Promise<void>((r) => s.listen(0, host, () => r()))));
  return {
    port: (control.address() as net.AddressInfo).port,
    close: () => {
      for (const s of [sessions, control]) {
        s.close();
        (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }
    },
  };
}

const accept = (session: bigint, port: number) => sessionReply(ACCEPT, { session, port });

test('fake endpoints: wrong bytes, bytes past the response, no close, a refusal, a wrong session id, silence, a plain echo', async () => {
  const cases: [string, ((s: bigint, p: number) => Buffer) | null, (c: net.Socket) => void, string, RegExp][] = [
    ['wrong bytes', accept, (c) => c.once('data', (d) => c.end(Buffer.from(d.map((b) => b ^ 1)))), 'ERR_UMLPERF_PEER_BAD_REPLY', /not the request's/],
    ['extra bytes', accept, (c) => c.once('data', (d) => c.end(Buffer.concat([d, d]))), 'ERR_UMLPERF_PEER_EXTRA_BYTES', /more than the response/],
    ['never closes', accept, (c) => c.once('data', (d) => c.write(d)), 'ETIMEDOUT', /timeout/],
    ['closes early', accept, (c) => c.once('data', () => c.end()), 'ERR_UMLPERF_PEER_CLOSED', /closed the connection after 0 of 1/],
    ['refuses', (s) => sessionReply(REFUSE, { session: s, reason: 6 }), () => {}, 'ERR_UMLPERF_SESSION_REFUSED', /sizes are out of its range 1\.\.65536/],
    ['another session', (s, p) => sessionReply(ACCEPT, { session: s + 1n, port: p }), () => {}, 'ERR_UMLPERF_PEER_BAD_REPLY', /not umlperf's endpoint control port/],
    ['no port', (s) => sessionReply(ACCEPT, { session: s }), () => {}, 'ERR_UMLPERF_PEER_BAD_REPLY', /not umlperf's endpoint control port/],
    ['silent', null, () => {}, 'ETIMEDOUT', /did not answer/],
  ];
  for (const [what, reply, serve, code, re] of cases) {
    const f = await fakeEndpoint(reply, serve);
    try {
      const t0 = Date.now();
      const e = await connectionRate({ host, port: f.port, transactions: 3, warmup: 0, timeoutMs: 300 }).catch((x) => x);
      assert.is(e.code, code, `${what}: ${e}`);
      assert.match(e.message, re, what);
      assert.ok(Date.now() - t0 < 5000, `${what}: bounded by the timeout`);
    } finally {
      f.close();
    }
  }
  // A plain echo at the control port echoes the request: not an answer.
  const echo = net.createServer((c) => {
    c.on('error', () => {});
    c.pipe(c);
  });
  await new Promise<void>((r) => echo.listen(0, host, () => r()));
  try {
    const e = await connectionRate({ host, port: (echo.address() as net.AddressInfo).port, transactions: 3, timeoutMs: 300 }).catch((x) => x);
    assert.is(e.code, 'ERR_UMLPERF_PEER_BAD_REPLY', String(e));
    assert.match(e.message, /use the echo service/);
  } finally {
    echo.close();
  }
});

test('the CLI: --service and --response-size', () => {
  const j = runCli(['probe', 'crr', '--transactions', '30', '--response-size', '1KiB', '--json', '--no-samples']);
  assert.is(j.status, 0, j.stderr);
  const r = jsonResult(j.stdout, 'probe').runs[0];
  assert.is(r.config.service, 'transaction');
  assert.is(r.config.size, 1);
  assert.is(r.config.responseSize, 1024);
  assert.is(r.transactions, 30);
  const e = runCli(['probe', 'crr', '--service', 'echo', '--transactions', '30']);
  assert.is(e.status, 0, e.stderr);
  assert.match(e.stdout, /an echo, we close first/);
  const t = runCli(['probe', 'crr', '--transactions', '30']);
  assert.match(t.stdout, /a transaction session, the server closes first/);
  const bad = runCli(['probe', 'crr', '--service', 'echo', '--response-size', '10']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--response-size goes with --service transaction/);
  const big = runCli(['probe', 'crr', '--response-size', '65537']);
  assert.is(big.status, 2);
  assert.match(big.stderr, /response-size/);
  const other = runCli(['probe', 'response', '--service', 'echo']);
  assert.is(other.status, 2);
  assert.match(other.stderr, /--service applies to probe crr only/);
});

test.run();
