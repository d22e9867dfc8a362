// `lab up --net`: parsing and validation of key=value lines and presets, what a configuration
// means for UML's command line and the guest's script, and the presets file as input (owner,
// mode, symlinks, content). No lab: see net-lab.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  BUILTIN_NET, formatNet, guestKernelArgs, guestNetScript, hostOffloadArgs, netUnsupported, parseNetLine, readNetPresets, resolveNet, rpsMask,
  saveNetPreset, umlNetArg, validatePresets, type NetConfig,
} from '../src/lab/net-config.js';
import { guestArgs, guestRecord, type GuestSpec } from '../src/lab/guest.js';
import { runCli, tempDir } from './helpers.js';

const usage = (f: () => unknown, re: RegExp) => {
  try {
    f();
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ERR_UMLPERF_USAGE', String(e));
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/);
  }
};

test('a key=value line sets those keys over the built-in configuration', () => {
  const c = parseNetLine('mtu=9000,sockbuf=4MiB,depth=256,qdisc=noqueue,txqlen=2000,cpus=1,vec=0');
  assert.equal(c, { ...BUILTIN_NET, mtu: 9000, sockbuf: 4 << 20, depth: 256, qdisc: 'noqueue', txqlen: 2000, cpus: '1', vec: false });
  assert.is(parseNetLine('sockbuf=262144').sockbuf, 262144);
  assert.is(parseNetLine('sockbuf=512k').sockbuf, 512 * 1024);
  assert.is(parseNetLine('offload=off').hostOffload, 'off');
  assert.is(parseNetLine('transport=tuntap').transport, 'tuntap');
});

test('bad keys and values: one-line usage errors that name the key', () => {
  usage(() => parseNetLine('foo=1'), /unknown key "foo"/);
  usage(() => parseNetLine('mtu=99999'), /mtu=99999: 576 to 9000/);
  usage(() => parseNetLine('mtu=100'), /mtu=100/);
  usage(() => parseNetLine('mtu=9k'), /mtu="9k"/);
  usage(() => parseNetLine('gro=yes'), /gro="yes": 0 or 1/);
  usage(() => parseNetLine('depth=3'), /depth=3/);
  usage(() => parseNetLine('transport=vde'), /transport="vde": one of tap, raw, hybrid, tuntap/);
  usage(() => parseNetLine('qdisc=fq'), /qdisc="fq"/);
  usage(() => parseNetLine('sockbuf=1k'), /sockbuf=1k: 0 .* or 64KiB to 64MiB/);
  usage(() => parseNetLine('sockbuf=1GiB'), /sockbuf/);
  usage(() => parseNetLine('cpus=0;rm'), /cpus=/);
  usage(() => parseNetLine('mtu=1500,mtu=9000'), /mtu given twice/);
  usage(() => parseNetLine('mtu'), /"mtu" is not key=value/);
  usage(() => parseNetLine('=1'), /not key=value/);
  usage(() => parseNetLine(`mtu=1500,${'x'.repeat(2000)}`), /at most 1024/);
});

test('rules across keys: tuntap takes no vector options nor big frames; big frames need gro', () => {
  usage(() => parseNetLine('transport=tuntap,mtu=9000'), /tuntap driver takes at most 1500/);
  usage(() => parseNetLine('transport=tuntap,depth=128'), /vector driver/);
  usage(() => parseNetLine('gro=0,mtu=9000'), /needs gro=1/);
  assert.is(parseNetLine('gro=0').gro, false);
});

test('formatNet gives the canonical line: only what differs from builtin, and it parses back', () => {
  assert.is(formatNet(BUILTIN_NET), '');
  const c = parseNetLine('sockbuf=4194304,mtu=9000,gro=1');
  assert.is(formatNet(c), 'mtu=9000,sockbuf=4MiB');
  assert.equal(parseNetLine(formatNet(c)), c);
  assert.is(formatNet(parseNetLine('tcpRmem=0,sockbuf=1MiB')), 'sockbuf=1MiB,tcpRmem=0');
  assert.is(parseNetLine('tcpRmem=8m').tcpRmem, 8 << 20);
  usage(() => parseNetLine('tcpRmem=1k'), /tcpRmem=1k: 0 .* or 64KiB to 64MiB/);
  // A configuration saved before tcpRmem existed meant the kernel's ceiling: so it reads.
  const { tcpRmem: _, ...old } = BUILTIN_NET;
  assert.is(formatNet(old as NetConfig), 'tcpRmem=0');
  const { rps: __, ...older } = parseNetLine('rps=0');
  assert.is(formatNet(older as NetConfig), '');
});

