// Servers in a real lab: `labUp` with the Debian image and all three servers returns only
// once every server answers on the host side and in the guest; the guest's mail shows up in
// its host-visible Maildir; `labDown` leaves no namespace, process or directory behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { jsonResult, runCli } from './helpers.js';
import { debianImage } from '../src/images/debian.js';
import { labDown, labGuestExec, labUp, type LabInfo } from '../src/lab/lab.js';
import { readState } from '../src/lab/state.js';
import { serveBench } from '../src/servers/bench.js';
import { waitHealthy } from '../src/servers/health.js';

const name = `sv${randomBytes(3).toString('hex')}`;
let lab: LabInfo | undefined;

test('lab up with an unknown server exits 2 before creating anything', () => {
  const r = runCli(['lab', 'up', '--name', name, '--image', 'debian', '--servers', 'dns,gopher']);
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown server 'gopher'/);
  assert.not.ok(fs.existsSync(`/run/umlperf/${name}`));
});

test('lab up --servers dns,www,mail: healthy on both sides before it returns', async () => {
  lab = await labUp({ name, guests: 1, image: await debianImage(), servers: 'dns,www,mail' });
  assert.ok(lab.serversHealthyMs?.host !== undefined && lab.serversHealthyMs?.g1 !== undefined, JSON.stringify(lab));
  const procs = readState(name)!.processes.filter((p) => p.role === 'server').map((p) => p.id);
  assert.equal(procs.sort(), ['host-mail', 'host-servers']);
  // The health check's message went through the guest's Postfix into the hostfs Maildir, which
  // lives in the guest's own directory and belongs to its uid.
  const g1 = readState(name)!.guests[0];
  assert.ok(fs.readdirSync(`${g1.dir}/mail/inbox/new`).length >= 1);
  for (const f of fs.readdirSync(`${g1.dir}/mail/inbox/new`)) assert.is(fs.statSync(`${g1.dir}/mail/inbox/new/${f}`).uid, g1.uid);
});

test('exec in a Debian guest: its own files, its servers running', async () => {
  const r = await labGuestExec(name, 'g1', ['sh', '-c', 'cat /etc/debian_version; ls /proc/*/exe -l 2>/dev/null | grep -c named']);
  assert.is(r.status, 0, r.stderr.toString());
  assert.match(r.stdout.toString(), /^12\./);
});

test('what a guest plants in its Maildir (symlinks to endless files, FIFOs) does not stall or fool the host\'s mail check', async () => {
  const g1 = readState(name)!.guests[0];
  const newDir = `${g1.dir}/mail/inbox/new`;
  for (const f of fs.readdirSync(newDir)) fs.rmSync(`${newDir}/${f}`);
  // As the guest would make them through hostfs (its uid's files on the host).
  fs.symlinkSync('/dev/zero', `${newDir}/1.zero`);
  fs.symlinkSync('/etc/shadow', `${newDir}/2.shadow`);
  execFileSync('mkfifo', [`${newDir}/3.fifo`]);
  const t0 = Date.now();
  const h = await waitHealthy({ netns: `${name}-client`, addr: g1.address, servers: ['mail'], maildir: `${g1.dir}/mail/inbox`, timeoutMs: 20_000 });
  assert.ok(h.servers[0].ok, h.servers[0].detail);
  assert.match(h.servers[0].detail, /delivered to the Maildir/);
  assert.ok(Date.now() - t0 < 20_000);
});

test('each server answers in the guest under load (small bounded runs)', async () => {
  for (const [proto, requests] of [['dns', 100], ['www', 50], ['mail', 10]] as const) {
    const r = await serveBench({ server: proto, netns: `${name}-client`, addr: '198.18.0.11', target: 'g1', requests, timeoutMs: 3000 });
    assert.is(r.completed + r.errors, requests);
    assert.ok(r.completed >= requests - 1, `${proto}: ${r.firstError}`);
  }
  // The same through the CLI: its JSON is a serve-bench result of the published schema.
  const c = runCli(['serve-bench', 'www', '--lab', name, '--target', 'g1', '--requests', '20', '--timeout', '3000', '--json'], 120_000);
  assert.is(c.status, 0, c.stderr);
  const j = jsonResult(c.stdout, 'serve-bench');
  assert.equal([j.config.server, j.config.daemon, j.config.target], ['www', 'apache2', 'g1']);
  assert.ok(j.completed >= 19 && j.latency.p50Ns > 0, c.stdout);
});

test('lab down leaves nothing behind', async () => {
  const pids = readState(name)!.processes.map((p) => p.pid);
  await labDown(name);
  lab = undefined;
  for (let i = 0; i < 150 && pids.some((p) => fs.existsSync(`/proc/${p}`)); i++) await new Promise((r) => setTimeout(r, 20));
  for (const p of pids) assert.not.ok(fs.existsSync(`/proc/${p}`), `PID ${p} still runs`);
  assert.not.match(execFileSync('ip', ['netns', 'list']).toString(), name);
  assert.not.ok(fs.existsSync(`/run/umlperf/${name}`));
  assert.not.ok(fs.existsSync(`/var/lib/umlperf/labs/${name}`));
  assert.not.match(fs.readFileSync('/proc/self/mountinfo', 'utf8'), name);
});

test.after(async () => {
  if (lab) await labDown(name).catch(() => undefined);
});

test.run();
