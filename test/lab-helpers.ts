// Test plumbing for labs: unique names, and the check that a lab left nothing behind.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

import { cgroupDirs } from '../src/lab/cgroup.js';
import { dataDir, labDir } from '../src/lab/names.js';
import { isAlive } from '../src/lab/process.js';
import { readState, type ProcessRecord } from '../src/lab/state.js';

/** A lab name no other test (or test run) uses: a letter, the pid, a tag (≤ 10 characters). */
export function uniqueLab(tag: string): string {
  return `t${(process.pid % 100000).toString(36)}${tag}`.slice(0, 10);
}

/** What a lab recorded, read while it is up (for the leftover check after). */
export interface LabSnapshot {
  processes: ProcessRecord[];
  /** The guests' host id range (uid base+1…, gid base). */
  idsBase?: number;
  /** Inodes of the lab's network namespaces: a process still in one keeps it alive. */
  netnsInodes?: number[];
}

/** The processes a lab recorded, read while it is up (for the leftover check after). */
export function recordedProcesses(lab: string): ProcessRecord[] {
  return readState(lab)?.processes ?? [];
}

export function labSnapshot(lab: string): LabSnapshot {
  const s = readState(lab);
  const netnsInodes: number[] = [];
  for (const ns of [`${lab}-client`, `${lab}-host`]) {
    try {
      netnsInodes.push(fs.statSync(`/run/netns/${ns}`).ino);
    } catch {
      // not made (yet)
    }
  }
  return { processes: s?.processes ?? [], idsBase: s?.ids?.base, netnsInodes };
}

/** The uid of a live process (undefined for a zombie: nothing of it runs any more). */
function uidOf(pid: string): number | undefined {
  try {
    const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+[ZX]/m.test(st)) return undefined;
    const m = /^Uid:\s+(\d+)/m.exec(st);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a lab left behind: namespaces, links named after it, its directories, cgroups, mounts,
 * guests, recorded processes, processes of its guests' uids.
 */
export function leftovers(lab: string, recorded: ProcessRecord[] | LabSnapshot = []): string[] {
  const snap: LabSnapshot = Array.isArray(recorded) ? { processes: recorded } : recorded;
  const left: string[] = [];
  for (const ns of [`${lab}-client`, `${lab}-host`]) if (fs.existsSync(`/run/netns/${ns}`)) left.push(`netns ${ns}`);
  for (const d of [labDir(lab), dataDir(lab)]) if (fs.existsSync(d)) left.push(`dir ${d}`);
  for (const d of cgroupDirs(lab)) if (fs.existsSync(d)) left.push(`cgroup ${d}`);
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  for (const line of links.split('\n')) if (new RegExp(`^\\d+: ${lab}(g\\d+)?[:@]`).test(line)) left.push(`link ${line.slice(0, 60)}`);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(`/${lab}/`) || line.includes(`/${lab} `)) left.push(`mount ${line.slice(0, 100)}`);
  const ps = spawnSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' }).stdout;
  for (const line of ps.split('\n')) {
    if ((line.includes(`uml_dir=${dataDir(lab)}/`) || line.includes(`uml_dir=${labDir(lab)} `)) && !/^\s*\d+\s+Z/.test(line))
      left.push(`process ${line.trim().slice(0, 80)}`);
  }
  for (const p of snap.processes) if (isAlive(p)) left.push(`recorded ${p.role} ${p.id} pid ${p.pid}`);
  const inodes = new Set((snap.netnsInodes ?? []).map((i) => `net:[${i}]`));
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const uid = uidOf(e);
    if (uid === undefined) continue;  // gone or a zombie
    if (snap.idsBase !== undefined && uid > snap.idsBase && uid <= snap.idsBase + 255) left.push(`guest-uid process ${e} (uid ${uid})`);
    if (inodes.size) {
      let ns = '';
      try {
        ns = fs.readlinkSync(`/proc/${e}/ns/net`);
      } catch {
        continue;
      }
      if (inodes.has(ns)) left.push(`process ${e} in a namespace of the lab (${ns}): ${fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 60)}`);
    }
  }
  return left;
}

/** Polls `cond` every 20 ms up to `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}
