// The host side of a lab runs the same servers as the guests, from the same image: the
// image's root as the lower layer of an overlay (so the cached tree stays pristine), chroot
// into it inside `<lab>-host`. The mounts live in the private mount namespace `ip netns exec`
// makes, so they vanish with the last daemon and never show on the host. Daemons stay in one
// process group (Postfix's master in its own session); both are recorded in a state file and
// stopped by those IDs, never by name.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { UmlperfError } from '../errors.js';
import { netnsExecArgs } from '../lab/netns.js';
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
  /** Directory for the overlay, the Maildir and the state file; removed by stop(). */
  stateDir: string;
  timeoutMs?: number;
  /**
   * Called with each process group as soon as it exists (the start shell's, then Postfix
   * master's session), for the lab's state file: ending these groups stops every daemon.
   */
  onProcess?: (p: ServerProcess) => void;
  /** CPUs the daemons run on (taskset list); default: any. */
  cpus?: string;
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

function startTimeOf(pid: number): string {
  try {
    const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return t.slice(t.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

export interface HostServers {
  servers: ServerName[];
  pids: Partial<Record<ServerName, number>>;
  /** Host path of the Maildir the host-side Postfix delivers into. */
  maildir: string;
  stateDir: string;
  stop(): Promise<void>;
}

interface State {
  pgid: number;
  pids: number[];
  mntNs?: string;
  netns: string;
}

const STATE_FILE = 'servers.json';

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
  for (const d of ['upper', 'work', 'merged']) await fs.mkdir(path.join(S, d), { recursive: true });
  const maildir = await prepareMailHostDir(path.join(S, 'mail'));
  const handle: HostServers = { servers: [...o.servers], pids: {}, maildir, stateDir: S, stop: () => stopHostServers(S) };
  if (o.servers.length === 0) return handle;

  // detached: the shell becomes a process-group (and session) leader; the daemons inherit it.
  const child = spawn('ip', [...netnsExecArgs(o.netns, o.cpus), '/bin/sh', '-c', SETUP, 'sh', o.root, S, ...o.servers], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const state: State = { pgid: child.pid!, pids: [], netns: o.netns };
  o.onProcess?.({ role: 'server', id: 'host-servers', pid: child.pid!, pgid: child.pid!, startTime: startTimeOf(child.pid!) });
  await writeState(S, state);
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
  state.pids = [...started.values()];
  // Postfix's master leads a session of its own: a second group to record.
  const master = started.get('mail');
  if (master) o.onProcess?.({ role: 'server', id: 'host-mail', pid: master, pgid: master, startTime: startTimeOf(master) });
  state.mntNs = await fs.readlink(`/proc/${state.pids[0]}/ns/mnt`).catch(() => undefined);
  await writeState(S, state);
  if (code !== 0 || started.size !== o.servers.length) {
    await stopHostServers(S);
    throw new UmlperfError('ERR_UMLPERF_SERVERS', `starting ${o.servers.join(',')} in ${o.netns} failed (status ${code}): ${err.trim().split('\n').pop() ?? ''}`);
  }
  return handle;
}

async function writeState(dir: string, s: State): Promise<void> {
  const tmp = path.join(dir, `${STATE_FILE}.tmp`);
  await fs.writeFile(tmp, JSON.stringify(s) + '\n');
  await fs.rename(tmp, path.join(dir, STATE_FILE));
}

/** Processes of our group or of a recorded daemon's session, still in our mount namespace. */
async function ours(s: State): Promise<number[]> {
  const ids = new Set([s.pgid, ...s.pids]);
  const selfNs = await fs.readlink('/proc/self/ns/mnt');
  const found: number[] = [];
  for (const e of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await fs.readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    const sid = Number(f[3]);
    if (!ids.has(pgrp) && !ids.has(sid)) continue;
    // Guards against reused IDs: our daemons live in the mount namespace made for them.
    if (f[0] === 'Z' || f[0] === 'X') continue;
    // An exiting process has dropped its namespaces already: still ours until it is gone.
    const ns = await fs.readlink(`/proc/${e}/ns/mnt`).catch(() => '');
    if (ns !== '' && (s.mntNs ? ns !== s.mntNs : ns === selfNs)) continue;
    found.push(Number(e));
  }
  return found;
}

/** Stops the servers recorded in stateDir (also after a crash of the process that started them). */
export async function stopHostServers(stateDir: string): Promise<void> {
  const S = path.resolve(stateDir);
  const raw = await fs.readFile(path.join(S, STATE_FILE), 'utf8').catch(() => undefined);
  if (raw !== undefined) {
    const s = JSON.parse(raw) as State;
    for (const [sig, waitMs] of [['SIGTERM', 5000], ['SIGKILL', 2000]] as const) {
      let left = await ours(s);
      for (const pid of left) { try { process.kill(pid, sig); } catch { /* gone */ } }
      const end = Date.now() + waitMs;
      while (left.length && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
        left = await ours(s);
      }
      if (!left.length) break;
    }
    const stubborn = await ours(s);
    if (stubborn.length) throw new UmlperfError('ERR_UMLPERF_SERVERS', `host-side servers did not stop: PIDs ${stubborn.join(' ')}`);
  }
  await fs.rm(S, { recursive: true, force: true, maxRetries: 3 });
}

export { MAILDIR };
