// Latency under load (flent's RRUL, "realtime response under load"): TCP and UDP response time
// measured alone, then again while bulk TCP streams run in each direction, all from one call.
import { UsageError, abortError } from './errors.js';
import { native } from './native.js';
import {
  DEFAULT_CHARGEN_PORT,
  DEFAULT_DISCARD_PORT,
  DEFAULT_ECHO_PORT,
  responseTime,
  throughput,
  type Progress,
  type ResponseTimeResult,
  type ThroughputResult,
  type WaitMode,
} from './probes.js';
import { envelope } from './result/envelope.js';
import type { LatencyPhase, LatencyUnderLoad, LatencyUnderLoadResult } from './result/schema.js';
import { int, num, oneOf, text } from './validate.js';
import { sleep } from './wait.js';

export const MAX_RRUL_STREAMS = 32;

export interface LatencyUnderLoadOptions {
  host: string;
  /** TCP and UDP echo (response time). Default 7007. */
  echoPort?: number;
  /** TCP discard (bulk upload). Default 7008. */
  discardPort?: number;
  /** TCP chargen (bulk download). Default 7009. */
  sourcePort?: number;
  /** Bulk TCP streams per direction (1..32). Default 4, as RRUL. */
  streams?: number;
  /** Seconds the bulk load runs (0.5..3600); the loaded response times fit inside it. Default 4. */
  durationS?: number;
  /** Request size in bytes (8..1472). Default 64. */
  size?: number;
  /** Gap between request starts, ms (1..10000). Default 10. */
  intervalMs?: number;
  wait?: WaitMode;
  netns?: string;
  signal?: AbortSignal;
  /** Phase progress: done/total of the two phases (idle, loaded), in ms of planned time. */
  onProgress?: (p: Progress) => void;
}

export type { LatencyPhase, LatencyUnderLoad, LatencyUnderLoadResult };

const phase = (r: ResponseTimeResult): LatencyPhase => ({ latency: r.latency, sent: r.sent, received: r.received, lost: r.lost });
const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const under = (idle: ResponseTimeResult, loaded: ResponseTimeResult): LatencyUnderLoad => ({
  idle: phase(idle),
  loaded: phase(loaded),
  p50Ratio: ratio(loaded.latency.p50Ns, idle.latency.p50Ns),
  p99Ratio: ratio(loaded.latency.p99Ns, idle.latency.p99Ns),
});

/**
 * Runs `fs` at once under one abort: the first failure aborts the others and is the one thrown
 * (not the aborts it caused); an abort of the caller's signal ends them all.
 */
async function together<T extends unknown[]>(outer: AbortSignal | undefined, fs: { [K in keyof T]: (signal: AbortSignal) => Promise<T[K]> }): Promise<T> {
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer!.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  try {
    let first: unknown;
    const settled = await Promise.allSettled(
      fs.map((f) =>
        f(ac.signal).catch((e) => {
          if (first === undefined && !ac.signal.aborted) first = e;
          ac.abort(e);
          throw e;
        }),
      ),
    );
    if (outer?.aborted) throw abortError(outer.reason);
    if (first !== undefined) throw first;
    const bad = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (bad) throw bad.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
  } finally {
    outer?.removeEventListener('abort', onOuter);
  }
}

/**
 * Latency under load: TCP and UDP response time (at once) alone, then again while `streams` bulk
 * TCP streams send to discard and as many receive from chargen. Idle vs loaded percentiles, and
 * the bulk throughput. Needs 2 x streams + 1 TCP connections from one address at the target.
 */
export async function latencyUnderLoad(o: LatencyUnderLoadOptions): Promise<LatencyUnderLoadResult> {
  if (o === null || typeof o !== 'object') throw new UsageError(`options must be an object with at least host (got ${o === null ? 'null' : typeof o})`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new UsageError('signal must be an AbortSignal');
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new UsageError('onProgress must be a function');
  const host = text('host', o.host);
  const echoPort = int('echoPort', o.echoPort ?? DEFAULT_ECHO_PORT, 1, 65535);
  const discardPort = int('discardPort', o.discardPort ?? DEFAULT_DISCARD_PORT, 1, 65535);
  const sourcePort = int('sourcePort', o.sourcePort ?? DEFAULT_CHARGEN_PORT, 1, 65535);
  const streams = int('streams', o.streams ?? 4, 1, MAX_RRUL_STREAMS);
  const durationS = num('durationS', o.durationS ?? 4, 0.5, 3600);
  const size = int('size', o.size ?? 64, 8, 1472);
  const intervalMs = num('intervalMs', o.intervalMs ?? 10, 1, 10_000);
  const wait = oneOf('wait', o.wait ?? 'block', ['block', 'spin', 'busy-poll'] as const);
  const netns = o.netns === undefined ? null : text('netns', o.netns);
  // The loaded requests start once the load is past slow start, and end well before it does.
  const settleMs = Math.min(1000, durationS * 200);
  const windowMs = durationS * 1000 - settleMs - Math.min(1500, durationS * 300);
  const iterations = Math.max(5, Math.floor(windowMs / intervalMs));
  if (o.signal?.aborted) throw abortError(o.signal.reason);
  const startedAt = new Date().toISOString();
  const common = { host, port: echoPort, size, iterations, warmup: Math.min(5, iterations), intervalUs: intervalMs * 1000, wait, keepSamples: false, ...(netns !== null ? { netns } : {}) };
  const total = 2 * durationS * 1000;
  const progress = (done: number) => {
    try {
      o.onProgress?.({ done, total });
    } catch {
      // a progress callback must not end the run
    }
  };

  progress(0);
  const [tcpIdle, udpIdle] = await together<[ResponseTimeResult, ResponseTimeResult]>(o.signal, [
    (signal) => responseTime({ ...common, protocol: 'tcp', signal }),
    (signal) => responseTime({ ...common, protocol: 'udp', signal }),
  ]);
  progress(total / 2);

  let latencyEnd = 0n;
  let bulkEnd = 0n;
  const [bulk, loaded] = await together<[ThroughputResult, [ResponseTimeResult, ResponseTimeResult]]>(o.signal, [
    async (signal) => {
      const r = await throughput({ host, port: discardPort, sourcePort, bidir: true, parallel: streams, durationS, wait, signal, ...(netns !== null ? { netns } : {}) });
      bulkEnd = process.hrtime.bigint();
      return r;
    },
    async (signal) => {
      await sleep(settleMs, signal);
      const r = await together<[ResponseTimeResult, ResponseTimeResult]>(signal, [
        (s) => responseTime({ ...common, protocol: 'tcp', signal: s }),
        (s) => responseTime({ ...common, protocol: 'udp', signal: s }),
      ]);
      latencyEnd = process.hrtime.bigint();
      return r;
    },
  ]);
  progress(total);
  const [tcpLoaded, udpLoaded] = loaded;
  return {
    ...envelope('rrul', startedAt),
    config: { host, echoPort, discardPort, sourcePort, streams, durationS, size, intervalMs, iterations, settleMs, wait, netns },
    clock: native().clockInfo(),
    tcp: under(tcpIdle, tcpLoaded),
    udp: under(udpIdle, udpLoaded),
    bulk: {
      Mbps: bulk.Mbps,
      sentMbps: bulk.sent?.Mbps ?? 0,
      receivedMbps: bulk.received?.Mbps ?? 0,
      retransmits: bulk.sent?.retransmits ?? null,
      durationNs: bulk.durationNs,
    },
    latencyDuringLoad: latencyEnd > 0n && latencyEnd <= bulkEnd,
  };
}
