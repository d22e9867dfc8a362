// The endpoint under hostile clients: no echo loops (reserved and own source ports, a reflected
// reply, a per-source rate limit), no slowloris lockout (per-source and global connection
// limits, idle eviction and timeout), bounded memory, a pool of workers instead of a thread per
// connection, and a failed thread creation refuses one connection instead of ending the process. Loopback only: 127.0.0.0/8 gives distinct sources.
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointBinary, startEndpoint, throughput, type Endpoint } from '../src/index.js';
import { requireTool, startBinary, stopBinary } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until ok() holds or timeoutMs passes (a loaded machine is slow, not wrong). */
async function until(ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}
// A loopback address of this run's own, so sockets bound to well-known ports do not clash.
const octet = () => 2 + Math.floor(Math.random() * 250);
const runNet = `127.${octet()}.${octet()}`;

async function udpFrom(address: string, port = 0): Promise<{ s: dgram.Socket; replies: Buffer[] }> {
  const s = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  s.on('message', (m) => replies.push(m));
  await new Promise<void>((res, rej) => {
    s.once('error', rej);
    s.bind(port, address, () => res());
  });
  return { s, replies };
}

test('UDP echo: no answer to reserved source ports, its own ports or the default ports; an ordinary client is answered', async () => {
  const ep = await startEndpoint({ port: 0 });
  const socks: dgram.Socket[] = [];
  try {
    const sources: [number, boolean][] = [[0, true], [7, false], [9, false], [19, false], [1023, false], [ep.echoPort, false], [ep.discardPort, false], [7007, false], [7008, false]];
    const results: { port: number; replies: Buffer[]; answered: boolean }[] = [];
    for (const [port, answered] of sources) {
      const u = await udpFrom(`${runNet}.1`, port);
      socks.push(u.s);
      u.s.send(Buffer.from(`hello from ${port} `.repeat(3)), ep.echoPort, '127.0.0.1');
      results.push({ port, replies: u.replies, answered });
    }
    await sleep(300);
    for (const r of results) assert.is(r.replies.length > 0, r.answered, `source port ${r.port}`);
    assert.is(ep.stats().udpIgnored, sources.length - 1);
  } finally {
    for (const s of socks) s.close();
    await ep.close();
  }
});

