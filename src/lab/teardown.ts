// Removing a lab from its state file alone: guests, the host endpoint, TAPs, namespaces, files.
// Idempotent, and it works after any crash of the process that made the lab: what the file
// does not list (a guest spawned just before a SIGKILL) is found by the pid files UML writes
// under the lab's uml_dir, and checked to be that guest before it is ended.
import fs from 'node:fs';
import path from 'node:path';

import { native } from '../native.js';
import { stopGuest } from './guest.js';
import { clientNetns, hostNetns, labDir, validateLabName } from './names.js';
import { netnsDelete, netnsExists } from './netns.js';
import { endGroup, isAlive, startTimeOf } from './process.js';
import { listLabs, readState, writeState, type LabState, type ProcessRecord } from './state.js';

export interface TeardownReport {
  lab: string;
  processes: number;
  links: number;
  netns: number;
  found: boolean;
}

/** Guests UML itself recorded: <dir>/<umid>/pid, verified against the process's command line. */
function discoveredGuests(dir: string, known: Set<number>): ProcessRecord[] {
  const out: ProcessRecord[] = [];
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(dir, e.name, 'pid'), 'utf8').trim());
    } catch {
      continue;
    }
    if (!(pid > 1) || known.has(pid)) continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const args = cmdline.split('\0');
    if (args.includes(`uml_dir=${dir}`) && args.includes(`umid=${e.name}`))
      out.push({ role: 'guest', id: e.name, pid, pgid: pid, startTime: startTimeOf(pid) });
  }
  return out;
}

export async function teardownLab(lab: string, o: { graceful?: boolean } = {}): Promise<TeardownReport> {
  validateLabName(lab);
  const dir = labDir(lab);
  let state: LabState | undefined;
  try {
    state = readState(lab);
  } catch {
    state = undefined;  // corrupt: fall back to names and pid files
  }
  const report: TeardownReport = { lab, processes: 0, links: 0, netns: 0, found: !!state || fs.existsSync(dir) };
  if (state && state.status !== 'stopping') {
    state.status = 'stopping';
    try {
      writeState(state);
    } catch {
      // read-only or vanished: teardown goes on regardless
    }
  }

  const procs = state?.processes ?? [];
  const guests = procs.filter((p) => p.role === 'guest');
  const extra = discoveredGuests(dir, new Set(procs.map((p) => p.pid)));
  await Promise.all([
    ...guests.map(async (p) => {
      const g = state?.guests.find((x) => x.id === p.id);
      const alive = isAlive(p);
      if (g && alive) await stopGuest(g, p, dir, o.graceful ?? true);
      else await endGroup(p, 0);
      if (alive) report.processes++;
    }),
    ...extra.map(async (p) => {
      await endGroup(p, 0);
      report.processes++;
    }),
    ...procs.filter((p) => p.role !== 'guest').map(async (p) => {
      if (isAlive(p)) report.processes++;
      await endGroup(p, 1000);
    }),
  ]);

  for (const l of state?.links ?? []) {
    if (l.kind !== 'tap' || !netnsExists(l.netns)) continue;
    try {
      if (native().tapDelete({ name: l.name, netns: l.netns })) report.links++;
    } catch {
      // its namespace goes next, and the TAP with it
    }
  }
  const namespaces = state ? state.netns : [clientNetns(lab), hostNetns(lab)];
  for (const ns of namespaces) {
    if (!netnsExists(ns)) continue;
    await netnsDelete(ns);
    report.netns++;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return report;
}

/** `umlperf cleanup --all`: every lab with a directory under /run/umlperf. */
export async function teardownAll(o: { graceful?: boolean } = {}): Promise<TeardownReport[]> {
  const out: TeardownReport[] = [];
  for (const lab of listLabs()) {
    try {
      validateLabName(lab);
    } catch {
      continue;  // not a directory of ours
    }
    out.push(await teardownLab(lab, o));
  }
  return out;
}
