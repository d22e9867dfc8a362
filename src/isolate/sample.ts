// The neighbours' rounds: one after another, each neighbour probed in turn from the lab's client
// namespace with the existing probes (TCP and UDP response time, TCP throughput, and with
// servers a serve-bench of a real one), until told to stop. Short probes, every one bounded.
import { abortError } from '../errors.js';
import { responseTime, throughput } from '../probes.js';
import { serveBench, type BenchServer } from '../servers/bench.js';
import type { Round } from './model.js';

export interface Neighbour {
  id: string;
  netns: string;
  address: string;
}

/** The probes a round runs: the real ones, or stand-ins that tests hand in. */
export interface RoundProbes {
  responseTime: typeof responseTime;
  throughput: typeof throughput;
  serveBench: typeof serveBench;
}
export const REAL_ROUND_PROBES: RoundProbes = { responseTime, throughput, serveBench };

export interface SamplerOptions {
  neighbours: Neighbour[];
  /** A real server to bench on each neighbour (with --servers). */
  bench?: BenchServer;
  iterations?: number;
  throughputS?: number;
  probes?: RoundProbes;
  signal?: AbortSignal;
}

/** More failed requests than this share of a serve-bench round: the neighbour's server is not answering. */
const SERVER_MAX_ERRORS = 0.1;
/** Fewer replies than this share of a UDP round's requests: the neighbour is not answering. */
const UDP_MIN_RECEIVED = 0.5;

/** Measures one round of one neighbour; a failed probe is null (and its error kept). */
export async function measureRound(n: Neighbour, o: SamplerOptions, t0: number): Promise<Round> {
  const p = o.probes ?? REAL_ROUND_PROBES;
  const iterations = o.iterations ?? 400;
  const startMs = performance.now() - t0;
  const values: Round['values'] = {};
  const errors: string[] = [];
  const fail = (e: unknown) => {
    if (o.signal?.aborted) throw abortError();
    errors.push((e as Error).message ?? String(e));
  };
  const common = { host: n.address, netns: n.netns, signal: o.signal, warmup: 10, iterations, keepSamples: false };
  try {
    const r = await p.responseTime({ ...common, protocol: 'tcp', timeoutMs: 1000 });
    values.tcpP50Ns = r.latency.p50Ns;
    values.tcpP99Ns = r.latency.p99Ns;
  } catch (e) {
    fail(e);
    values.tcpP50Ns = values.tcpP99Ns = null;
  }
  try {
    const r = await p.responseTime({ ...common, protocol: 'udp', timeoutMs: 200 });
    const ok = r.received >= r.sent * UDP_MIN_RECEIVED;
    if (!ok) errors.push(`udp: ${r.lost} of ${r.sent} lost`);
    values.udpP50Ns = ok ? r.latency.p50Ns : null;
    values.udpP99Ns = ok ? r.latency.p99Ns : null;
  } catch (e) {
    fail(e);
    values.udpP50Ns = values.udpP99Ns = null;
  }
  try {
    const r = await p.throughput({ host: n.address, netns: n.netns, signal: o.signal, protocol: 'tcp', durationS: o.throughputS ?? 0.25 });
    values.tcpMbps = r.Mbps;
  } catch (e) {
    fail(e);
    values.tcpMbps = null;
  }
  if (o.bench) {
    try {
      const r = await p.serveBench({ server: o.bench, netns: n.netns, addr: n.address, target: n.id, requests: 50, concurrency: 1, warmup: 5, timeoutMs: 1000, signal: o.signal });
      // A UML guest's server drops a query now and then when the host is busy (seen in
      // baselines): a round fails only when more than a tenth of its requests do.
      const ok = r.errors <= r.config.requests * SERVER_MAX_ERRORS;
      if (!ok) errors.push(`${o.bench}: ${r.errors} errors${r.firstError ? `: ${r.firstError}` : ''}`);
      values.serverP50Ns = ok ? r.latency.p50Ns : null;
      values.serverP99Ns = ok ? r.latency.p99Ns : null;
    } catch (e) {
      fail(e);
      values.serverP50Ns = values.serverP99Ns = null;
    }
  }
  const round: Round = { neighbour: n.id, startMs: Math.round(startMs), endMs: Math.round(performance.now() - t0), values };
  if (errors.length) round.errors = errors;
  return round;
}

/** Rounds of every neighbour in turn until `stop()` says so (checked between rounds). */
export class Sampler {
  readonly rounds: Round[] = [];
  readonly t0 = performance.now();
  private stopped = false;
  readonly done: Promise<void>;

  constructor(private o: SamplerOptions) {
    this.done = this.loop();
    // Seen by stop(); until then a failure must not count as unhandled.
    this.done.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      for (const n of this.o.neighbours) {
        if (this.stopped) return;
        if (this.o.signal?.aborted) throw abortError();
        this.rounds.push(await measureRound(n, this.o, this.t0));
      }
    }
  }

  /** ms since the sampler started. */
  now(): number {
    return Math.round(performance.now() - this.t0);
  }

  /** Rounds of neighbour `id` that started at or after `sinceMs`. */
  count(id: string, sinceMs = 0): number {
    return this.rounds.filter((r) => r.neighbour === id && r.startMs >= sinceMs).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