test('UML arguments: the vector driver with its options, the legacy driver; the qdisc on the kernel command line', () => {
  assert.is(umlNetArg(BUILTIN_NET, 'lg1', '02:00:c6:12:00:0b'), 'vec0:transport=tap,ifname=lg1,gro=1,mac=02:00:c6:12:00:0b');
  assert.is(umlNetArg(parseNetLine('mtu=9000,depth=128,vec=0'), 'lg1', 'm'), 'vec0:transport=tap,ifname=lg1,gro=1,vec=0,depth=128,mtu=9000,mac=m');
  assert.is(umlNetArg(parseNetLine('transport=tuntap'), 'lg1', 'm'), 'eth0=tuntap,lg1,m');
  assert.equal(guestKernelArgs(parseNetLine('qdisc=noqueue,tcpRmem=0')), ['sysctl.net.core.default_qdisc=noqueue']);
  assert.equal(guestKernelArgs(parseNetLine('sockbuf=1MiB')), [
    'sysctl.net.core.rmem_max=1048576', 'sysctl.net.core.wmem_max=1048576', 'sysctl.net.core.rmem_default=1048576', 'sysctl.net.core.wmem_default=1048576',
    'sysctl.net.ipv4.tcp_rmem="4096 131072 4194304"', 'sysctl.net.ipv4.tcp_wmem="4096 16384 1048576"',
  ], 'the TCP receive ceiling is the larger of sockbuf and tcpRmem');
  assert.match(guestKernelArgs(parseNetLine('sockbuf=1MiB,tcpRmem=0')).join(' '), /tcp_rmem="4096 131072 1048576"/);
  assert.match(guestKernelArgs(parseNetLine('sockbuf=16MiB')).join(' '), /tcp_rmem="4096 131072 16777216"/);
  assert.equal(guestKernelArgs(parseNetLine('tcpRmem=8MiB')), ['sysctl.net.ipv4.tcp_rmem="4096 131072 8388608"']);
  // Builtin: the guest's TCP receive window may grow to 4 MiB (its kernel scales it to its memory).
  assert.equal(guestKernelArgs(BUILTIN_NET), ['sysctl.net.ipv4.tcp_rmem="4096 131072 4194304"']);
  assert.equal(guestKernelArgs(parseNetLine('tcpRmem=0')), []);
  // The guest's command line carries them (and the device name follows the driver).
  const spec: GuestSpec = {
    lab: 'x', n: 1, transport: 'tuntap', net: parseNetLine('transport=tuntap,qdisc=pfifo'), kernel: '/k', image: { base: '/b', root: '/r' }, mem: '64M',
    dir: '/d', ids: { base: 100000 }, notifyPath: '/n',
  };
  const args = guestArgs(spec, guestRecord(spec));
  assert.ok(args.includes('eth0=tuntap,xg1,02:00:c6:12:00:0b'), args.join(' '));
  assert.ok(args.includes('sysctl.net.core.default_qdisc=pfifo'));
  assert.ok(args.includes('sysctl.net.ipv4.tcp_rmem="4096 131072 4194304"'), 'builtin: the TCP receive ceiling');
  assert.ok(args.includes('umlperf.dev=eth0'));
  // Without a configuration: the builtin one (gro=1 on the vector driver).
  const v = guestArgs({ ...spec, transport: 'vector', net: undefined }, guestRecord(spec));
  assert.ok(v.includes('vec0:transport=tap,ifname=xg1,gro=1,mac=02:00:c6:12:00:0b'), v.join(' '));
});

