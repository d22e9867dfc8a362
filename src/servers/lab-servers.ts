// What a lab needs from the servers, in four calls (used by src/lab/lab.ts):
//   planLabServers    validate the list (a UsageError names an unknown server), fix the paths;
//   guestServerArgs   per guest, before it boots: its Maildir on a host directory (hostfs) in
//                     the guest's own directory, owned by the guest's host uid;
//   startLabHostServers  the same servers from the image's root in `<lab>-host`;
//   waitLabHealthy    every server on every side passes its real-protocol check.
// Teardown needs nothing of its own: the host-side groups and health-check children are in the
// state file's processes and in the lab's cgroup; everything else lives under the lab's
// directories.
import fs from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { waitHealthy, type HealthProcess, type HealthReport } from './health.js';
import { startHostServers, type HostServers, type ServerProcess } from './hostside.js';
import { prepareMailHostDir } from './mail.js';
import { parseServers, type ServerName } from './start.js';
import { HOST_ADDR, MAILBOX } from './zone.js';

export interface LabServersPlan {
  servers: ServerName[];
  /** The lab's run directory (/run/umlperf/<lab>). */
  dir: string;
}

/** Guest memory below which the three Debian servers do not all start (named fails at 64M). */
export const SERVERS_MIN_MEM_MB = 128;

export function planLabServers(dir: string, servers: string | readonly string[] | undefined): LabServersPlan {
  return { servers: parseServers(servers), dir };
}

/** Checks that the image can run servers (only the Debian image has them). */
export function checkServersImage(plan: LabServersPlan, imageName: string): void {
  if (plan.servers.length && !imageName.startsWith('debian-'))
    throw new UsageError(`servers (${plan.servers.join(',')}) need --image debian; image ${imageName} has none`);
}

/** A guest's hostfs Maildir base: in the guest's own directory (`guestDir`, see lab/names.ts). */
export const guestMailDir = (guestDir: string): string => path.join(guestDir, 'mail');
export const hostServersDir = (plan: LabServersPlan): string => path.join(plan.dir, 'host-servers');

/**
 * Extra kernel command-line words for a guest (after `umlperf.servers=`, which the lab adds).
 * The Maildir goes to the guest's own directory, owned by the guest's host uid: under hostfs
 * every file the guest writes is made by its UML process, so that uid is all it needs.
 */
export async function guestServerArgs(plan: LabServersPlan, guest: { dir: string; uid: number; gid: number }): Promise<string[]> {
  if (!plan.servers.includes('mail')) return [];
  const dir = guestMailDir(guest.dir);
  const maildir = await prepareMailHostDir(dir);
  // 0777 as prepareMailHostDir makes them: the guest's kernel checks its mail uid against
  // these modes. On the host, the guest's own directory (0700) closes them to everyone else.
  for (const d of [dir, maildir, ...['tmp', 'new', 'cur'].map((x) => path.join(maildir, x))]) await fs.chown(d, guest.uid, guest.gid);
  return [`umlperf.mailhostfs=${dir}`];
}

export async function startLabHostServers(plan: LabServersPlan, o: {
  netns: string;
  root: string;
  onProcess: (p: ServerProcess) => void;
  cpus?: string;
  cgroupProcs?: string[];
}): Promise<HostServers | undefined> {
  if (!plan.servers.length) return undefined;
  return startHostServers({ netns: o.netns, root: o.root, servers: plan.servers, stateDir: hostServersDir(plan), onProcess: o.onProcess, cpus: o.cpus,
    cgroupProcs: o.cgroupProcs });
}

export interface LabHealth {
  /** target (`host`, `g1`, …) → its report; okAfterMs counts from `sinceNs`. */
  targets: Record<string, HealthReport & { okAfterMs: number }>;
}

/** Waits for all servers on the host side (when `host`) and on every guest, in parallel. */
export async function waitLabHealthy(plan: LabServersPlan, o: {
  clientNetns: string;
  host: boolean;
  guests: ReadonlyArray<{ id: string; address: string; dir?: string }>;
  /** CLOCK_MONOTONIC ns that okAfterMs counts from (default: now). */
  sinceNs?: bigint;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Where each health-check child runs and is recorded (the lab's host cgroup and state file). */
  cgroupProcs?: string[];
  onProcess?: (p: ServerProcess | HealthProcess) => void;
}): Promise<LabHealth> {
  const since = o.sinceNs ?? process.hrtime.bigint();
  const targets: LabHealth['targets'] = {};
  if (!plan.servers.length) return { targets };
  const jobs: Array<[string, string, string]> = [
    ...(o.host ? [['host', HOST_ADDR, path.join(hostServersDir(plan), 'mail', MAILBOX)] as [string, string, string]] : []),
    ...o.guests.map((g) => [g.id, g.address, g.dir ? path.join(guestMailDir(g.dir), MAILBOX) : ''] as [string, string, string]),
  ];
  await Promise.all(jobs.map(async ([target, addr, maildir]) => {
    const r = await waitHealthy({ netns: o.clientNetns, addr, servers: plan.servers, maildir: maildir || undefined, timeoutMs: o.timeoutMs ?? 60_000,
      signal: o.signal, label: target === 'host' ? 'host side' : `guest ${target}`, cgroupProcs: o.cgroupProcs, onProcess: o.onProcess });
    targets[target] = { ...r, okAfterMs: Math.round(Number(r.allOkAtNs - since) / 1e6) };
  }));
  return { targets };
}
