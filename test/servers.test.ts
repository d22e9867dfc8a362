// Servers on the host side of a namespace pair with the lab's address plan: each answers its
// real protocol, mail lands in the Maildir, the benchmarks measure, and stopping leaves
// nothing behind. The Debian image is built once (~35 s) and cached for every later run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { assertResult, runCli } from './helpers.js';
import { makeNetPair, type NetPair } from './fixtures/netpair.js';
import { debianImage, type DebianImage } from '../src/images/debian.js';
import { startHostServers, type HostServers, type ServerProcess } from '../src/servers/hostside.js';
import { waitHealthy } from '../src/servers/health.js';
import { serveBench } from '../src/servers/bench.js';
import { parseServers, hookScript } from '../src/servers/start.js';
import { decodeResponse, encodeQuery } from '../src/servers/protocols.js';
import { zoneFile } from '../src/servers/zone.js';

test('server lists: any subset, deduplicated; an unknown name is a usage error', () => {
  assert.equal(parseServers('mail,dns,mail'), ['mail', 'dns']);
  assert.equal(parseServers('none'), []);
  assert.throws(() => parseServers('dns,ftp'), (e: Error & { code: string }) => e.code === 'ERR_UMLPERF_USAGE' && /ftp/.test(e.message));
});

test('unknown server or protocol on the command line exits 2 with one line', () => {
  const r = runCli(['serve-bench', 'ftp', '--lab', 'nolab']);
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stderr.trim().split('\n').length, 1);
  const r2 = runCli(['serve-bench', 'dns', '--lab', 'nolab', '--target', 'x7']);
  assert.is(r2.status, 2, r2.stderr);
});

test('the zone names host, client, guests, www and mail, with MX to mail', () => {
  const z = zoneFile();
  assert.match(z, /^www\tIN\tA\t198\.18\.0\.1$/m);
  assert.match(z, /^client\tIN\tA\t198\.18\.0\.2$/m);
  assert.match(z, /^g3\tIN\tA\t198\.18\.0\.13$/m);
  assert.match(z, /^@\tIN\tMX\t10 mail$/m);
  assert.not.match(z, /\b(?!198\.1[89]\.)\d+\.\d+\.\d+\.\d+\b/, 'only benchmarking-range addresses');
});

test('DNS wire: a query decodes as its own question; a foreign id is ignored', () => {
  const q = encodeQuery(0x1234, 'www.umlperf.test', 'A');
  assert.is(q.readUInt16BE(0), 0x1234);
  // Turn the query into a minimal authoritative answer with one A record (compressed name).
  const ans = Buffer.concat([q, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 18, 0, 1])]);
  ans.writeUInt16BE(0x8400, 2);
  ans.writeUInt16BE(1, 6);
  assert.equal(decodeResponse(ans, 0x1234), { rcode: 0, authoritative: true, answers: ['198.18.0.1'] });
  assert.is(decodeResponse(ans, 0x1235), undefined);
});

test('hooks start daemons without daemonising and record their PIDs', () => {
  const h = hookScript('mail');
  assert.match(h, /master -s .*&\n/);
  assert.match(h, /echo \$! > \/run\/umlperf\/servers\/mail\.pid/);
  assert.match(hookScript('www'), /-DFOREGROUND/);
  assert.match(hookScript('dns'), /named -4 -g/);
});

let img: DebianImage;
let pair: NetPair | undefined;
let hs: HostServers | undefined;
const groups: ServerProcess[] = [];

test('debian image: built once, then cached with the same name', async () => {
  img = await debianImage();
  const again = await debianImage();
  assert.is(again.built, false);
  assert.is(again.name, img.name);
  assert.ok(fs.existsSync(`${img.root}/etc/umlperf/servers.d/mail`));
  assert.ok(img.baseAllocatedBytes < img.baseBytes, 'the base image is sparse');
});

test('host side: DNS, WWW (two vhosts) and mail all pass their checks; mail is delivered', async () => {
  pair = makeNetPair();
  hs = await startHostServers({ netns: pair.host, root: img.root, servers: ['dns', 'www', 'mail'],
    stateDir: `/run/umlperf/${pair.name}-servers`, onProcess: (p) => groups.push(p) });
  assert.equal(Object.keys(hs.pids).sort(), ['dns', 'mail', 'www']);
  assert.equal(groups.map((g) => g.id), ['host-servers', 'host-mail']);
  const h = await waitHealthy({ netns: pair.client, addr: '198.18.0.1', servers: hs.servers, maildir: hs.maildir, timeoutMs: 20_000 });
  assert.ok(h.servers.every((s) => s.ok));
  assert.match(h.servers.find((s) => s.server === 'mail')!.detail, /delivered to the Maildir/);
  assert.ok(fs.readdirSync(`${hs.maildir}/new`).length >= 1);
  // The cached image root is never written: state goes to the overlay's upper layer.
  assert.not.ok(fs.existsSync(`${img.root}/run/umlperf`));
});

test('a server that does not answer fails its check with a line naming target and server', async () => {
  try {
    await waitHealthy({ netns: pair!.client, addr: '198.18.0.99', servers: ['www'], timeoutMs: 300, label: 'g89' });
    assert.unreachable('nothing listens at 198.18.0.99');
  } catch (e) {
    assert.match((e as Error).message, /^g89: not healthy after 300 ms: WWW \(Apache httpd\): /);
  }
});

test('serve-bench measures each protocol with integer-ns statistics, bounded by count', async () => {
  for (const proto of ['dns', 'www', 'mail'] as const) {
    const r = await serveBench({ server: proto, netns: pair!.client, addr: '198.18.0.1', target: 'host', requests: 50, concurrency: 2 });
    assert.is(r.completed, 50, `${proto}: ${r.firstError}`);
    assertResult(JSON.parse(JSON.stringify(r)), 'serve-bench');
    assert.match(r.timing, /process\.hrtime/, 'says what it times');
    assert.is(r.errors, 0);
    assert.ok(Number.isInteger(r.latency.p50Ns) && r.latency.p50Ns > 0);
    assert.ok(r.latency.minNs <= r.latency.p50Ns && r.latency.p50Ns <= r.latency.maxNs);
    assert.ok(r.requestsPerSecond > 0);
  }
});

test('stop leaves nothing: no processes of ours, no state directory, no mounts, no namespaces', async () => {
  const pids = Object.values(hs!.pids);
  await hs!.stop();
  // Reaping by PID 1 may lag a moment behind the exit.
  for (let i = 0; i < 100 && pids.some((pid) => fs.existsSync(`/proc/${pid}`)); i++) await new Promise((r) => setTimeout(r, 20));
  for (const pid of pids) assert.not.ok(fs.existsSync(`/proc/${pid}`), `PID ${pid} still runs`);
  assert.not.ok(fs.existsSync(hs!.stateDir));
  assert.not.match(fs.readFileSync('/proc/self/mountinfo', 'utf8'), `${pair!.name}-servers`);
  pair!.dispose();
  assert.not.match(execFileSync('ip', ['netns', 'list']).toString(), pair!.name);
  assert.not.match(fs.readFileSync('/proc/self/mountinfo', 'utf8'), pair!.name);
  pair = undefined;
});

test.after(async () => {
  await hs?.stop().catch(() => undefined);
  pair?.dispose();
});

test.run();
