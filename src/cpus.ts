// CPU lists as the kernel (/proc, sysfs) and taskset write them: "0-2,5" is CPUs 0, 1, 2 and 5.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The highest CPU number a list may name. */
export const MAX_CPU = 4095;

/** "0-2,5" → [0, 1, 2, 5], sorted, each once; undefined when it is not such a list. */
export function parseCpuList(s: string): number[] | undefined {
  const cpus = new Set<number>();
  for (const part of s.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > MAX_CPU) return undefined;
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** CPUs back in list form: [0, 1, 2, 5] → "0-2,5". */
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

/** The CPUs this process may run on (its affinity mask, from /proc). */
export function allowedCpus(): number[] {
  try {
    const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    const cpus = m ? parseCpuList(m[1]) : undefined;
    if (cpus?.length) return cpus;
  } catch {
    // the count below
  }
  return os.cpus().map((_, i) => i);
}
