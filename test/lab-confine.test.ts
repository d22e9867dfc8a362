// A guest is untrusted: its root mounts hostfs at will. From inside real guests (over the exec
// channel): hostfs reaches nothing of the host but the guest's own directory — not /etc, not
// `..` escapes, not another guest's files —; symlinks it plants lead nowhere on the host;
// mknod and setuid files give it nothing. The exec channel returns output and exit status,
// honours its deadline and is no network service.
import { test } from 'uvu';
import { fpuAdapterPath } from '../src/lab/fpu.js';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';

import { DEFAULT_CHARGEN_PORT, DEFAULT_DISCARD_PORT, DEFAULT_ECHO_PORT, DEFAULT_UDP_SOURCE_PORT } from '../src/probes.js';
import { labDown, labGuestExec, labUp } from '../src/lab/lab.js';
import { guestArgs } from '../src/lab/guest.js';
import { dataDir, labDir } from '../src/lab/names.js';
import { readState } from '../src/lab/state.js';
import { teardownLab } from '../src/lab/teardown.js';
import { runCli } from './helpers.js';
import { labSnapshot, leftovers, uniqueLab, until } from './lab-helpers.js';
import { cgroupDirs } from '../src/lab/cgroup.js';
import { EXEC_LOST_STATUS } from '../src/guest/init.js';

const LAB = uniqueLab('hlc');
/** Low enough for a quick fork bomb, high enough for the guest's init, endpoint and exec agent. */
const PIDS_MAX = 64;
const secret = randomBytes(8).toString('hex');
const canaries = [`/tmp/umlperf-hlc-${process.pid}`, `/var/tmp/umlperf-hlc-${process.pid}`];

const sh = async (guest: string, script: string, timeoutMs = 20_000) => {
  const r = await labGuestExec(LAB, guest, ['sh', '-c', script], { timeoutMs });
  return { status: r.status, out: r.stdout.toString(), err: r.stderr.toString(), lost: r.lost };
};

test.before(async () => {
  for (const c of canaries) fs.writeFileSync(c, `${secret}\n`, { mode: 0o666 });
  await labUp({ name: LAB, guests: 2, guestPidsMax: PIDS_MAX });
  fs.writeFileSync(`${dataDir(LAB)}/canary`, `${secret}\n`, { mode: 0o644 });
});

test.after(async () => {
  for (const c of canaries) fs.rmSync(c, { force: true });
  await teardownLab(LAB, { graceful: false });
});

test('guest exec returns stdout, stderr and the exit status; binary output intact', async () => {
  const r = await labGuestExec(LAB, 'g1', ['sh', '-c', 'echo "out $1"; echo err >&2; exit 7', 'sh', "it's \"quoted\" $HOME"]);
  assert.is(r.status, 7);
  assert.is(r.stdout.toString(), `out it's "quoted" $HOME\n`);
  assert.is(r.stderr.toString(), 'err\n');
  const bin = await labGuestExec(LAB, 'g2', ['sh', '-c', 'printf "\\000\\001\\377\\r\\n"; hostname']);
  assert.equal([...bin.stdout], [0, 1, 255, 13, 10, ...Buffer.from('g2\n')]);
  // A large output arrives byte for byte (the guest's own checksum on stderr).
  const big = await labGuestExec(LAB, 'g1', ['sh', '-c', 'head -c 300000 /dev/urandom > /tmp/r; md5sum /tmp/r >&2; cat /tmp/r']);
  assert.is(big.stdout.length, 300_000);
  assert.is(createHash('md5').update(big.stdout).digest('hex'), big.stderr.toString().split(' ')[0]);
  // The command has stdin, stdout and stderr, and not the exec line: a command could otherwise
  // write fake replies on it, or keep it open.
  const fds = await sh('g1', 'ls /proc/$$/fd');
  const open = fds.out.trim().split(/\s+/);
  assert.ok(['0', '1', '2'].every((f) => open.includes(f)) && !open.includes('5'), fds.out);
});

test('guest exec: the deadline kills the command; the channel serves the next request', async () => {
  const t0 = Date.now();
  const r = await sh('g1', 'sleep 30; echo late', 1000);
  assert.is(r.status, 137, 'killed by its deadline');
  assert.is(r.out, '');
  assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
  assert.is((await sh('g1', 'echo again')).out, 'again\n');
});

