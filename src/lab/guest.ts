// One UML guest: its command line, its spawn (detached, own process group, inside the lab's
// host namespace, console to a log file) and its shutdown through mconsole.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import type { GuestImage } from '../images/minimal.js';
import { EXEC_CONSOLE, GUEST_INIT_PATH } from '../guest/init.js';
import { inCgroupArgs } from './cgroup.js';
import { faultPoint } from './fault.js';
import { jailArgs, programFiles, type LabIds } from './confine.js';
import { fpuAdapterPath } from './fpu.js';
import { Mconsole } from './mconsole.js';
import { dataDir, guestAddress, guestDir, guestId, guestMac, hostNetns, labDir, SUBNET_PREFIX, tapName } from './names.js';
import { netnsExecArgs } from './netns.js';
import { BUILTIN_NET, guestKernelArgs, netDevice, umlNetArg, type NetConfig } from './net-config.js';
import { endGroup, startTimeOf, waitGone } from './process.js';
import type { GuestRecord, ProcessRecord, Transport } from './state.js';

export type RootFs = 'cow' | 'hostfs';

export interface GuestSpec {
  lab: string;
  n: number;
  transport: Transport;
  /** The network configuration (net-config.ts); without it, the builtin one for `transport`. */
  net?: NetConfig;
  kernel: string;
  image: Pick<GuestImage, 'base' | 'root'>;
  /** UML's mem= (e.g. "64M"). */
  mem: string;
  /** The lab's run directory (root's: exec FIFOs). */
  dir: string;
  /** The lab's guest ids: the guest runs as uid base+n, gid base (see confine.ts). */
  ids: LabIds;
  /** `cgroup.procs` files of the guest's cgroup leaf (joined before the kernel starts). */
  cgroupProcs?: string[];
  notifyPath: string;
  servers?: string[];
  rootfs?: RootFs;
  /** More kernel command-line words (e.g. the servers' `umlperf.mailhostfs=`). */
  extraArgs?: string[];
  /** CPUs the guest runs on (taskset list); default: any. */
  cpus?: string;
}

/** The guest's record, known before it is spawned (so its files are recorded first). */
export function guestRecord(s: GuestSpec): GuestRecord {
  const id = guestId(s.n);
  return {
    id,
    n: s.n,
    address: guestAddress(s.n),
    mac: guestMac(s.n),
    tap: tapName(s.lab, s.n),
    transport: s.transport,
    umid: id,
    uid: s.ids.base + s.n,
    dir: guestDir(s.lab, s.n),
    mconsole: path.join(guestDir(s.lab, s.n), id, 'mconsole'),
    log: path.join(dataDir(s.lab), `${id}.log`),
    exec: { in: path.join(labDir(s.lab), `${id}.exec-in`), out: path.join(labDir(s.lab), `${id}.exec-out`) },
    jail: path.join(labDir(s.lab), `${id}.root`),
    cow: (s.rootfs ?? 'cow') === 'cow' ? path.join(guestDir(s.lab, s.n), 'disk.cow') : undefined,
  };
}

/**
 * Boot time, measured (printk.time, initcall_debug): the RAID6/xor speed test took 0.85 s of a
 * 1.4 s boot, the delay-loop calibration most of the rest, and registering 256 legacy BSD ptys
 * 0.2-1.1 s (the "stall" in one boot in three). Guests never use md RAID or btrfs RAID5/6, UML
 * hardly uses udelay, and Unix98 ptys (devpts) are unaffected. A kernel that lacks a parameter
 * passes it to init, which ignores it.
 */
export const FAST_BOOT_ARGS: readonly string[] = ['initcall_blacklist=raid6_select_algo', 'lpj=36429824', 'pty.legacy_count=0'];

