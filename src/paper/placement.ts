// Where the study runs on the host's CPUs. By default, on a host with two CPUs or more, the
// probes' threads run on the first CPU this process may use and the whole lab (every guest's
// processes, the host side's endpoint and servers) on the last one: the prober never competes
// with what it measures, and the scheduler no longer decides from run to run whether a round trip
// crosses CPUs. Left to it, the host side's latency p50 moved between ~12 µs (probe and endpoint
// on one CPU) and 31-76 µs (across CPUs) from run to run. What placement cannot hold still is the
// machine under it: on a virtual machine the cross-CPU round trip itself moved (host p50 46 vs
// 59 µs) for minutes at a time. The cost: a guest squeezed onto one CPU sometimes waits a guest
// clock tick (~10 ms) for a reply, which shows at p99.9 and max, now and then at p99.
import { UsageError } from '../errors.js';
import { allowedCpus, cpuListText } from '../cpus.js';
import { placement } from '../isolate/pin.js';

export interface PaperPlacement {
  /** The CPU of the probes' threads (none: the scheduler's choice). */
  probeCpu?: number;
  /** The lab's CPUs, as a taskset list (none: the scheduler's choice). */
  labCpus?: string;
}

/** The default placement: the probes on the first allowed CPU, the lab on the last; none with one CPU. */
export function defaultPlacement(cpus: number[] = allowedCpus()): PaperPlacement {
  const p = placement(cpus);
  return p ? { probeCpu: p.proberCpu, labCpus: String(p.guestCpu) } : {};
}

/**
 * The lab on `lab` and the probes on the first allowed CPU outside it; `any`: no placement;
 * undefined: the default. `allowed`: the CPUs this process may run on.
 */
export function placementFor(lab: number[] | 'any' | undefined, allowed: number[] = allowedCpus()): PaperPlacement {
  if (lab === 'any') return {};
  if (lab === undefined) return defaultPlacement(allowed);
  const text = cpuListText(lab);
  if (lab.some((c) => !allowed.includes(c))) throw new UsageError(`--cpu ${text}: this machine has CPUs ${cpuListText(allowed)} for umlperf`);
  const probeCpu = allowed.find((c) => !lab.includes(c));
  if (probeCpu === undefined) throw new UsageError(`--cpu ${text} leaves no CPU for the probes (they run on the first CPU not in the list)`);
  return { probeCpu, labCpus: text };
}