test('spoofed loop datagram between two endpoints: answered at most once each way, then ignored', async () => {
  requireTool('python3');
  const a = await startEndpoint({ port: 0 });
  const b = await startEndpoint({ port: 0 });
  try {
    // One datagram "from" A's echo port to B's echo port, as a reflection attacker would forge it
    // (a raw socket: root only, as the forgery itself).
    const py = `import socket,struct,sys
p=b'loop-'*20
s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_UDP)
s.sendto(struct.pack('!HHHH',int(sys.argv[1]),int(sys.argv[2]),8+len(p),0)+p,('127.0.0.1',0))`;
    const r = spawnSync('python3', ['-c', py, String(a.echoPort), String(b.echoPort)], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    await sleep(500);
    const echoed = a.stats().udpEchoed + b.stats().udpEchoed;
    assert.ok(echoed >= 1, 'the forged datagram arrived and was answered once');
    // Answered once each way, then recognised. However slow the machine, each endpoint answers
    // the same bytes from the same source at most once per 50 ms: 2 + 2 x 10 in 500 ms. An
    // unguarded pair of echo services exchanges tens of thousands in that time.
    assert.ok(echoed <= 22, `the endpoints echoed ${echoed} times: a loop`);
    assert.ok(a.stats().udpIgnored + b.stats().udpIgnored >= 1, 'the reflected reply was recognised');
  } finally {
    await a.close();
    await b.close();
  }
});

test('UDP replies to one source address are rate-limited; another source is still answered', async () => {
  const ep = await startEndpoint({ port: 0, udpRepliesPerSecond: 100 });
  const flood = await udpFrom(`${runNet}.2`);
  const other = await udpFrom(`${runNet}.3`);
  try {
    for (let i = 0; i < 500; i++) flood.s.send(Buffer.from(`request ${i} `.padEnd(40, '.')), ep.echoPort, '127.0.0.1');
    await sleep(300);
    other.s.send(Buffer.from('another client'), ep.echoPort, '127.0.0.1');
    await sleep(200);
    // Burst of 64 plus 100/s over ~0.5 s: well under the 500 sent.
    assert.ok(flood.replies.length >= 50 && flood.replies.length <= 150, `${flood.replies.length} replies`);
    assert.is(other.replies.length, 1);
  } finally {
    flood.s.close();
    other.s.close();
    await ep.close();
  }
});

test('TCP: a silent connection is closed after the idle timeout; an active one stays', async () => {
  const ep = await startEndpoint({ port: 0, idleTimeoutMs: 300 });
  const silent = net.connect(ep.echoPort, '127.0.0.1');
  const active = net.connect(ep.echoPort, '127.0.0.1');
  silent.on('error', () => {});
  active.on('error', () => {});
  const timer = setInterval(() => active.write('x'), 100);
  try {
    const closedAt = await new Promise<number>((res) => {
      const t0 = Date.now();
      silent.once('close', () => res(Date.now() - t0));
      setTimeout(() => res(-1), 3000);
    });
    assert.ok(closedAt >= 200 && closedAt < 2000, `silent connection closed after ${closedAt} ms`);
    assert.ok(!active.destroyed && active.readyState === 'open', 'the active connection is still open');
    assert.ok(ep.stats().tcpIdleClosed >= 1);
  } finally {
    clearInterval(timer);
    silent.destroy();
    active.destroy();
    await ep.close();
  }
});

// The idle watch reads the clock, then each connection's last activity; a worker may store a
// later activity in between. Taken as an unsigned difference, that wrapped to ~584 years of
// silence and shut busy connections down mid-run (EPIPE at the sender). Before the fix, on a
// 2-CPU machine, this test failed in 2 of 3 runs.
test('TCP: connections busy at line rate are never closed as idle while the idle watch runs', async () => {
  const ep = await startEndpoint({ port: 0, idleTimeoutMs: 600 });
  try {
    for (let run = 0; run < 2; run++) {
      const r = await throughput({ host: '127.0.0.1', port: ep.discardPort, sourcePort: ep.chargenPort, bidir: true, parallel: 8, durationS: 4 });
      assert.ok(r.sent!.Mbps > 0 && r.received!.Mbps > 0);
    }
    assert.is(ep.stats().tcpIdleClosed, 0);
  } finally {
    await ep.close();
  }
});

test('TCP echo: a client that writes but never reads is dropped once it has taken nothing for the idle timeout', async () => {
  const ep = await startEndpoint({ port: 0, idleTimeoutMs: 300 });
  const c = net.connect(ep.echoPort, '127.0.0.1');
  c.pause();
  c.on('error', () => {});
  try {
    const big = Buffer.alloc(1 << 20, 1);
    c.on('connect', () => {
      for (let i = 0; i < 32; i++) c.write(big);
    });
    const closedAfter = await new Promise<number>((res) => {
      const t0 = Date.now();
      c.once('close', () => res(Date.now() - t0));
      setTimeout(() => res(-1), 5000);
    });
    assert.ok(closedAfter > 0, 'the endpoint let go of the connection');
  } finally {
    c.destroy();
    await ep.close();
  }
});

/** Runs umlperf-endpoint on ports of its own choosing (--port 0: no clash with a port guessed free). */
/** One TCP echo round trip from `localAddress`: resolves with the bytes received back. */
function echoRoundTrip(port: number, localAddress: string, payload: Buffer, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((res) => {
    const got: Buffer[] = [];
    const c = net.connect({ port, host: '127.0.0.1', localAddress });
    const t = setTimeout(() => c.destroy(), timeoutMs);
    c.on('connect', () => c.write(payload));
    c.on('data', (d) => {
      got.push(d);
      if (Buffer.concat(got).length >= payload.length) c.end();
    });
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(t);
      res(Buffer.concat(got));
    });
  });
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

test('512-connection slowloris from many sources: a fresh client is still served, memory stays bounded', async () => {
  const { child, echo: port, discard } = await startBinary(['--port', '0']);
  const held: net.Socket[] = [];
  try {
    // 4 source addresses x 64 connections x (echo + discard) = 512, all silent: the global limit
    // (256 per service) is full without any one source passing its own limit.
    for (let s = 0; s < 4; s++) {
      for (let i = 0; i < 64; i++) {
        for (const p of [port, discard]) {
          const c = net.connect({ port: p, host: '127.0.0.1', localAddress: `${runNet}.${10 + s}` });
          c.on('error', () => {});
          held.push(c);
        }
      }
    }
    const openCount = () => held.filter((c) => c.readyState === 'open').length;
    await until(() => openCount() === 512, 10_000);
    assert.ok(openCount() >= 500, `${openCount()} of 512 slowloris connections held`);
    await sleep(1100); // every held connection is now idle long enough to make room
    const payload = Buffer.from('fresh client '.repeat(100));
    const back = await echoRoundTrip(port, `${runNet}.5`, payload);
    assert.ok(back.equals(payload), `a fresh client got ${back.length} of ${payload.length} bytes back`);
    const rss = rssKb(child.pid!);
    // ~7 MB measured: thread stacks as touched, no buffer memory for connections that send
    // nothing (zero-filled 64 + 128 KiB buffers would add ~48 MB).
    assert.ok(rss < 32 * 1024, `endpoint RSS ${rss} kB with 512 connections`);
  } finally {
    for (const c of held) c.destroy();
    const r = await stopBinary(child);
    assert.is(r.code, 0);
  }
});

const threads = (pid: number) => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const taskIds = (pid: number) => new Set(readdirSync(`/proc/${pid}/task`));

