// `lab up --net` end to end: a lab made with a non-default configuration has it on the host side
// (TAP, bridge, veth MTU), in the guest (MTU, queue length, qdisc, socket buffers), in its
// state and status, and still passes traffic both ways; `tune` runs a smoke sweep and tears
// every lab it made down, a cancel included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

import { responseTime, throughput } from '../src/probes.js';
import { labGuestExec, labStatus, labUp } from '../src/lab/lab.js';
import { netnsExists } from '../src/lab/netns.js';
import { listLabs, readState } from '../src/lab/state.js';
import { teardownLab } from '../src/lab/teardown.js';
import { labTarget } from '../src/lab/names.js';
import { tune } from '../src/tune/run.js';
import { runCli } from './helpers.js';
import { resultProblems } from '../src/result/envelope.js';

const LAB = `tu${(process.pid % 100000).toString(36)}n`.slice(0, 10);
const NET = 'depth=128,mtu=9000,qdisc=noqueue,txqlen=2000,sockbuf=4MiB,tcpRmem=8MiB,rps=1';

test.after(async () => {
  await teardownLab(LAB, { graceful: false });
});

const linkMtu = (ns: string, dev: string) => Number(/mtu (\d+)/.exec(execFileSync('ip', ['-n', ns, 'link', 'show', dev], { encoding: 'utf8' }))?.[1]);

test('lab up --net: host side, guest side, state and status all carry the configuration', async () => {
  const lab = await labUp({ name: LAB, guests: 1, net: NET });
  assert.is(lab.net?.line, NET);
  const s = readState(LAB)!;
  assert.is(s.net?.config.mtu, 9000);
  assert.is(s.net?.config.sockbuf, 4 << 20);
  assert.equal(labStatus(LAB).net?.config, s.net?.config);
  for (const [ns, dev] of [[s.host.netns, `${LAB}g1`], [s.host.netns, 'br0'], [s.host.netns, 'veth0'], [s.client.netns, 'veth0']]) assert.is(linkMtu(ns, dev), 9000, `${ns} ${dev}`);
  // rps=1, guests unpinned: the TAP's received packets may go to every CPU (one CPU: left alone).
  const rps = execFileSync('ip', ['netns', 'exec', s.host.netns, 'cat', `/sys/class/net/${LAB}g1/queues/rx-0/rps_cpus`], { encoding: 'utf8' }).replace(/[,\s]/g, '');
  const cpus = Math.min(os.availableParallelism(), 64);
  assert.is(BigInt(`0x${rps}`), cpus >= 2 ? (1n << BigInt(cpus)) - 1n : 0n, `rps_cpus ${rps}`);
  const r = await labGuestExec(LAB, 'g1', ['sh', '-c', 'ip link show vec0; cat /proc/sys/net/core/rmem_max /proc/sys/net/ipv4/tcp_wmem /proc/sys/net/ipv4/tcp_rmem; cat /proc/cmdline']);
  const out = r.stdout.toString();
  assert.is(r.status, 0, r.stderr.toString());
  assert.match(out, /mtu 9000 qdisc noqueue/);
  assert.match(out, /qlen 2000/);
  assert.match(out, /\n4194304\n4096\s+16384\s+4194304\n4096\s+131072\s+8388608\n/, 'the TCP receive ceiling is the larger of sockbuf and tcpRmem');
  assert.match(out, /vec0:transport=tap,ifname=\w+,gro=1,depth=128,mtu=9000,/);
});

test('the configured lab passes traffic both ways with jumbo frames, and answers TCP and UDP', async () => {
  const t = labTarget(LAB, 'g1');
  const fwd = await throughput({ ...t, durationS: 0.5 });
  const rev = await throughput({ ...t, durationS: 0.5, reverse: true });
  assert.ok(fwd.Mbps > 10, `into the guest ${fwd.Mbps} Mbps`);
  assert.ok(rev.Mbps > 10, `out of the guest ${rev.Mbps} Mbps`);
  // Requests larger than 1500 bytes go in one frame each way (and come back whole).
  for (const protocol of ['tcp', 'udp'] as const) {
    const rt = await responseTime({ ...t, protocol, size: 8000, iterations: 200, warmup: 10, timeoutMs: 2000 });
    assert.is(rt.lost, 0, protocol);
  }
});

