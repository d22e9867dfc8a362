// Probes against hostile and absent peers: a peer that misbehaves fails the probe with a code
// naming what it did (ERR_UMLPERF_PEER_*), a peer that answers nothing ends it within about a
// timeout, and a UDP receiver that cannot report leaves the throughput unconfirmed.
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { responseTime, streaming, throughput } from '../src/index.js';
import {
  closingEcho,
  corruptingEcho,
  doublingEcho,
  growingEcho,
  lyingCounter,
  silentTcp,
  silentUdp,
  stallingEcho,
  tricklingEcho,
  withPeer,
  wrongSequenceEcho,
  type Peer,
} from './fixtures/peers.js';
import { cliPath, freePort } from './helpers.js';

type Coded = Error & { code?: string };


async function rejection(p: Promise<unknown>): Promise<Coded & { elapsedMs: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (e) {
    return Object.assign(e as Coded, { elapsedMs: Date.now() - t0 });
  }
  throw new assert.Assertion({ message: 'the probe succeeded against a misbehaving peer', generated: false, operator: 'rejects', expects: 'rejection', actual: 'success' });
}

const host = '127.0.0.1';

test('TCP echo returning every request twice: ERR_UMLPERF_PEER_EXTRA_BYTES', () =>
  withPeer(() => doublingEcho('tcp'), async (p) => {
    const e = await rejection(responseTime({ host, port: p.port, iterations: 20, warmup: 0 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_EXTRA_BYTES', e.message);
    assert.match(e.message, /more bytes than it was sent/);
  }));

test('TCP echo doubling only the one request of a run: extra bytes found after the last reply', () =>
  withPeer(() => doublingEcho('tcp'), async (p) => {
    const e = await rejection(responseTime({ host, port: p.port, iterations: 1, warmup: 0 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_EXTRA_BYTES', e.message);
  }));

test('TCP echo that closes mid-request: ERR_UMLPERF_PEER_CLOSED', () =>
  withPeer(() => closingEcho(64 * 3), async (p) => {
    const e = await rejection(responseTime({ host, port: p.port, size: 64, iterations: 10, warmup: 0 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_CLOSED', e.message);
  }));

test('TCP echo trickling its reply: timeoutMs holds per request while bytes arrive', () =>
  withPeer(() => tricklingEcho(30), async (p) => {
    // 64 bytes at one per 30 ms would take ~2 s; the request must fail at ~200 ms.
    const e = await rejection(responseTime({ host, port: p.port, size: 64, iterations: 3, warmup: 0, timeoutMs: 200 }));
    assert.is(e.code, 'ETIMEDOUT', e.message);
    assert.ok(e.elapsedMs < 1500, `failed after ${e.elapsedMs} ms`);
  }));

test('TCP echo stalling after part of a reply: the wait after it gets only what is left of the timeout', () =>
  withPeer(() => stallingEcho(900), async (p) => {
    // One byte at 900 ms, then nothing: the request ends at its 1000 ms deadline, not a whole
    // timeout after the byte (1900 ms).
    const e = await rejection(responseTime({ host, port: p.port, size: 64, iterations: 1, warmup: 0, timeoutMs: 1000 }));
    assert.is(e.code, 'ETIMEDOUT', e.message);
    assert.match(e.message, /1 of 64 bytes/);
    assert.ok(e.elapsedMs < 1600, `failed after ${e.elapsedMs} ms`);
  }));

test('TCP echo that never answers: one timeout, not iterations x timeout', () =>
  withPeer(() => silentTcp(), async (p) => {
    const e = await rejection(responseTime({ host, port: p.port, iterations: 50, warmup: 0, timeoutMs: 200 }));
    assert.is(e.code, 'ETIMEDOUT', e.message);
    assert.ok(e.elapsedMs < 2000, `failed after ${e.elapsedMs} ms`);
  }));

test('UDP echo answering with a sequence number never sent: ERR_UMLPERF_PEER_WRONG_SEQUENCE', () =>
  withPeer(() => wrongSequenceEcho(1n), async (p) => {
    const e = await rejection(responseTime({ host, port: p.port, protocol: 'udp', iterations: 20, warmup: 0, timeoutMs: 500 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_WRONG_SEQUENCE', e.message);
  }));

test('UDP echo altering a byte: ERR_UMLPERF_PEER_BAD_REPLY', () =>
  withPeer(() => corruptingEcho(), async (p) => {
    const e = await rejection(responseTime({ host, port: p.port, protocol: 'udp', size: 100, iterations: 20, warmup: 0, timeoutMs: 500 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_BAD_REPLY', e.message);
  }));

test('UDP echo answering with one byte more: ERR_UMLPERF_PEER_BAD_REPLY', () =>
  withPeer(() => growingEcho(), async (p) => {
    const e = await rejection(responseTime({ host, port: p.port, protocol: 'udp', size: 100, iterations: 20, warmup: 0, timeoutMs: 500 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_BAD_REPLY', e.message);
    assert.match(e.message, /100-byte request with 101 bytes/);
  }));

test('UDP echo answering twice: every request counted once, the copies as stale', () =>
  withPeer(() => doublingEcho('udp'), async (p) => {
    const r = await responseTime({ host, port: p.port, protocol: 'udp', iterations: 20, warmup: 0, timeoutMs: 1000 });
    assert.is(r.received, 20);
    assert.is(r.lost, 0);
    assert.ok(r.stale >= 10 && r.stale <= 19, `stale ${r.stale}`);
  }));

test('UDP requests under 8 bytes are refused before anything is sent', async () => {
  for (const size of [1, 7]) {
    const e = await rejection(responseTime({ host, port: 9, protocol: 'udp', size, iterations: 1 }));
    assert.is(e.code, 'ERR_UMLPERF_USAGE');
    assert.match(e.message, /at least 8 bytes for UDP/);
  }
});

test('UDP throughput to a closed port is an error (port unreachable)', async () => {
  const port = await freePort();
  const e = await rejection(throughput({ host, port, protocol: 'udp', durationS: 0.2, size: 1000 }));
  assert.is(e.code, 'ECONNREFUSED', e.message);
  assert.match(e.message, /nothing is listening on 127\.0\.0\.1:\d+/);
});

test('UDP throughput to a blackhole (a discard that never reports): unconfirmed by the receiver, not an error', () =>
  withPeer(() => silentUdp(), async (p) => {
    const r = await throughput({ host, port: p.port, protocol: 'udp', durationS: 0.1, size: 1000 });
    assert.is(r.receiverConfirmed, false);
    assert.is(r.bytesReceived, null);
    assert.is(r.lost, null);
    assert.ok(p.count.received > 0, 'the datagrams went out');
  }));

test('UDP throughput receiver reporting more than was sent: ERR_UMLPERF_PEER_BAD_REPORT', () =>
  withPeer(() => lyingCounter(), async (p) => {
    const e = await rejection(throughput({ host, port: p.port, protocol: 'udp', bytes: 100_000, size: 1000 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_BAD_REPORT', e.message);
  }));

test('streaming: an echo of a datagram never sent is ERR_UMLPERF_PEER_WRONG_SEQUENCE, an altered one BAD_REPLY', async () => {
  await withPeer(() => wrongSequenceEcho(1_000_000n, 16), async (p) => {
    const e = await rejection(streaming({ host, port: p.port, rateMbps: 1, size: 200, durationS: 0.3 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_WRONG_SEQUENCE', e.message);
  });
  await withPeer(() => corruptingEcho(), async (p) => {
    const e = await rejection(streaming({ host, port: p.port, rateMbps: 1, size: 200, durationS: 0.3 }));
    assert.is(e.code, 'ERR_UMLPERF_PEER_BAD_REPLY', e.message);
  });
});

test('CLI: a misbehaving peer exits 1 with one line naming what it did', () =>
  withPeer(() => wrongSequenceEcho(5n), async (p) => {
    const child = spawn(process.execPath, [cliPath, 'probe', 'response', '--host', host, '--port', String(p.port), '--protocol', 'udp', '--iterations', '5', '--warmup', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const status = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(killer);
    assert.is(status, 1, stderr);
    assert.is(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /never sent/);
  }));

test.run();