test('the guest script sets what the command line cannot (queue length, the legacy driver\'s MTU), and nothing else', () => {
  assert.is(guestNetScript(BUILTIN_NET), '');
  assert.is(guestNetScript(parseNetLine('mtu=4000,sockbuf=1MiB,qdisc=pfifo')), '', 'the vector driver takes mtu=; sysctls are boot parameters');
  const s = guestNetScript(parseNetLine('txqlen=3000'));
  assert.match(s, /ip link set dev vec0 qlen 3000/);
  assert.match(guestNetScript(parseNetLine('transport=tuntap,mtu=1400')), /ip link set dev eth0 mtu 1400/);
  assert.equal(hostOffloadArgs(parseNetLine('offload=off'), 't'), ['-K', 't', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off']);
  assert.is(hostOffloadArgs(BUILTIN_NET, 't'), undefined);
});

test('raw and hybrid need CAP_NET_RAW (guests run unprivileged); host offloads need ethtool', () => {
  assert.match(netUnsupported(parseNetLine('transport=raw'), { ethtool: true }) ?? '', /CAP_NET_RAW/);
  assert.match(netUnsupported(parseNetLine('transport=hybrid'), { ethtool: true }) ?? '', /CAP_NET_RAW/);
  assert.match(netUnsupported(parseNetLine('offload=on'), { ethtool: false }) ?? '', /ethtool/);
  assert.is(netUnsupported(parseNetLine('offload=on'), { ethtool: true }), undefined);
  assert.is(netUnsupported(BUILTIN_NET, { ethtool: false }), undefined);
});

const tmp = tempDir(path.join(os.tmpdir(), 'umlperf-net-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('presets: saved, read back, resolved by name with overrides; builtin and default always exist', () => {
  const file = path.join(tmp, 'p1', 'net-presets.json');
  assert.equal(readNetPresets({ file }), {});
  assert.equal(resolveNet('default', { file }).config, BUILTIN_NET);
  assert.equal(resolveNet(undefined, { file }).config, BUILTIN_NET);
  saveNetPreset('fast', parseNetLine('mtu=9000'), { file });
  saveNetPreset('default', parseNetLine('sockbuf=4MiB'), { file });
  assert.is((fs.statSync(file).mode & 0o777).toString(8), '600');
  assert.equal({ ...readNetPresets({ file }) }, { fast: 'mtu=9000', default: 'sockbuf=4MiB' });
  assert.is(resolveNet('fast', { file }).config.mtu, 9000);
  assert.is(resolveNet('fast', { file }).preset, 'fast');
  assert.equal(resolveNet('fast,mtu=1500,depth=128', { file }).config, { ...BUILTIN_NET, depth: 128 });
  assert.is(resolveNet(undefined, { file }).config.sockbuf, 4 << 20);
  assert.equal(resolveNet('builtin', { file }).config, BUILTIN_NET);
  usage(() => resolveNet('nosuch', { file }), /no preset "nosuch" \(builtin, default, fast\)/);
  usage(() => resolveNet('Bad!', { file }), /not a preset name/);
  usage(() => saveNetPreset('builtin', BUILTIN_NET, { file }), /bad preset name/);
  assert.equal(resolveNet({ mtu: 4000 }).config, { ...BUILTIN_NET, mtu: 4000 });
  usage(() => resolveNet({ mtu: 4000.5 } as never), /mtu/);
});

test('the presets file is input: bad JSON, names, lines, symlinks, foreign owners and loose modes are refused', () => {
  const bad = (text: string, re: RegExp) => {
    try {
      validatePresets(text, 'f');
      assert.unreachable('should have thrown');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'ERR_UMLPERF_PRESETS');
      assert.match((e as Error).message, re);
    }
  };
  bad('{', /not JSON/);
  bad('[]', /expected/);
  bad('{"version":2,"presets":{}}', /expected/);
  bad('{"version":1,"presets":{"../x":"mtu=9000"}}', /bad preset name/);
  bad('{"version":1,"presets":{"builtin":""}}', /bad preset name/);
  bad('{"version":1,"presets":{"a":5}}', /not a string/);
  bad('{"version":1,"presets":{"a":"mtu=99999"}}', /preset a: mtu=99999/);
  bad('{"version":1,"presets":{"a":"transport=tap;reboot"}}', /preset a/);
  assert.equal({ ...validatePresets('{"version":1,"presets":{"a":"mtu=9000"}}') }, { a: 'mtu=9000' });

  const dir = path.join(tmp, 'p2');
  fs.mkdirSync(dir, { mode: 0o700 });
  const file = path.join(dir, 'net-presets.json');
  const code = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as { code?: string }).code;
    }
  };
  fs.writeFileSync(path.join(dir, 'real.json'), '{"version":1,"presets":{"a":"mtu=9000"}}', { mode: 0o600 });
  fs.symlinkSync(path.join(dir, 'real.json'), file);
  assert.is(code(() => readNetPresets({ file })), 'ERR_UMLPERF_PRESETS', 'a symlink');
  fs.rmSync(file);
  fs.writeFileSync(file, '{"version":1,"presets":{"a":"mtu=9000"}}', { mode: 0o600 });
  fs.chmodSync(file, 0o666);
  assert.is(code(() => readNetPresets({ file })), 'ERR_UMLPERF_PRESETS', 'world-writable');
  fs.chmodSync(file, 0o600);
  assert.is(code(() => readNetPresets({ file })), 'ok');
  if (process.geteuid?.() === 0) {
    fs.chownSync(file, 65534, 65534);
    assert.is(code(() => readNetPresets({ file })), 'ERR_UMLPERF_PRESETS', 'owned by nobody');
    fs.chownSync(file, 0, 0);
  }
  fs.writeFileSync(file, ' '.repeat(70_000), { mode: 0o600 });
  assert.is(code(() => readNetPresets({ file })), 'ERR_UMLPERF_PRESETS', 'too large');
  // A loose directory is refused for saving.
  const loose = path.join(tmp, 'p3');
  fs.mkdirSync(loose, { mode: 0o777 });
  fs.chmodSync(loose, 0o777);
  assert.is(code(() => saveNetPreset('x', BUILTIN_NET, { file: path.join(loose, 'p.json') })), 'ERR_UMLPERF_PRESETS');
});

