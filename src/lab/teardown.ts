// Removing a lab: guests, host-side processes, TAPs, namespaces, cgroups, files. Idempotent,
// and it works after any crash of the process that made the lab: it starts from the state file,
// and finds what the file does not list through the lab's fixed names — its cgroup tree (every
// process the lab started runs in it), its namespaces, its directories, and the pid files UML
// writes under each guest's uml_dir (checked to be that guest before it is ended).
import fs from 'node:fs';
import path from 'node:path';

import { native } from '../native.js';
import { cgroupEnd, cgroupLabs, cgroupPids, cgroupThawAll } from './cgroup.js';
import { stopGuest } from './guest.js';
import { clientNetns, DATA_ROOT, LABS_ROOT, dataDir, hostNetns, labDir, tapName, validateLabName, MAX_GUESTS } from './names.js';
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

/**
 * Guests UML itself recorded: <uml_dir>/<umid>/pid, verified against the process's command
 * line. uml_dir is each guest's own directory; labs made by earlier versions used the lab's
 * run directory for all guests.
 */
function discoveredGuests(lab: string, dataDirs: string[], known: Set<number>): ProcessRecord[] {
  const out: ProcessRecord[] = [];
  const umlDirs: string[] = [labDir(lab)];
  for (const d of dataDirs) {
    try {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory() && /^g\d+$/.test(e.name)) umlDirs.push(path.join(d, e.name));
    } catch {
      // no data directory
    }
  }
  for (const dir of umlDirs) {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isDirectory() || !/^g\d+$/.test(e.name)) continue;
      let pid: number;
      try {
        pid = Number(fs.readFileSync(path.join(dir, e.name, 'pid'), 'utf8').trim());
      } catch {
        continue;
      }
      if (!(pid > 1) || known.has(pid)) continue;
      let cmdline = '';
      let stat = '';
      try {
        cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const args = cmdline.split('\0');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (args.includes(`uml_dir=${dir}`) && args.includes(`umid=${e.name}`))
        out.push({ role: 'guest', id: e.name, pid, pgid: pgid > 1 ? pgid : pid, startTime: startTimeOf(pid) });
    }
  }
  return out;
}

function readStateQuiet(lab: string): LabState | undefined {
  try {
    return readState(lab);
  } catch {
    return undefined;  // corrupt: fall back to names, cgroups and pid files
  }
}

export async function teardownLab(lab: string, o: { graceful?: boolean } = {}): Promise<TeardownReport> {
  validateLabName(lab);
  const dir = labDir(lab);
  const state = readStateQuiet(lab);
  const namespaces = [...new Set([...(state?.netns ?? []), clientNetns(lab), hostNetns(lab)])];
  const found = !!state || fs.existsSync(dir) || fs.existsSync(dataDir(lab)) || namespaces.some(netnsExists) || cgroupLabs().includes(lab);
  const report: TeardownReport = { lab, processes: 0, links: 0, netns: 0, found };
  if (state && state.status !== 'stopping') {
    state.status = 'stopping';
    try {
      writeState(state);
    } catch {
      // read-only or vanished: teardown goes on regardless
    }
  }

  // A run may have left guests frozen or servers stopped (paper's paired experiments): thaw and
  // continue them first, so that they can stop gracefully and take SIGTERM.
  cgroupThawAll(lab);
  for (const pid of cgroupPids(lab)) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  const procs = state?.processes ?? [];
  const guests = procs.filter((p) => p.role === 'guest');
  // The data directory the state names (an earlier layout had it right under DATA_ROOT), and
  // today's; never anything else, whatever the file says.
  const dataDirs = [...new Set([dataDir(lab), ...(state?.dataDir === `${DATA_ROOT}/${lab}` ? [state.dataDir] : [])])];
  const extra = discoveredGuests(lab, dataDirs, new Set([...procs.map((p) => p.pid), ...(state?.guests.map((g) => g.pid ?? 0) ?? [])]));
  await Promise.all([
    ...guests.map(async (p) => {
      const g = state?.guests.find((x) => x.id === p.id);
      const alive = isAlive(p);
      if (g && alive) await stopGuest(g, p, o.graceful ?? true);
      else await endGroup(p, 0);
      if (alive) report.processes++;
    }),
    ...extra.map(async (p) => {
      await endGroup(p, 0);
      report.processes++;
    }),
    ...procs.filter((p) => p.role !== 'guest' && p.role !== 'kernel').map(async (p) => {
      if (isAlive(p)) report.processes++;
      await endGroup(p, 1000);
    }),
  ]);
  // A kernel the stop above did not end (its supervisor was killed first): its own session.
  await Promise.all(procs.filter((p) => p.role === 'kernel').map((p) => endGroup(p, 0)));
  // Whatever left its process group (a daemon's own session, a guest's helper) is still in
  // the lab's cgroup: end the rest there.
  if (cgroupPids(lab).length) report.processes++;
  await cgroupEnd(lab);

  const taps = new Set((state?.links ?? []).filter((l) => l.kind === 'tap').map((l) => l.name));
  if (!state) for (let n = 1; n <= MAX_GUESTS; n++) taps.add(tapName(lab, n));
  for (const name of taps) {
    const ns = hostNetns(lab);
    if (!netnsExists(ns)) break;
    try {
      if (native().tapDelete({ name, netns: ns })) report.links++;
    } catch {
      // its namespace goes next, and the TAP with it
    }
  }
  for (const ns of namespaces) {
    if (!netnsExists(ns)) continue;
    await netnsDelete(ns);
    report.netns++;
  }
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  return report;
}

/** Lab names seen in /run/netns: both `<lab>-client` and `<lab>-host` exist. */
function netnsLabs(): string[] {
  try {
    const names = new Set(fs.readdirSync('/run/netns'));
    return [...names].map((n) => /^(.+)-client$/.exec(n)?.[1]).filter((x): x is string => !!x && names.has(`${x}-host`));
  } catch {
    return [];
  }
}

function dataLabs(): string[] {
  try {
    return fs.readdirSync(LABS_ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/**
 * `umlperf cleanup --all`: every lab with a run directory, a data directory, a cgroup tree or
 * namespaces of a lab's names (the state file may be lost).
 */
export async function teardownAll(o: { graceful?: boolean } = {}): Promise<TeardownReport[]> {
  const out: TeardownReport[] = [];
  for (const lab of knownLabs()) out.push(await teardownLab(lab, o));
  return out;
}

/** Every lab this host has a trace of: state, data directory, cgroup tree or both namespaces. */
export function knownLabs(): string[] {
  const labs = [...new Set([...listLabs(), ...dataLabs(), ...cgroupLabs(), ...netnsLabs()])].sort();
  return labs.filter((lab) => {
    try {
      validateLabName(lab);
      return true;
    } catch {
      return false;  // not a name of ours
    }
  });
}
