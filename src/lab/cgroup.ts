// One cgroup tree per lab, `umlperf/<lab>/{host,gN}`, with processes in the leaves only (v2
// forbids processes in a cgroup that has children). Teardown kills a leaf's processes, so a
// daemon that left its process group (Postfix's master) or a helper that outlived its parent
// (a UML guest's) is still found. Works on the v2 unified hierarchy (stock Debian 12) and on
// v1 (this machine kind: one mount per controller; `pids` and `freezer` are used, freezer to
// stop a fork loop while its members are killed).
import fs from 'node:fs';
import path from 'node:path';

import { pollUntil } from '../wait.js';
import { validateLabName } from './names.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';
export const CGROUP_TREE = 'umlperf';
/**
 * v1 controllers a lab's tree is made in (the first one that is mounted holds the truth);
 * cpu, cpuacct, memory and blkio carry the per-guest limits and the usage counters (limits.ts).
 */
const V1_CONTROLLERS = ['pids', 'freezer', 'cpu', 'cpuacct', 'memory', 'blkio'] as const;
/**
 * Controllers that schedule (a cgroup is one entity with one weight): a leaf joins them only
 * when it has a limit there, so a lab without limits competes for the CPU and the disk as
 * before. (cpuacct and memory only count.)
 */
const V1_JOIN_ON_LIMIT = ['cpu', 'blkio'];

export type CgroupMode = { version: 2; root: string } | { version: 1; roots: string[] } | { version: 0 };

let cached: CgroupMode | undefined;

/** The hierarchy mounted at `root`: v2 unified, v1 per-controller mounts, or none. */
export function detectCgroupMode(root = CGROUP_ROOT): CgroupMode {
  const isV2 = (p: string) => fs.existsSync(path.join(p, 'cgroup.controllers')) && fs.existsSync(path.join(p, 'cgroup.subtree_control'));
  if (isV2(root)) return { version: 2, root };
  const roots = V1_CONTROLLERS.map((c) => path.join(root, c)).filter((p) => fs.existsSync(path.join(p, 'cgroup.procs')));
  return roots.length ? { version: 1, roots } : { version: 0 };
}

/** Which hierarchy this host has (detected once). */
export function cgroupMode(): CgroupMode {
  cached ??= detectCgroupMode();
  return cached;
}

/** Tests only: run the module against another tree (a fake one of either version), or reset. */
export function setCgroupModeForTests(m: CgroupMode | undefined): void {
  cached = m;
}

/** The directories (one per mounted hierarchy) of `umlperf/<lab>[/leaf]`. */
export function cgroupDirs(lab: string, leaf?: string): string[] {
  validateLabName(lab);
  if (leaf !== undefined && !/^(host|g[1-9][0-9]*)$/.test(leaf)) throw new Error(`bad cgroup leaf ${leaf}`);
  const rel = path.join(CGROUP_TREE, lab, leaf ?? '');
  const m = cgroupMode();
  if (m.version === 2) return [path.join(m.root, rel)];
  if (m.version === 1) return m.roots.map((r) => path.join(r, rel));
  return [];
}

export interface CgroupLimits {
  /** pids.max: every guest address space is a host process, so a guest's fork bomb is bounded here. */
  pidsMax?: number;
  /** v1 scheduling controllers to join too (their limits are written by limits.ts). */
  join?: ('cpu' | 'blkio')[];
}

/**
 * Makes the lab's leaf (and its parents) with its limits; returns the `cgroup.procs` files to
 * join and the limits it could not apply (e.g. no pids controller), which the caller reports
 * as unsupported.
 */
export function cgroupCreate(lab: string, leaf: string, limits: CgroupLimits = {}): string[] & { unsupported?: string[] } {
  const out: string[] & { unsupported?: string[] } = [];
  const m = cgroupMode();
  for (const d of cgroupDirs(lab, leaf)) {
    fs.mkdirSync(d, { recursive: true });
    const controller = m.version === 1 ? path.basename(path.dirname(path.dirname(path.dirname(d)))) : '';
    if (V1_JOIN_ON_LIMIT.includes(controller) && !(limits.join as string[] | undefined)?.includes(controller)) continue;
    out.push(path.join(d, 'cgroup.procs'));
  }
  if (limits.pidsMax !== undefined) {
    let dir: string | undefined;
    if (m.version === 1) dir = m.roots.map((r) => path.join(r, CGROUP_TREE, lab, leaf)).find((d) => d.includes('/pids/'));
    if (m.version === 2) {
      // v2: the controller must be enabled in every ancestor's subtree_control (best effort).
      const rel = [CGROUP_TREE, path.join(CGROUP_TREE, lab)];
      writeQuiet(path.join(m.root, 'cgroup.subtree_control'), '+pids');
      for (const r of rel) writeQuiet(path.join(m.root, r, 'cgroup.subtree_control'), '+pids');
      dir = path.join(m.root, CGROUP_TREE, lab, leaf);
    }
    if (!dir || !fs.existsSync(path.join(dir, 'pids.max')) || !writeQuiet(path.join(dir, 'pids.max'), String(limits.pidsMax)))
      out.unsupported = ['pids.max'];
  }
  return out;
}

/**
 * argv that runs `argv` inside the cgroup: a shell joins first, then execs (so the command and
 * everything it starts is in the leaf from its first instruction). Paths go as arguments,
 * never into the script text.
 */
export function inCgroupArgs(procsFiles: string[], argv: string[]): string[] {
  if (!procsFiles.length) return argv;
  return ['/bin/sh', '-c', 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"',
    'umlperf-cgexec', String(procsFiles.length), ...procsFiles, ...argv];
}

