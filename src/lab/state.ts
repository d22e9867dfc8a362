// The lab's state file, /run/umlperf/<lab>/state.json: every object the lab creates is recorded
// here as it is made (before, where the name is known in advance), so that teardown works from
// this file alone, after any crash, including a SIGKILL of the process that made the lab.
import fs from 'node:fs';
import path from 'node:path';

import { UmlperfError } from '../errors.js';
import type { FpuState } from './fpu.js';
import type { LimitReport } from './limits.js';
import type { ResolvedNet } from './net-config.js';
import { RUN_ROOT, labDir } from './names.js';

export type Transport = 'vector' | 'tuntap';

export interface ProcessRecord {
  /** guest: a guest's supervisor (its group); kernel: UML's main process (its own session). */
  role: 'guest' | 'kernel' | 'endpoint' | 'server' | 'health';
  id: string;
  pid: number;
  /** Process group (= pid: spawned as a session leader). */
  pgid: number;
  /** Field 22 of /proc/PID/stat: tells our process from a later one with a reused PID. */
  startTime: string;
}

export interface GuestRecord {
  id: string;
  n: number;
  address: string;
  mac: string;
  tap: string;
  transport: Transport;
  umid: string;
  /** The host uid the guest's UML process runs as (confine.ts). */
  uid?: number;
  /** The guest's own directory (its uid's): uml_dir, COW file, hostfs Maildir. */
  dir?: string;
  /** pids.max of the guest's cgroup, when the host could apply it. */
  pidsMax?: number;
  /** Host-side limits of the guest's cgroup (`lab up --limit`): what was applied, what was not. */
  limits?: LimitReport;
  /** Mount point of the guest's own root (in its private mount namespace only). */
  jail?: string;
  /** The exec channel's FIFOs (root's): requests in, replies out. */
  exec: { in: string; out: string };
  /** The guest's mconsole socket (from its notify message, else the expected path). */
  mconsole: string;
  log: string;
  cow?: string;
  pid?: number;
  bootMs?: number;
  /** How the guest's kernel saved its processes' vector state (from the adapter's log line). */
  fpuState?: FpuState;
}

export interface LinkRecord {
  netns: string;
  name: string;
  kind: 'tap' | 'veth' | 'bridge';
}

export interface LabState {
  version: 1;
  name: string;
  status: 'starting' | 'up' | 'stopping' | 'failed';
  createdAt: string;
  /** The process that made the lab (it may be long gone). */
  creatorPid: number;
  dir: string;
  /** Per-lab files on disk (COW files, guest directories, logs): <LABS_ROOT>/<lab>. */
  dataDir?: string;
  /** The guests' host ids (confine.ts), drawn before the first guest directory is made. */
  ids?: { base: number };
  /** Whether the lab's processes live in a cgroup tree umlperf/<lab>/{host,gN}. */
  cgroups?: boolean;
  kernel?: string;
  image?: { name: string; base: string; root: string };
  mem?: string;
  /** The network configuration (`lab up --net`): preset, canonical line, every key. */
  net?: ResolvedNet;
  netns: string[];
  links: LinkRecord[];
  processes: ProcessRecord[];
  files: string[];
  guests: GuestRecord[];
  client: { netns: string; address: string };
  host: { netns: string; address: string; endpointLog?: string };
}

export const stateFile = (lab: string): string => path.join(labDir(lab), 'state.json');

export function readState(lab: string): LabState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(stateFile(lab), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as LabState;
  } catch {
    throw new UmlperfError('ERR_UMLPERF_STATE', `corrupt state file ${stateFile(lab)}: run umlperf cleanup --lab ${lab}`);
  }
}

/** Writes atomically (temp file + rename): a crash leaves the old or the new file, never half. */
export function writeState(s: LabState): void {
  const file = stateFile(s.name);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Labs with a directory under /run/umlperf (whether or not their state file survived). */
export function listLabs(): string[] {
  try {
    return fs.readdirSync(RUN_ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

/**
 * Owns a lab's state while it is being changed: each `record` mutates and persists at once,
 * synchronously, so nothing is created that the file does not know about.
 */
export class StateRecorder {
  constructor(readonly state: LabState) {}
  record(change: (s: LabState) => void): void {
    change(this.state);
    writeState(this.state);
  }
}