test('the exec channel is no network service: a console on host FIFOs; the guest listens only on the endpoint ports', async () => {
  const s = readState(LAB)!;
  const args = guestArgs({ lab: LAB, n: 1, transport: 'vector', kernel: 'k', image: { base: 'b', root: 'r' }, mem: '64M', dir: labDir(LAB),
    ids: s.ids!, notifyPath: 'n' }, s.guests[0]);
  assert.ok(args.includes('con1=fd:3,fd:4'));
  assert.not.ok(args.some((a) => /port:|=tty:|=xterm|=pts/.test(a)), args.join(' '));
  for (const f of [s.guests[0].exec.in, s.guests[0].exec.out]) {
    const st = fs.statSync(f);
    assert.ok(st.isFIFO() && st.uid === 0 && (st.mode & 0o077) === 0, `${f} is root's alone`);
  }
  const r = await sh('g1', 'cat /proc/net/tcp /proc/net/udp');
  const listening = new Set<number>();
  for (const line of r.out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!/^\d+:$/.test(f[0] ?? '')) continue;
    const port = parseInt(f[1].split(':')[1], 16);
    if (f[3] === '0A' || f[2] === '00000000:0000') listening.add(port);
  }
  assert.ok([...listening].every((p) => p === DEFAULT_ECHO_PORT || p === DEFAULT_DISCARD_PORT || p === DEFAULT_CHARGEN_PORT || p === DEFAULT_UDP_SOURCE_PORT), `listening: ${[...listening].join(' ')}`);
});

test('hostfs reaches nothing of the host: /etc, .. escapes, the root, other guests, the lab files', async () => {
  const g = readState(LAB)!.guests;
  for (const opt of ['/etc', '../../etc', '../../../../../../etc', '/tmp', '/var/tmp', '/root', '/home', '/run', '/proc', labDir(LAB), g[1].dir!]) {
    const r = await sh('g1', `mkdir -p /x; mount -t hostfs none /x -o '${opt}' && { cat /x/passwd /x/shadow /x/umlperf-hlc-${process.pid} /x/state.json 2>/dev/null; ls -a /x; umount /x; }; true`);
    assert.not.match(r.out, secret, `${opt}: a host canary is readable`);
    assert.not.match(r.out, /daemon:/, `${opt}: host accounts are readable`);
    assert.not.match(r.out, /disk\.cow/, `${opt}: another guest's files are visible`);
  }
  // The whole of what hostfs shows: the guest's own root of a few read-only files.
  const all = await sh('g1', 'mount -t hostfs none /x -o / && find /x -xdev 2>/dev/null | sed s,^/x,,; umount /x');
  const seen = all.out.split('\n').filter(Boolean);
  assert.ok(seen.includes('/usr/bin/linux.uml'), all.out);
  // The FPU-state adapter is preloaded into the kernel, so it (and only it) is there read-only
  // at its own path, which may lie anywhere (the package's directory).
  const adapter = fpuAdapterPath();
  const adapterPath = new Set(adapter.split('/').map((_, i, a) => a.slice(0, i + 1).join('/')).filter(Boolean));
  assert.ok(seen.includes(adapter), `the adapter is in the guest's root: ${adapter}`);
  assert.not.ok(seen.some((p) => !adapterPath.has(p) && /^\/(etc|home|root|tmp|work|proc|sys|boot)(\/|$)/.test(p)), seen.join(' '));
  assert.not.ok(seen.some((p) => p.includes('canary') || p.endsWith('.log') || p.includes('/g2/')), seen.join(' '));
  // Nothing it sees is writable, except its own directory.
  const w = await sh('g1', `mount -t hostfs none /x -o / && for d in / /usr /usr/bin /dev ${dataDir(LAB)}; do touch "/x$d/hl-pwn" 2>/dev/null && echo "wrote $d"; done; `
    + `echo x > /x/usr/bin/linux.uml 2>/dev/null && echo "wrote kernel"; umount /x`);
  assert.is(w.out, '');
});

test('planted symlinks, mknod and setuid files in its own directory give the guest nothing on the host', async () => {
  const g1 = readState(LAB)!.guests[0];
  const r = await sh('g1', [
    `mount -t hostfs none /x -o '${g1.dir}' || exit 9`,
    `ln -s ${canaries[0]} /x/to-canary; ln -s /etc/passwd /x/to-passwd; ln -s ${dataDir(LAB)}/canary /x/to-lab`,
    'cat /x/to-canary /x/to-passwd /x/to-lab 2>/dev/null',
    'mknod /x/mem c 1 1 2>/dev/null && echo "mknod worked"',
    'mknod /x/sda b 8 0 2>/dev/null && echo "mknod worked"',
    'cp /bin/busybox /x/suid && chmod 4755 /x/suid && chown 0:0 /x/suid 2>/dev/null && echo "chown worked"',
    'ls -ln /x/suid',
    'umount /x',
  ].join('; '));
  assert.not.match(r.out, secret);
  assert.not.match(r.out, /worked/, r.out);
  // A symlink is followed inside the guest (its own /etc/passwd), never on the host.
  const hostOnly = fs.readFileSync('/etc/passwd', 'utf8').split('\n').filter((l) => l && !l.startsWith('root:'));
  assert.ok(hostOnly.length > 0);
  for (const l of hostOnly) assert.not.ok(r.out.includes(l), `host account visible: ${l}`);
  assert.ok(!fs.existsSync(`${g1.dir}/mem`) && !fs.existsSync(`${g1.dir}/sda`), 'no device node on the host');
  const st = fs.statSync(`${g1.dir}/suid`);
  assert.is(st.uid, g1.uid, 'the setuid file belongs to the guest\'s own uid, not root');
  assert.ok(st.uid !== 0 && st.gid !== 0);
  // Nobody but root and the lab's guests can reach it: the lab's data directory is closed.
  const d = fs.statSync(dataDir(LAB));
  assert.is(d.uid, 0);
  assert.is(d.mode & 0o007, 0, 'no access for others');
  assert.is(fs.readFileSync(canaries[0], 'utf8'), `${secret}\n`, 'the canary is unchanged');
});