function readPids(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Processes in the lab's tree (every leaf), or in one leaf. */
export function cgroupPids(lab: string, leaf?: string): number[] {
  const dirs = cgroupDirs(lab, leaf);
  if (!dirs.length) return [];
  const first = dirs[0];
  const all = new Set<number>();
  const walk = (d: string) => {
    for (const p of readPids(d)) all.add(p);
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(first);
  return [...all];
}

function writeQuiet(file: string, text: string): boolean {
  try {
    fs.writeFileSync(file, text);
    return true;
  } catch {
    return false;
  }
}

/** Kills every process in the lab's tree (or one leaf) and waits until it is empty; false on timeout. */
export async function cgroupKill(lab: string, leaf?: string, timeoutMs = 5000): Promise<boolean> {
  const dirs = cgroupDirs(lab, leaf);
  if (!dirs.length || !fs.existsSync(dirs[0])) return true;
  const m = cgroupMode();
  return pollUntil(() => {
    if (!cgroupPids(lab, leaf).length) return true;
    // v2 (5.14+): cgroup.kill ends the whole subtree at once, forks in flight included.
    if (m.version === 2 && writeQuiet(path.join(dirs[0], 'cgroup.kill'), '1')) return false;
    // v1 (or v2 without cgroup.kill): freeze so nothing forks while we kill, kill, thaw.
    const freezer = m.version === 1 ? dirs.find((d) => d.includes('/freezer/')) : undefined;
    if (freezer) writeQuiet(path.join(freezer, 'freezer.state'), 'FROZEN');
    for (const pid of cgroupPids(lab, leaf)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (freezer) writeQuiet(path.join(freezer, 'freezer.state'), 'THAWED');
    return false;
  }, { timeoutMs, intervalMs: 20 });
}

/** Removes the lab's tree (leaves first); what still holds processes stays. True when all is gone. */
export function cgroupRemove(lab: string): boolean {
  for (const d of cgroupDirs(lab)) {
    const rm = (dir: string) => {
      let entries: fs.Dirent[] = [];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) if (e.isDirectory()) rm(path.join(dir, e.name));
      try {
        fs.rmdirSync(dir);
      } catch {
        // busy or gone
      }
    };
    rm(d);
  }
  return cgroupDirs(lab).every((d) => !fs.existsSync(d));
}

/**
 * Kills the tree's processes and removes it, again while a process joins late (one spawned
 * just before a crash joins its leaf as its first act; once the leaf is gone, it cannot, and
 * never runs). True when the tree is gone.
 */
export function cgroupEnd(lab: string, timeoutMs = 5000): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  return pollUntil(async () => {
    await cgroupKill(lab, undefined, Math.max(100, end - performance.now()));
    return cgroupRemove(lab);
  }, { timeoutMs, intervalMs: 25 });
}

/** Labs that have a cgroup tree (found even when their state file is lost). */
export function cgroupLabs(): string[] {
  const dirs = cgroupDirs('x').map((d) => path.dirname(d));
  const out = new Set<string>();
  for (const d of dirs) {
    try {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) out.add(e.name);
    } catch {
      // no tree yet
    }
  }
  return [...out].sort();
}

/** The directory that freezes a leaf (v1: its freezer controller's; v2: the leaf), if any. */
function freezerDir(lab: string, leaf?: string): string | undefined {
  const m = cgroupMode();
  const dirs = cgroupDirs(lab, leaf);
  if (m.version === 2) return dirs[0];
  if (m.version === 1) return dirs.find((d) => d.split(path.sep).includes('freezer'));
  return undefined;
}

/**
 * Freezes (or thaws) every process of a leaf, e.g. a guest: v1 `freezer.state`, v2
 * `cgroup.freeze`. Resolves once the kernel reports the state reached; false when the host has
 * no freezer for the leaf, or the state was not reached within the deadline.
 */
export async function cgroupFreeze(lab: string, leaf: string, frozen: boolean, timeoutMs = 5000): Promise<boolean> {
  const d = freezerDir(lab, leaf);
  if (!d || !fs.existsSync(d)) return false;
  const v2 = cgroupMode().version === 2;
  const [file, value] = v2 ? ['cgroup.freeze', frozen ? '1' : '0'] : ['freezer.state', frozen ? 'FROZEN' : 'THAWED'];
  if (!writeQuiet(path.join(d, file), value)) return false;
  const reached = (): boolean => {
    try {
      if (v2) return new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(fs.readFileSync(path.join(d, 'cgroup.events'), 'utf8'));
      return fs.readFileSync(path.join(d, 'freezer.state'), 'utf8').trim() === value;
    } catch {
      return false;
    }
  };
  return pollUntil(() => {
    if (reached()) return true;
    // v1: FREEZING until every task stopped; writing again retries the ones that were busy.
    if (!v2) writeQuiet(path.join(d, file), value);
    return false;
  }, { timeoutMs, intervalMs: 5 });
}

/** Thaws every leaf of the lab's tree (a run interrupted while guests were frozen); best effort. */
export function cgroupThawAll(lab: string): void {
  const d = freezerDir(lab);
  if (!d) return;
  const v2 = cgroupMode().version === 2;
  let leaves: string[] = [];
  try {
    leaves = fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(d, e.name));
  } catch {
    return;
  }
  for (const l of [d, ...leaves]) {
    if (v2) {
      if (fs.existsSync(path.join(l, 'cgroup.freeze'))) writeQuiet(path.join(l, 'cgroup.freeze'), '0');
    } else if (fs.existsSync(path.join(l, 'freezer.state'))) writeQuiet(path.join(l, 'freezer.state'), 'THAWED');
  }
}