export function guestArgs(s: GuestSpec, g: GuestRecord): string[] {
  // The builtin vector configuration has gro=1: without it host→guest TCP collapses to ~0.25 Mbit/s.
  const cfg: NetConfig = s.net ?? (s.transport === 'vector' ? BUILTIN_NET : { ...BUILTIN_NET, transport: 'tuntap' });
  const net = [umlNetArg(cfg, g.tap, g.mac)];
  const root = g.cow
    ? [`ubd0=${g.cow},${s.image.base}`, 'root=/dev/ubda', 'rw']
    : ['rootfstype=hostfs', `rootflags=${s.image.root}`, 'ro'];
  return [
    `umid=${g.umid}`,
    `uml_dir=${g.dir}`,
    `mem=${s.mem}`,
    `mconsole=notify:${s.notifyPath}`,
    'con0=null,fd:1',
    'con=null',
    'ssl=null',
    // The exec channel (guest/init.ts): host FIFOs passed as fds 3 (in) and 4 (out), never a
    // network port.
    `${EXEC_CONSOLE}=fd:3,fd:4`,
    ...root,
    ...net,
    ...guestKernelArgs(cfg),
    ...FAST_BOOT_ARGS,
    'printk.time=1',
    `init=${GUEST_INIT_PATH}`,
    `umlperf.id=${g.id}`,
    `umlperf.ip=${g.address}/${SUBNET_PREFIX}`,
    `umlperf.dev=${netDevice(cfg)}`,
    `umlperf.exec=${EXEC_CONSOLE}`,
    ...(s.servers?.length ? [`umlperf.servers=${s.servers.join(',')}`] : []),
    ...(s.extraArgs ?? []),
  ];
}

export interface SpawnedGuest {
  child: ChildProcess;
  /** The supervisor: leader of the guest's process group (its pid is the group's). */
  proc: ProcessRecord;
  spawnedAt: number;
}

/**
 * The UML process's environment. RAM is a file in $TMPDIR, which must allow exec: /dev/shm
 * does. Every guest runs with the FPU-state adapter preloaded: without it Debian's 6.1 kernel
 * dies at the first user process on hosts with AMX; where the host's area fits, it only passes
 * calls through (and says so in the console log).
 */
export function guestEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TMPDIR: '/dev/shm', LD_PRELOAD: fpuAdapterPath() };
  // Benchmarks send every call through the adapter's copying path on hosts that need none.
  if (process.env.UMLPERF_FPU_ADAPT === 'always') env.UMLPERF_FPU_ADAPT = 'always';
  return env;
}

/**
 * The guest's supervisor, run as the guest's uid: it starts the kernel, and when the kernel's
 * main process ends — halted, crashed or SIGKILLed — it kills the kernel's process group, then
 * exits with the kernel's status. UML's helper processes (its I/O threads and the ptraced
 * address spaces, one of which spins) would otherwise outlive their kernel; UML's main process
 * makes a session of its own (setsid) before it starts any helper, so they are all in it.
 */
const SUPERVISE = '"$@" & uml=$!; trap "" INT TERM HUP; wait "$uml"; st=$?; kill -KILL -"$uml" 2>/dev/null; exit $st';

/** The shell the supervisor runs in (a real path: the guest's root holds no symlinks). */
const SHELL = fs.realpathSync('/bin/sh');

/**
 * `setarch` (util-linux), which runs the kernel with address-space randomisation off
 * (personality ADDR_NO_RANDOMIZE, inherited by UML's helpers). With it on, a guest's TCP
 * throughput was bimodal from boot to boot: 7 of 11 boots took 8.4-9.2 Gbit/s and the rest
 * ~10.0, steady within each boot, while 13 of 13 boots without it took 9.9-10.4 (AMD EPYC,
 * `paper --experiment 1`): a figure that depends on where the host happened to place a
 * process cannot be repeated. What it gives away is small for Debian's kernel, a non-PIE
 * executable whose code is at a fixed address in every boot anyway (a PIE kernel given with
 * --kernel loses more: its code stops moving too). Undefined where setarch is missing (the
 * guest then boots randomised; `umlperf doctor` says so).
 */
export const SETARCH: string | undefined = ['/usr/bin/setarch', '/bin/setarch'].map((p) => {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}).find((p) => p !== undefined);

/**
 * How the guest is run, outermost first: cgroup, netns (+CPUs), its own root and uid,
 * supervisor, setarch (no address-space randomisation), kernel. `env` is the kernel's
 * environment: a preload library in it is put in the guest's root too.
 */
