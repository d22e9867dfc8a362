// Where experiment 4 runs on the host's CPUs: the prober's threads on one CPU, the guests (the
// faulty one and its guest neighbour, every host process and thread of theirs) on another, so
// that a busy guest competes with its neighbour for one CPU as co-located guests do, and the
// prober's own timing is not moved by the scheduler between rounds. Children a guest forks
// later inherit the placement. Nothing to do on a one-CPU host.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { allowedCpus } from '../cpus.js';
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

/** Pins every process (all threads) of the lab's cgroup leaf to `cpu`; returns how many were pinned. Processes that end meanwhile are skipped. */
export async function pinLeaf(lab: string, leaf: string, cpu: number): Promise<number> {
  const pids = cgroupPids(lab, leaf);
  const done = await Promise.all(pids.map((p) =>
    run('taskset', ['-a', '-p', '-c', String(cpu), String(p)], { timeout: 5000 }).then(() => true, () => false)));
  return done.filter(Boolean).length;
}