test('lab exec --side gN on the CLI: output and status; bad sides exit 2', () => {
  const r = runCli(['lab', 'exec', '--lab', LAB, '--side', 'g2', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
  assert.is(r.status, 3, r.stderr);
  assert.is(r.stdout, 'hi\n');
  assert.is(r.stderr, 'oops\n');
  for (const side of ['g9', 'gx', 'guest']) {
    const b = runCli(['lab', 'exec', '--lab', LAB, '--side', side, '--', 'true']);
    assert.is(b.status, 2, `${side}: ${b.stderr}`);
    assert.is(b.stderr.trim().split('\n').length, 1);
  }
});

test('a fork bomb in a guest is bounded by its cgroup\'s pids.max (host processes); the guest and its exec channel recover', async () => {
  const g2 = readState(LAB)!.guests[1];
  assert.is(g2.pidsMax, PIDS_MAX);
  const dir = cgroupDirs(LAB, 'g2').find((d) => fs.existsSync(`${d}/pids.max`))!;
  const events = () => Number(/max (\d+)/.exec(fs.readFileSync(`${dir}/pids.events`, 'utf8'))?.[1] ?? 0);
  const before = events();
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, Number(fs.readFileSync(`${dir}/pids.current`, 'utf8')))), 20);
  let bomb;
  try {
    // The sleeps outlive the command, so the agent's own forks for its reply are refused too:
    // it still answers, with the command's result or with EXEC_LOST_STATUS and why.
    bomb = await sh('g2', 'for i in $(seq 200); do sleep 4 & done 2>/dev/null; true', 20_000);
  } finally {
    clearInterval(timer);
  }
  if (bomb.lost) {
    assert.is(bomb.status, EXEC_LOST_STATUS);
    assert.match(bomb.err, /could not start a program/);
  } else assert.not.match(bomb.err, /could not start a program/);
  assert.ok(events() > before, 'forks were refused at the limit');
  assert.ok(peak <= PIDS_MAX, `peak ${peak} host processes`);
  assert.ok(await until(() => Number(fs.readFileSync(`${dir}/pids.current`, 'utf8')) < PIDS_MAX / 2, 15_000), 'the sleeps end');
  const r = await sh('g2', 'echo alive');
  assert.is(r.out, 'alive\n');
});

test('a reply the agent cannot make is marked lost (status 125, lost: true); the next request is served', async () => {
  // The command puts a directory where the agent writes its reply: it cannot encode it.
  const r = await labGuestExec(LAB, 'g1', ['mkdir', '/run/umlperf-exec/cut']);
  assert.is(r.status, EXEC_LOST_STATUS);
  assert.is(r.lost, true);
  assert.match(r.stderr.toString(), /could not start a program/);
  // A command that exits 125 itself is no lost reply.
  const own = await sh('g1', 'exit 125');
  assert.is(own.status, 125);
  assert.is(own.lost, undefined);
  assert.is((await sh('g1', 'echo next')).out, 'next\n');
});

test('the exec agent, killed, runs again; a request sent while none runs waits for the next one', async () => {
  // The agent is the respawner's child (the pattern keeps grep from finding this very command).
  // The respawner is stopped for 12 s, so the next request (after this one's 6 s deadline)
  // comes while no agent reads the line.
  const kill = 'R=$(grep -l -- "-[-]respawn" /proc/[0-9]*/cmdline | cut -d/ -f3); '
    + 'setsid sh -c "sleep 12; kill -CONT $R" < /dev/null > /dev/null 2>&1 & kill -STOP $R; '
    + 'for s in /proc/[0-9]*/stat; do read -r p c st pp x < $s; [ "$pp" = "$R" ] && kill -9 $p; done; sleep 5';
  const lost = await sh('g1', kill, 1000).then(() => 'a reply', (e: Error) => e.message);
  assert.match(lost, /no exec reply/);
  assert.is((await sh('g1', 'echo back', 20_000)).out, 'back\n');
});

test('lab down leaves nothing of the confined guests', async () => {
  const snap = labSnapshot(LAB);
  await labDown(LAB);
  assert.equal(leftovers(LAB, snap), []);
});

test.run();
