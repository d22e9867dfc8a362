// One UML guest: its command line, its spawn (detached, own process group, inside the lab's
// host namespace, console to a log file) and its shutdown through mconsole.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import type { GuestImage } from '../images/minimal.js';
import { GUEST_INIT_PATH } from '../guest/init.js';
import { fpuAdapterPath } from './fpu.js';
import { Mconsole } from './mconsole.js';
import { guestAddress, guestId, guestMac, hostNetns, SUBNET_PREFIX, tapName } from './names.js';
import { netnsExecArgs } from './netns.js';
import { endGroup, startTimeOf, waitGone } from './process.js';
import type { GuestRecord, ProcessRecord, Transport } from './state.js';

export type RootFs = 'cow' | 'hostfs';

export interface GuestSpec {
  lab: string;
  n: number;
  transport: Transport;
  kernel: string;
  image: Pick<GuestImage, 'base' | 'root'>;
  /** UML's mem= (e.g. "64M"). */
  mem: string;
  /** The lab's run directory: uml_dir, COW file, console log. */
  dir: string;
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
    mconsole: path.join(s.dir, id, 'mconsole'),
    log: path.join(s.dir, `${id}.log`),
    cow: (s.rootfs ?? 'cow') === 'cow' ? path.join(s.dir, `${id}.cow`) : undefined,
  };
}

export function guestArgs(s: GuestSpec, g: GuestRecord): string[] {
  const net = s.transport === 'vector'
    // gro=1 is not optional: without it host→guest TCP collapses to ~0.25 Mbit/s.
    ? [`vec0:transport=tap,ifname=${g.tap},gro=1,mac=${g.mac}`]
    : [`eth0=tuntap,${g.tap},${g.mac}`];
  const root = g.cow
    ? [`ubd0=${g.cow},${s.image.base}`, 'root=/dev/ubda', 'rw']
    : ['rootfstype=hostfs', `rootflags=${s.image.root}`, 'ro'];
  return [
    `umid=${g.umid}`,
    `uml_dir=${s.dir}`,
    `mem=${s.mem}`,
    `mconsole=notify:${s.notifyPath}`,
    'con0=null,fd:1',
    'con=null',
    'ssl=null',
    ...root,
    ...net,
    // Boot time, measured (printk.time): the RAID6/xor speed test alone took 0.85 s of a 1.4 s
    // boot, the delay-loop calibration most of the rest. Guests never use md RAID or btrfs
    // RAID5/6, so skip the test; a preset loops_per_jiffy skips the calibration (UML hardly
    // uses udelay). Kernels that lack either parameter pass it to init, which ignores it.
    'initcall_blacklist=raid6_select_algo',
    'lpj=36429824',
    // The other slow step (initcall_debug): registering 256 legacy BSD ptys took 0.2-1.1 s of
    // boot, the "stall" seen in one boot in three. Unix98 ptys (devpts) are unaffected.
    'pty.legacy_count=0',
    'printk.time=1',
    `init=${GUEST_INIT_PATH}`,
    `umlperf.id=${g.id}`,
    `umlperf.ip=${g.address}/${SUBNET_PREFIX}`,
    `umlperf.dev=${s.transport === 'vector' ? 'vec0' : 'eth0'}`,
    ...(s.servers?.length ? [`umlperf.servers=${s.servers.join(',')}`] : []),
    ...(s.extraArgs ?? []),
  ];
}

export interface SpawnedGuest {
  child: ChildProcess;
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

/** Spawns the guest detached (a session and process group of its own) in `<lab>-host`. */
export function spawnGuest(s: GuestSpec, g: GuestRecord): SpawnedGuest {
  const log = fs.openSync(g.log, 'a');
  try {
    const spawnedAt = performance.now();
    const child = spawn('ip', [...netnsExecArgs(hostNetns(s.lab), s.cpus), s.kernel, ...guestArgs(s, g)], {
      detached: true,
      stdio: ['ignore', log, log],
      env: guestEnv(),
    });
    if (child.pid === undefined) throw new Error(`cannot spawn ${s.kernel}`);
    const pid = child.pid;
    return { child, spawnedAt, proc: { role: 'guest', id: g.id, pid, pgid: pid, startTime: startTimeOf(pid) } };
  } finally {
    fs.closeSync(log);
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
export async function stopGuest(g: GuestRecord, p: ProcessRecord, dir: string, graceful = true): Promise<'cad' | 'halt' | 'kill'> {
  if (graceful && fs.existsSync(g.mconsole)) {
    let mc: Mconsole | undefined;
    try {
      mc = new Mconsole(g.mconsole, dir);
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