test('connections are served by a pool: 300 one after another start at most two threads; 12 held at once are all served', async () => {
  const { child, echo: port } = await startBinary(['--port', '0']);
  const held: net.Socket[] = [];
  try {
    const base = threads(child.pid!);
    // Every thread that serves a connection is alive while it is open: the union of the thread
    // ids seen then counts the threads ever started (a joined thread's id leaves /proc).
    const seen = taskIds(child.pid!);
    for (let i = 0; i < 300; i++) {
      const c = net.connect({ port, host: '127.0.0.1' });
      c.on('error', () => {});
      const payload = Buffer.from(`one after another ${i}`);
      const got = await new Promise<Buffer>((res) => {
        const t = setTimeout(() => res(Buffer.alloc(0)), 3000);
        c.on('connect', () => c.write(payload));
        c.on('data', (d) => {
          clearTimeout(t);
          res(d);
        });
      });
      for (const t of taskIds(child.pid!)) seen.add(t);
      // One after another: the next connects once the endpoint has closed this one (its worker
      // is then on its way back to accept()), as a client with a connection per request does.
      await new Promise<void>((res) => {
        const t = setTimeout(() => (c.destroy(), res()), 3000);
        c.once('close', () => (clearTimeout(t), res()));
        c.end();
      });
      assert.ok(got.equals(payload), `connection ${i} got ${got.length} of ${payload.length} bytes back`);
    }
    assert.ok(seen.size <= base + 2, `${seen.size - base} threads started over 300 connections`);
    assert.ok(threads(child.pid!) <= base + 2, `${threads(child.pid!)} threads after 300 connections (${base} at the start)`);
    // Held connections each keep a worker: a thirteenth is still served at once.
    for (let i = 0; i < 12; i++) {
      const c = net.connect({ port, host: '127.0.0.1' });
      c.on('error', () => {});
      held.push(c);
    }
    await until(() => held.every((c) => c.readyState === 'open'), 5000);
    const payload = Buffer.from('beside twelve held connections');
    const back = await echoRoundTrip(port, '127.0.0.1', payload);
    assert.ok(back.equals(payload), `got ${back.length} of ${payload.length} bytes back`);
    assert.ok(threads(child.pid!) >= base + 12, `${threads(child.pid!)} threads with 12 connections held (${base} at the start)`);
  } finally {
    for (const c of held) c.destroy();
    const r = await stopBinary(child);
    assert.is(r.code, 0);
  }
});

test('one source cannot take every connection: a second source is served while the first holds its limit', async () => {
  const { child, echo: port } = await startBinary(['--port', '0', '--max-connections', '16']);
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const c = net.connect({ port, host: '127.0.0.1', localAddress: `${runNet}.20` });
      c.on('error', () => {});
      held.push(c);
    }
    await sleep(500);
    // The first source's connections beyond its limit (8) were closed at once.
    const payload = Buffer.from('other source');
    const back = await echoRoundTrip(port, `${runNet}.21`, payload);
    assert.ok(back.equals(payload), 'the second source was served');
    const again = await echoRoundTrip(port, `${runNet}.20`, payload, 1000);
    assert.is(again.length, 0, 'the first source is over its limit');
  } finally {
    for (const c of held) c.destroy();
    await stopBinary(child);
  }
});

test('thread creation failure (RLIMIT_NPROC as an unprivileged user) refuses connections, never ends the endpoint', async () => {
  // RLIMIT_NPROC counts every task of the user and root ignores it: run the endpoint as an
  // unprivileged uid of its own (no other process counts against its limit).
  const uid = 200_000 + Math.floor(Math.random() * 100_000);
  // The endpoint's 7 threads (main, 3 TCP accept workers, the idle watcher, UDP echo and discard)
  // and room for 1 more: one connection is served, the rest are refused.
  const nproc = 7 + 1;
  const { child, echo } = await startBinary(['--port', '0', '--no-udp-source'], [
    'prlimit', `--nproc=${nproc}:${nproc}`, '--', 'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups',
  ]);
  const held: net.Socket[] = [];
  const seen = { connected: 0, refused: 0 };
  try {
    for (let i = 0; i < 8; i++) {
      const c = net.connect({ port: echo, host: '127.0.0.1' });
      c.on('error', () => {});
      // Refused: connected (the kernel's handshake), then closed by the endpoint.
      c.once('connect', () => {
        seen.connected++;
        c.once('close', () => seen.refused++);
      });
      held.push(c);
    }
    await until(() => seen.connected === 8 && seen.refused >= 6, 5000);
    await sleep(300); // an endpoint that aborts does so at its first failed thread
    assert.is(seen.connected, 8);
    assert.ok(seen.refused >= 4, `${seen.refused} of 8 connections refused`);
    assert.is(child.exitCode, null, 'the endpoint is still running');
    assert.is(child.signalCode, null);
    for (const c of held) c.destroy();
    await sleep(1000);
    const payload = Buffer.from('after the pressure');
    const back = await echoRoundTrip(echo, '127.0.0.1', payload);
    assert.ok(back.equals(payload), 'served again once threads are free');
  } finally {
    for (const c of held) c.destroy();
    const r = await stopBinary(child);
    assert.is(r.signal, null, `the endpoint ended by ${r.signal}`);
    assert.is(r.code, 0);
  }
});

test.run();