export function guestCommand(s: GuestSpec, g: GuestRecord, env: NodeJS.ProcessEnv = {}): string[] {
  const preload = (env.LD_PRELOAD ?? '').split(/[: ]/).filter((p) => p.startsWith('/'));
  const setarch = SETARCH ? [SETARCH] : [];
  const files = [...new Set([s.kernel, SHELL, ...setarch, ...preload].flatMap(programFiles))];
  // The image the guest boots from: read-only, like everything else it did not make.
  files.push(g.cow ? s.image.base : s.image.root);
  return inCgroupArgs(s.cgroupProcs ?? [], [
    'ip', ...netnsExecArgs(hostNetns(s.lab), s.cpus),
    ...jailArgs({ root: g.jail ?? path.join(s.dir, `${g.id}.root`), dataDir: path.dirname(g.dir ?? s.dir), files, uid: g.uid ?? s.ids.base + s.n, gid: s.ids.base }),
    SHELL, '-c', SUPERVISE, 'umlperf-guest', ...setarch.flatMap((p) => [p, '--addr-no-randomize']), s.kernel, ...guestArgs(s, g),
  ]);
}

const OPEN_LOG = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW;
const OPEN_FIFO = fs.constants.O_RDWR | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** Spawns the guest detached (a session and process group of its own) in `<lab>-host`. */
export function spawnGuest(s: GuestSpec, g: GuestRecord): SpawnedGuest {
  const fds: number[] = [];
  try {
    fds.push(fs.openSync(g.log, OPEN_LOG, 0o600));
    // Opened read-write: neither end ever sees EOF or SIGPIPE when the host side is away.
    fds.push(fs.openSync(g.exec.in, OPEN_FIFO), fs.openSync(g.exec.out, OPEN_FIFO));
    // RAM in the guest's own /dev/shm; the FPU-state adapter (LD_PRELOAD) is put in the guest's root.
    const env = guestEnv();
    fs.mkdirSync(g.jail ?? path.join(s.dir, `${g.id}.root`), { recursive: true, mode: 0o700 });
    const spawnedAt = performance.now();
    const [cmd, ...args] = guestCommand(s, g, env);
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fds[0], fds[0], fds[1], fds[2]],
      env,
    });
    if (child.pid === undefined) throw new Error(`cannot spawn ${s.kernel}`);
    faultPoint('guest-spawned');
    const pid = child.pid;
    return { child, spawnedAt, proc: { role: 'guest', id: g.id, pid, pgid: pid, startTime: startTimeOf(pid) } };
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/** The kernel's main process: the supervisor's child (undefined until it is forked). */
export function kernelPid(supervisor: number): number | undefined {
  try {
    const kids = fs.readFileSync(`/proc/${supervisor}/task/${supervisor}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Last non-empty line of a guest's console log, for error messages. */
export function lastLogLine(file: string): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trim().split('\n').slice(-1)[0]?.trim() ?? '';
  } catch {
    return '';
  }
}

/**
 * Shuts a guest down: mconsole `cad` (its init powers off), then `halt`, then SIGKILL to its
 * process group. Returns how it ended.
 */
export async function stopGuest(g: GuestRecord, p: ProcessRecord, graceful = true): Promise<'cad' | 'halt' | 'kill'> {
  if (graceful && fs.existsSync(g.mconsole)) {
    let mc: Mconsole | undefined;
    try {
      // Our reply socket goes where the guest's uid can answer to it (and nobody else can).
      mc = g.dir ? new Mconsole(g.mconsole, path.dirname(g.dir), 0o666) : new Mconsole(g.mconsole, path.dirname(g.mconsole));
      if ((await mc.cad().catch(() => undefined))?.ok && (await waitGone(p, 3000))) return 'cad';
      if ((await mc.halt().catch(() => undefined))?.ok !== undefined && (await waitGone(p, 2000))) return 'halt';
    } catch {
      // fall through to the process group
    } finally {
      mc?.close();
    }
  }
  await endGroup(p, 0);
  return 'kill';
}
