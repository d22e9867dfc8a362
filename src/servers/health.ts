// Health checks with the real protocols, from the client namespace: a DNS query answered
// authoritatively, an HTTP GET per vhost, an SMTP transaction whose message then appears in
// the Maildir. Used by `lab up` before it returns, and by the tests.
import { randomBytes } from 'node:crypto';
import { UmlperfError } from '../errors.js';
import { faultPoint } from '../lab/fault.js';
import type { ServerHealth } from './client-main.js';
import { runClientJob } from './netns-child.js';
import { SERVERS } from './start.js';
import type { ServerName } from './spec.js';

export type { ServerHealth } from './client-main.js';

export interface HealthOptions {
  /** Network namespace the checks run in (the lab's `<lab>-client`). */
  netns: string;
  /** Address of the side under test (198.18.0.1 for the host side, 198.18.0.(10+n) for gN). */
  addr: string;
  servers: readonly ServerName[];
  /** Host path of the Maildir the target delivers into; omit to check SMTP acceptance only. */
  maildir?: string;
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** What the error message calls the target (e.g. "g1", "host side"). */
  label?: string;
  /** `cgroup.procs` files the check's child joins first (a lab's host leaf). */
  cgroupProcs?: string[];
  /** Called with the child's process group as soon as it exists (for the lab's state file). */
  onProcess?: (p: HealthProcess) => void;
}

/** A health-check child, in the shape of the lab's ProcessRecord. */
export interface HealthProcess {
  role: 'health';
  id: string;
  pid: number;
  pgid: number;
  startTime: string;
}

export interface HealthReport {
  servers: ServerHealth[];
  /** When the check started and when the last server passed, CLOCK_MONOTONIC ns. */
  startedAtNs: bigint;
  allOkAtNs: bigint;
}

/** Waits until every server passes its check; throws one line naming the ones that did not. */
export async function waitHealthy(o: HealthOptions): Promise<HealthReport> {
  const startedAtNs = process.hrtime.bigint();
  if (o.servers.length === 0) return { servers: [], startedAtNs, allOkAtNs: startedAtNs };
  const timeoutMs = o.timeoutMs ?? 30_000;
  const res = await runClientJob<ServerHealth[]>(o.netns, {
    kind: 'health', addr: o.addr, servers: [...o.servers], deadlineMs: timeoutMs, intervalMs: o.intervalMs ?? 50,
    maildir: o.maildir, token: randomBytes(8).toString('hex'),
  }, timeoutMs + 15_000, o.signal, {
    cgroupProcs: o.cgroupProcs,
    onSpawn: o.onProcess && ((pid, startTime) => faultPoint('health-spawned') ?? o.onProcess!({ role: 'health', id: `health-${o.label ?? o.addr}`, pid, pgid: pid, startTime })),
  });
  const bad = res.filter((r) => !r.ok);
  if (bad.length) {
    const what = bad.map((r) => `${SERVERS[r.server].label}: ${r.detail}`).join('; ');
    throw new UmlperfError('ERR_UMLPERF_UNHEALTHY', `${o.label ?? o.addr}: not healthy after ${timeoutMs} ms: ${what}`);
  }
  const allOkAtNs = res.reduce((m, r) => (BigInt(r.okAtNs!) > m ? BigInt(r.okAtNs!) : m), 0n);
  return { servers: res, startedAtNs, allOkAtNs };
}
