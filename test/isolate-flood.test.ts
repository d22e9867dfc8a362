// The flood fault's helper (umlperf-flood, built by binding.gyp like the endpoint): it refuses
// any address outside 198.18.0.0/15 and any figure beyond its caps; inside a namespace pair of
// this test's own it sends no faster than asked and stops at its window; the minimal image
// carries it without a C compiler on the host.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { FLOOD_GUEST_PATH, floodBinary } from '../src/guest/flood.js';
import { minimalImage } from '../src/images/minimal.js';
import { makeNetPair } from './fixtures/netpair.js';
import { tempDir } from './helpers.js';

const bin = floodBinary();

test('umlperf-flood is static and ships where nativeArtifact finds it', () => {
  assert.ok(fs.statSync(bin).mode & 0o111, bin);
  const f = spawnSync('file', ['-L', bin], { encoding: 'utf8' });
  if (f.status === 0) assert.match(f.stdout, /statically linked|static-pie/);
});

test('refused, exit 2, before any socket: addresses outside the lab range, figures beyond the caps, trailing junk', () => {
  for (const args of [
    ['8.8.8.8', '9', '1', '1'],
    ['127.0.0.1', '9', '1', '1'],
    ['198.20.0.1', '9', '1', '1'],
    ['198.17.255.255', '9', '1', '1'],
    ['::1', '9', '1', '1'],
    ['198.18.0.1', '0', '1', '1'],
    ['198.18.0.1', '70000', '1', '1'],
    ['198.18.0.1', '9', '61', '1'],
    ['198.18.0.1', '9', '0', '1'],
    ['198.18.0.1', '9', '1', '10001'],
    ['198.18.0.1', '9', '1x', '1'],
    ['198.18.0.1', '9', '1'],
  ]) {
    // In a namespace with no route anywhere: even a helper that ignored its checks could not leave.
    const r = spawnSync('unshare', ['-n', bin, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '', args.join(' '));
  }
});

const rxBytes = (ns: string, dev: string) => Number(execFileSync('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${dev}/statistics/rx_bytes`], { encoding: 'utf8' }).trim());

test('in the lab range: no faster than its cap, and it stops at its window', () => {
  const pair = makeNetPair('isfl');
  try {
    const before = rxBytes(pair.host, 'vc');
    const mbps = 4;
    const secs = 1.5;
    const t0 = performance.now();
    const r = spawnSync('ip', ['netns', 'exec', pair.client, bin, '198.18.0.1', '9', String(secs), String(mbps)], { encoding: 'utf8', timeout: 20_000 });
    const wallS = (performance.now() - t0) / 1000;
    assert.is(r.status, 0, r.stderr);
    const m = /sent (\d+) bytes in ([\d.]+) s, (\d+) errors/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const sent = Number(m![1]);
    const cap = (mbps * 1e6 / 8) * secs;
    // Never above the cap (one datagram of slack); on a shared machine it may fall short, not far.
    assert.ok(sent <= cap + 1472, `${sent} bytes sent, cap ${cap}`);
    assert.ok(sent >= cap * 0.3, `${sent} bytes sent of ${cap}: the flood ran`);
    const wire = rxBytes(pair.host, 'vc') - before;
    // What the host side received: the datagrams plus their headers (42 bytes each), nothing more.
    assert.ok(wire <= (sent / 1472) * (1472 + 42) + 4096, `${wire} bytes on the wire for ${sent} sent`);
    assert.ok(Number(m![2]) >= secs && Number(m![2]) < secs + 1, `ran ${m![2]} s`);
    assert.ok(wallS < secs + 8, `ended ${wallS.toFixed(1)} s after it started`);
  } finally {
    pair.dispose();
  }
});

test('the minimal image carries the built helper, with no C compiler to be found', async () => {
  const tmp = tempDir(path.join(os.tmpdir(), 'isfl-'));
  const saved = { CC: process.env.CC, PATH: process.env.PATH };
  try {
    // A compiler that always fails and a PATH with only the tools the image needs (no cc).
    const tools = path.join(tmp, 'bin');
    fs.mkdirSync(tools);
    for (const t of ['mke2fs', 'file']) {
      const where = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      if (where) fs.symlinkSync(where, path.join(tools, t));
    }
    process.env.CC = '/bin/false';
    process.env.PATH = tools;
    assert.is.not(spawnSync('/bin/sh', ['-c', 'command -v cc'], { env: process.env }).status, 0, 'no cc on PATH');
    const img = await minimalImage({ cacheDir: path.join(tmp, 'images') });
    process.env.PATH = saved.PATH;
    const inImage = path.join(img.root, FLOOD_GUEST_PATH.slice(1));
    assert.ok(fs.existsSync(inImage), `${inImage} in the image`);
    assert.ok(fs.readFileSync(inImage).equals(fs.readFileSync(bin)), 'the built helper, byte for byte');
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.CC === undefined) delete process.env.CC;
    else process.env.CC = saved.CC;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test.run();