test('lab status --json and a probe result show the configuration; a bad --net exits 2 naming the key', () => {
  const st = runCli(['lab', 'status', '--lab', LAB, '--json']);
  assert.is(st.status, 0, st.stderr);
  assert.is(JSON.parse(st.stdout).net.line, NET);
  assert.equal(resultProblems(JSON.parse(st.stdout)), []);
  const pr = runCli(['probe', 'response', '--lab', LAB, '--target', 'g1', '--iterations', '50', '--json', '--no-samples']);
  assert.is(pr.status, 0, pr.stderr);
  const prj = JSON.parse(pr.stdout);
  assert.equal(resultProblems(prj), [], 'the probe result with its lab fields conforms');
  assert.equal((prj.runs?.[0] ?? prj).config.net, NET);
  assert.is((prj.runs?.[0] ?? prj).config.target, 'g1');
  // UDP data against a lab: datagrams of its MTU (here 9000) less the IPv4 and UDP headers,
  // received whole (not fragments reassembled: a lost fragment would lose them all).
  const udp = runCli(['probe', 'throughput', '--lab', LAB, '--target', 'g1', '--protocol', 'udp', '--rate', '200', '--duration', '0.5s', '--json']);
  assert.is(udp.status, 0, udp.stderr);
  const u = JSON.parse(udp.stdout).runs?.[0] ?? JSON.parse(udp.stdout);
  assert.is(u.config.size, 8972);
  assert.ok(u.receiverConfirmed && u.datagramsReceived > 0, JSON.stringify(u).slice(0, 300));
  const given = runCli(['probe', 'stream', '--lab', LAB, '--target', 'g1', '--size', '1000', '--rate', '10', '--duration', '0.3s', '--json']);
  assert.is(given.status, 0, given.stderr);
  assert.is((JSON.parse(given.stdout).runs?.[0] ?? JSON.parse(given.stdout)).config.size, 1000, '--size still decides');
  const bad = runCli(['lab', 'up', '--lab', LAB, '--net', 'depth=9999']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /depth=9999/);
});

const ours = (prefix: string) => listLabs().filter((l) => l.startsWith(prefix));

test('tune: a smoke sweep (baseline only) measures every figure and leaves no lab behind', async () => {
  const prefix = `tv${(process.pid % 1000).toString(36)}`.slice(0, 4);
  const r = await tune({ quick: true, transports: ['tap'], budgetMs: 0, scale: 0.1, labPrefix: prefix });
  assert.is(r.rows.length, 1);
  const f = r.rows[0].figures!;
  assert.ok(f, r.rows[0].error);
  assert.ok(f.forwardMbps > 1 && f.reverseMbps > 1, JSON.stringify(f));
  assert.ok(f.tcpP50Ns > 1000 && f.tcpP99Ns >= f.tcpP50Ns && f.udpP50Ns > 1000);
  assert.ok(f.udpLossFreeMbps >= 0);
  if (f.guestCpu !== undefined) assert.ok(f.guestCpu > 0 && f.guestCpu < 4, String(f.guestCpu));
  assert.is(r.winner.line, r.rows[0].line);
  assert.is(r.confirmation, undefined);
  assert.ok(r.truncated);
  assert.is(r.config.udpDatagram, 'mtu');
  assert.equal(resultProblems(JSON.parse(JSON.stringify(r))), [], 'the tune result conforms to the published schema');
  assert.equal(ours(prefix), []);
});

test('tune: cancelled while a lab is up, it rejects with an AbortError and tears that lab down', async () => {
  const prefix = `tw${(process.pid % 1000).toString(36)}`.slice(0, 4);
  const ac = new AbortController();
  const seen: string[] = [];
  const timer = setInterval(() => {
    const l = ours(prefix);
    if (l.length && readState(l[0])?.status === 'up') {
      seen.push(...l);
      ac.abort();
    }
  }, 50);
  try {
    await tune({ quick: true, transports: ['tap'], scale: 0.5, labPrefix: prefix, signal: ac.signal });
    assert.unreachable('should have been cancelled');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'ABORT_ERR', String(e));
  } finally {
    clearInterval(timer);
  }
  assert.ok(seen.length > 0, 'a lab was up when cancelled');
  assert.equal(ours(prefix), []);
  for (const l of seen) assert.not.ok(netnsExists(`${l}-host`) || netnsExists(`${l}-client`), l);
});

test.run();
