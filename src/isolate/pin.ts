// Where experiment 4 runs on the host's CPUs: the prober's threads on one CPU, the guests (the
// faulty one and its guest neighbour, every host process and thread of theirs) on another, so
// that a busy guest competes with its neighbour for one CPU as co-located guests do, and the
// prober's own timing is not moved by the scheduler between rounds. Children a guest forks
// later inherit the placement. Nothing to do on a one-CPU host.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';

import { cgroupPids } from '../lab/cgroup.js';

const run = promisify(execFile);

export interface Placement {
  /** The CPU the probes' threads run on. */
  proberCpu: number;
  /** The CPU every guest's processes run on. */
  guestCpu: number;
  /** The CPU the lab's host side (its endpoint and servers) runs on. */
  hostCpu: number;
}

/**
 * The placement on this host: the first CPU the process may use for the prober and the host
 * side, the last for the guests; undefined with one CPU. The host side shares the prober's CPU:
 * left to the scheduler, its endpoint moved between the two CPUs from round to round, and its
 * throughput between rounds spread as widely as the faults' effects on it.
 */
export function placement(cpus: number[] = allowedCpus()): Placement | undefined {
  if (cpus.length < 2) return undefined;
  return { proberCpu: cpus[0], guestCpu: cpus[cpus.length - 1], hostCpu: cpus[0] };
}

/** The CPUs this process may run on (its affinity mask, from /proc). */
export function allowedCpus(): number[] {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseCpuList(m[1]);
  } catch {
    // the count below
  }
  return os.cpus().map((_, i) => i);
}

/** `0-2,5` → [0, 1, 2, 5]. */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i - a < 4096; i++) out.push(i);
  }
  return out;
}

/** CPUs back in taskset's list form: [0, 1, 2, 5] → "0-2,5". */
export function cpuListText(cpus: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    out.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** Pins every process (all threads) of the lab's cgroup leaf to `cpu`; returns how many were pinned. Processes that end meanwhile are skipped. */
export async function pinLeaf(lab: string, leaf: string, cpu: number): Promise<number> {
  const pids = cgroupPids(lab, leaf);
  const done = await Promise.all(pids.map((p) =>
    run('taskset', ['-a', '-p', '-c', String(cpu), String(p)], { timeout: 5000 }).then(() => true, () => false)));
  return done.filter(Boolean).length;
}