test('CLI: a bad --net is a one-line usage error with exit status 2, before anything is made', () => {
  for (const net of ['foo=1', 'mtu=99999', 'transport=tuntap,mtu=9000', 'nosuchpreset']) {
    const r = runCli(['lab', 'up', '--lab', 'tunetbad', '--net', net]);
    assert.is(r.status, 2, `${net}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--net/);
    assert.not.match(r.stderr, /at .*\.js:\d+/);
  }
  assert.not.ok(fs.existsSync('/run/umlperf/tunetbad'));
  const t = runCli(['tune', '--transports', 'tap,vde']);
  assert.is(t.status, 2, t.stderr);
  const s = runCli(['tune', '--save', 'Bad Name']);
  assert.is(s.status, 2, s.stderr);
});

test('rps: parsed, formatted, and its mask is the CPUs the guests are not pinned to', () => {
  const c = parseNetLine('rps=1,cpus=1');
  assert.is(c.rps, true);
  assert.is(formatNet(c), 'cpus=1,rps=1');
  assert.is(rpsMask(c, 2), '1');
  assert.is(rpsMask(parseNetLine('rps=1,cpus=0,2'), 4), 'a');
  // A CPU list's own commas: the list goes on until the next key.
  const list = parseNetLine('cpus=0,2-3,rps=1');
  assert.equal([list.cpus, list.rps], ['0,2-3', true]);
  assert.equal(parseNetLine(formatNet(list)), list);
  assert.throws(() => parseNetLine('cpus=0,x'), /"x" is not key=value/);
  assert.throws(() => parseNetLine('rps=1,2'), /"2" is not key=value/);
  assert.is(rpsMask(parseNetLine('rps=1,cpus=2-3'), 4), '3');
  // Unpinned, or pinned to every CPU: all of them; one CPU or rps off: left alone.
  assert.is(rpsMask(parseNetLine('rps=1'), 4), 'f');
  assert.is(rpsMask(parseNetLine('rps=1,cpus=0-1'), 2), '3');
  assert.is(rpsMask(parseNetLine('rps=1'), 1), undefined);
  // Past 32 CPUs, 32-bit words separated by commas (the kernel takes no longer word).
  assert.is(rpsMask(parseNetLine('rps=1,cpus=0'), 40), 'ff,fffffffe');
  assert.is(rpsMask(parseNetLine('rps=1,cpus=32-39'), 40), 'ffffffff');
  assert.is(rpsMask(parseNetLine('rps=1,cpus=0-31'), 40), 'ff,00000000');
  assert.is(rpsMask(BUILTIN_NET, 4), undefined);
  // A configuration saved before the key (no rps) formats as the built-in one.
  const { rps: _r, ...old } = BUILTIN_NET;
  assert.is(formatNet(old as never), '');
  assert.throws(() => parseNetLine('rps=2'), /rps=.*0 or 1/);
});

test.run();
