// The library's entry points refuse bad calls with a usage error (a code, one line) before any
// native work starts, and a throwing progress callback neither floods stderr nor ends the probe.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointBinary, responseTime, startEndpoint, streaming, throughput } from '../src/index.js';
import { native } from '../src/native.js';
import { silentUdp } from './fixtures/peers.js';

type Coded = Error & { code?: string };

async function usage(p: () => Promise<unknown>, label: string): Promise<Coded> {
  try {
    await p();
  } catch (e) {
    const err = e as Coded;
    assert.is(err.code, 'ERR_UMLPERF_USAGE', `${label}: ${err.message}`);
    assert.not.match(err.message, /\n/, label);
    return err;
  }
  throw new Error(`${label}: accepted`);
}

test('the lab functions the README lists are exported', async () => {
  const lib = (await import('../src/index.js')) as Record<string, unknown>;
  for (const name of ['labUp', 'labDown', 'labStatus', 'labList', 'labExec', 'labGuestExec']) assert.type(lib[name], 'function', name);
  // With no lab state directory of this run's making, a list is an array (what is there).
  assert.ok(Array.isArray((lib.labList as () => unknown[])()));
});

test('probes without options, with null or with a non-object: usage errors with a code', async () => {
  const calls = { responseTime, throughput, streaming } as Record<string, (o: unknown) => Promise<unknown>>;
  for (const [name, f] of Object.entries(calls)) {
    for (const bad of [undefined, null, 42, 'host']) await usage(() => f(bad), `${name}(${String(bad)})`);
  }
});

test('signal and onProgress of the wrong type are refused before the native job starts', async () => {
  const peer = await silentUdp();
  try {
    const e = await usage(() => responseTime({ host: '127.0.0.1', port: peer.port, protocol: 'udp', signal: 42 as unknown as AbortSignal }), 'signal: 42');
    assert.match(e.message, /AbortSignal/);
    await usage(() => throughput({ host: '127.0.0.1', port: peer.port, protocol: 'udp', onProgress: 'x' as never }), 'onProgress: string');
    await new Promise((r) => setTimeout(r, 100));
    assert.is(peer.count.received, 0, 'nothing was sent');
  } finally {
    await peer.close();
  }
});

test('an aborted signal given up front rejects at once with the reason as cause', async () => {
  const ac = new AbortController();
  const reason = new Error('not now');
  ac.abort(reason);
  try {
    await responseTime({ host: '127.0.0.1', port: 9, signal: ac.signal });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'AbortError');
    assert.is((e as Error).cause, reason);
  }
});

test('startEndpoint: bad calls are usage errors', async () => {
  await usage(() => startEndpoint(null as never), 'null');
  const none = await usage(() => startEndpoint({ port: 0, tcp: false, udp: false }), 'tcp and udp false');
  assert.match(none.message, /TCP, UDP or both/);
  await usage(() => startEndpoint({ port: 0, tcp: 'yes' as never }), 'tcp: string');
  const bind = await usage(() => startEndpoint({ bind: 'notanaddr', port: 0 }), 'bind notanaddr');
  assert.match(bind.message, /numeric/);
  const last = await usage(() => startEndpoint({ port: 65535 }), 'port 65535');
  assert.match(last.message, /discard/);
  for (const kib of [8, 4097, 1.5]) await usage(() => startEndpoint({ port: 0, discardReadKiB: kib }), `discardReadKiB ${kib}`);
});

// The lab's guests read TCP discard 1 MiB at a time; the library's endpoint takes the size too.
test('startEndpoint: discardReadKiB at both ends of its range takes whole streams', async () => {
  for (const kib of [16, 4096]) {
    const ep = await startEndpoint({ port: 0, discardReadKiB: kib });
    try {
      const t = await throughput({ host: '127.0.0.1', port: ep.discardPort, bytes: 6_000_000 });
      assert.is(t.bytes, 6_000_000, `${kib} KiB`);
      assert.is(ep.stats().discardedBytes, 6_000_000, `${kib} KiB: counted by the endpoint`);
    } finally {
      await ep.close();
    }
  }
});

// One source for sizes and bounds: the native core's, which the library applies as given.
test('the default sizes are the native core\'s: 256 KiB TCP writes, 1 MiB reads when receiving, 1472-byte datagrams', async () => {
  const lim = native().limits;
  assert.equal({ ...lim }, { tcpWriteDefault: 262144, tcpReadDefault: 1048576, udpDatagramDefault: 1472, discardReadMin: 16384, discardReadMax: 4194304 });
  const ep = await startEndpoint({ port: 0 });
  try {
    const base = { host: '127.0.0.1', durationS: 0.05 };
    assert.is((await throughput({ ...base, port: ep.discardPort })).config.size, lim.tcpWriteDefault);
    assert.is((await throughput({ ...base, port: ep.chargenPort, reverse: true })).config.size, lim.tcpReadDefault);
    assert.is((await throughput({ ...base, port: ep.discardPort, protocol: 'udp', rateMbps: 10 })).config.size, lim.udpDatagramDefault);
    assert.is((await streaming({ host: '127.0.0.1', port: ep.echoPort, durationS: 0.05, rateMbps: 1 })).config.size, lim.udpDatagramDefault);
  } finally {
    await ep.close();
  }
});

test('a throwing onProgress is called once, reported once, and the probe completes', async () => {
  const ep = await startEndpoint({ port: 0 });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  let calls = 0;
  try {
    const r = await responseTime({
      host: '127.0.0.1',
      port: ep.echoPort,
      iterations: 2000,
      intervalUs: 200,
      onProgress: () => {
        calls++;
        throw new Error('callback bug');
      },
    });
    assert.is(r.received, 2000);
    await new Promise((res) => setTimeout(res, 50));
    assert.is(calls, 1);
    const ours = warnings.filter((w) => (w as Coded).code === 'ERR_UMLPERF_PROGRESS');
    assert.is(ours.length, 1);
    assert.match(ours[0].message, /callback bug/);
  } finally {
    process.off('warning', onWarning);
    await ep.close();
  }
});

test('umlperf-endpoint: a bad --bind or a --port without room for discard exits 2 with one line', () => {
  for (const args of [['--bind', 'notanaddr'], ['--port', '65535'], ['--port', '-1'], ['--max-connections', '0'], ['--bogus']]) {
    const r = spawnSync(endpointBinary(), args, { encoding: 'utf8', timeout: 5000 });
    assert.is(r.status, 2, args.join(' '));
    assert.is(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '', args.join(' '));
  }
  const ok = spawnSync(endpointBinary(), ['--port', '65534', '--discard-port', '65533', '--help'], { encoding: 'utf8', timeout: 5000 });
  assert.is(ok.status, 0);
});

test('image builders refuse a cache directory on a pseudo file system instead of spinning', async () => {
  const { minimalImage } = await import('../src/images/minimal.js');
  const { debianImage } = await import('../src/images/debian.js');
  for (const build of [() => minimalImage({ cacheDir: '/proc/x' }), () => debianImage({ cacheDir: '/sys/y/z' })]) {
    const t0 = Date.now();
    const e = await build().then(() => undefined, (err: Error & { code?: string }) => err);
    assert.is(e?.code, 'ERR_UMLPERF_USAGE', String(e));
    assert.match(e!.message, /pseudo file system/);
    assert.ok(Date.now() - t0 < 30_000);
  }
});

test.run();
