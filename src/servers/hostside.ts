// The host side of a lab runs the same servers as the guests, from the same image: the
// image's root as the lower layer of an overlay (so the cached tree stays pristine), chroot
// into it inside `<lab>-host`. The mounts live in the private mount namespace `ip netns exec`
// makes, so they vanish with the last daemon and never show on the host. There is one
// lifecycle: the daemons' process groups (the start shell's; Postfix's master leads a session
// of its own) go to the caller's record (the lab's state file) as soon as each exists, and, in a
// lab, every process runs in the lab's `host` cgroup, which teardown kills whole. stop() ends
// the recorded groups; nothing else is kept here.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { UmlperfError } from '../errors.js';
import { inCgroupArgs } from '../lab/cgroup.js';
import { faultPoint } from '../lab/fault.js';
import { netnsExecArgs } from '../lab/netns.js';
import { endGroup, startTimeOf } from '../lab/process.js';
import { MAILDIR, prepareMailHostDir } from './mail.js';
import { SERVER_HOOK_DIR, parseStarted } from './start.js';
import type { ServerName } from './spec.js';
import { MAIL_BASE } from './zone.js';

export interface HostServersOptions {
  /** The namespace to serve in (the lab's `<lab>-host`). */
  netns: string;
  /** The image's root directory (used read-only). */
  root: string;
  servers: readonly ServerName[];
  /** Directory for the overlay and the Maildir; removed by stop(). */
  stateDir: string;
  timeoutMs?: number;
  /**
   * Called with each process group as soon as it exists (the start shell's, then Postfix
   * master's session), for the lab's state file: ending these groups stops every daemon.
   */
  onProcess?: (p: ServerProcess) => void;
  /** CPUs the daemons run on (taskset list); default: any. */
  cpus?: string;
  /** `cgroup.procs` files of the lab's host leaf: joined before anything starts. */
  cgroupProcs?: string[];
}

/** A process group of host-side servers, in the shape of the lab's ProcessRecord. */
export interface ServerProcess {
  role: 'server';
  id: string;
  pid: number;
  pgid: number;
  /** Field 22 of /proc/PID/stat, to tell our process from a later one with the same PID. */
  startTime: string;
}

export interface HostServers {
  servers: ServerName[];
  pids: Partial<Record<ServerName, number>>;
  /** Host path of the Maildir the host-side Postfix delivers into. */
  maildir: string;
  stateDir: string;
  stop(): Promise<void>;
}

const SETUP = `set -e
R=$1; S=$2; shift 2
M=$S/merged
mount -t overlay overlay -o "lowerdir=$R,upperdir=$S/upper,workdir=$S/work" "$M"
mount -t proc proc "$M/proc"
mount --bind /dev "$M/dev"
mount -t tmpfs -o mode=0755 tmpfs "$M/run"
mount --bind "$S/mail" "$M${MAIL_BASE}"
ip link set lo up
exec chroot "$M" /bin/sh -c 'for s; do ${SERVER_HOOK_DIR}/$s start || exit $?; done' sh "$@"
`;

export async function startHostServers(o: HostServersOptions): Promise<HostServers> {
  const S = path.resolve(o.stateDir);
  // 0755: the upper layer's root is the merged root, which the daemons' users must enter.
  for (const d of ['upper', 'work', 'merged']) await fs.mkdir(path.join(S, d), { recursive: true, mode: 0o755 });
  const maildir = await prepareMailHostDir(path.join(S, 'mail'));
  const groups: ServerProcess[] = [];
  const record = (p: ServerProcess) => {
    groups.push(p);
    o.onProcess?.(p);
  };
  const stop = async () => {
    await Promise.all(groups.map((g) => endGroup(g, 5000)));
    await fs.rm(S, { recursive: true, force: true, maxRetries: 3 });
  };
  const handle: HostServers = { servers: [...o.servers], pids: {}, maildir, stateDir: S, stop };
  if (o.servers.length === 0) return handle;

  // detached: the shell becomes a process-group (and session) leader; the daemons inherit it.
  const [cmd, ...args] = inCgroupArgs(o.cgroupProcs ?? [], ['ip', ...netnsExecArgs(o.netns, o.cpus), '/bin/sh', '-c', SETUP, 'sh', o.root, S, ...o.servers]);
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new UmlperfError('ERR_UMLPERF_SERVERS', 'cannot spawn the host-side servers');
  faultPoint('servers-spawned');
  record({ role: 'server', id: 'host-servers', pid: child.pid, pgid: child.pid, startTime: startTimeOf(child.pid) });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.once('close', (c) => { clearTimeout(timer); resolve(c); });
    child.once('error', (e) => { err += e.message; });
  });
  const started = parseStarted(out);
  for (const [n, pid] of started) handle.pids[n] = pid;
  // Postfix's master leads a session of its own: a second group to record.
  const master = started.get('mail');
  if (master) record({ role: 'server', id: 'host-mail', pid: master, pgid: master, startTime: startTimeOf(master) });
  if (code !== 0 || started.size !== o.servers.length) {
    await stop();
    throw new UmlperfError('ERR_UMLPERF_SERVERS', `starting ${o.servers.join(',')} in ${o.netns} failed (status ${code}): ${err.trim().split('\n').pop() ?? ''}`);
  }
  return handle;
}

export { MAILDIR };
