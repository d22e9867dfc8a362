// The measurement API: response time, throughput and streaming. Each validates its options,
// runs the native probe on a thread of its own, and returns a plain JSON-serialisable result.
import { UmlperfError, UsageError, abortError } from './errors.js';
import {
  native,
  type NativeClock,
  type NativeCommon,
  type NativeCrrResult,
  type NativeIntervalSnapshot,
  type NativeJob,
  type NativeResponseResult,
  type NativeStreamResult,
  type NativeIntervalEvent,
  type NativeThroughputStream,
  type ProgressFn,
} from './native.js';
import { histogramStats } from './histogram.js';
import { summarize } from './stats.js';
import { envelope } from './result/envelope.js';
import type {
  ConnectionRateResult,
  ResponseTimeResult,
  StreamingResult,
  StreamTrial,
  ThroughputDirection,
  ThroughputInterval,
  ThroughputResult,
  ThroughputStream,
} from './result/schema.js';

export type {
  ConnectionRateResult,
  ResponseTimeResult,
  StreamingResult,
  StreamTrial,
  ThroughputDirection,
  ThroughputInterval,
  ThroughputResult,
  ThroughputStream,
} from './result/schema.js';
type Config = Pick<ResponseTimeResult['config'], 'protocol' | 'host' | 'port' | 'peer' | 'wait' | 'cpu' | 'netns'>;
import { int, num, oneOf, text } from './validate.js';

export const DEFAULT_ECHO_PORT = 7007;
export const DEFAULT_DISCARD_PORT = 7008;
/** The endpoint's TCP chargen (RFC 864) source, for reverse throughput. */
export const DEFAULT_CHARGEN_PORT = 7009;
/**
 * The endpoint's control port: a paced UDP stream asked for over TCP (reverse UDP), and
 * transaction sessions (connection rate with the server closing first).
 */
export const DEFAULT_UDP_SOURCE_PORT = 7010;
/** The endpoint's control port under its other name: where `connectionRate` asks for a transaction session. */
export const DEFAULT_CONTROL_PORT = DEFAULT_UDP_SOURCE_PORT;
/** What a connection-rate probe talks to: umlperf's endpoint (a transaction session), or any TCP echo. */
export const CRR_SERVICES = ['transaction', 'echo'] as const;
/** Rate asked of a UDP source when none is given (reverse and bidir UDP). */
export const DEFAULT_UDP_SOURCE_MBPS = 100;
export const MAX_PARALLEL_STREAMS = 128;
export const MAX_UDP_PAYLOAD = 65507;
/** A UDP request carries its 8-byte sequence number, so that a late or foreign reply is recognised. */
export const MIN_UDP_REQUEST = 8;
/** A counted UDP datagram carries a 24-byte header (magic, kind, session, sequence number). */
const WIRE_HEADER = 24;
export type Protocol = 'tcp' | 'udp';
export type WaitMode = 'block' | 'spin' | 'busy-poll';
export type ClockInfo = NativeClock;

export interface Progress {
  done: number;
  total: number;
}

export interface CommonOptions {
  /** Host name or address of the echo/discard service. */
  host: string;
  /** Service port: echo (RFC 862) for response time and streaming, discard (RFC 863) for throughput. */
  port?: number;
  protocol?: Protocol;
  /** block: blocking syscalls; spin: non-blocking socket polled in user space; busy-poll: SO_BUSY_POLL. */
  wait?: WaitMode;
  busyPollUs?: number;
  /** Pin the probe's thread to this CPU. */
  cpu?: number;
  /** Run the probe inside this network namespace (name under /run/netns, or a path). */
  netns?: string;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface ResponseTimeOptions extends CommonOptions {
  /** Request size in bytes (TCP: 1..1048576, UDP: 8..65507). Default 64. */
  size?: number;
  iterations?: number;
  /** Requests sent first and not measured. Default min(100, iterations). */
  warmup?: number;
  /** Gap from the start of one request to the start of the next, in µs. Default 0. */
  intervalUs?: number;
  /** Per-request timeout in ms, however slowly a reply trickles in: a UDP request without reply is lost (three in a row fail the probe); a TCP one fails. */
  timeoutMs?: number;
  /**
   * Keep every RTT (samplesNs). false: keep a histogram of 0.1% relative error instead (bounded
   * memory; percentiles within 0.1% of the exact ones). Default: true up to 1e6 iterations,
   * the histogram past that.
   */
  keepSamples?: boolean;
}

/** Past this many samples a probe keeps a histogram instead, unless keepSamples is true. */
export const MAX_DEFAULT_SAMPLES = 1_000_000;

export interface ThroughputOptions extends CommonOptions {
  /**
   * Bytes per write (TCP) or per datagram (UDP). Default: TCP 262144 (256 KiB) per write, 1048576
   * per read when we only receive (reverse); UDP 1472.
   */
  size?: number;
  /** Stop after this many bytes ... */
  bytes?: number;
  /** ... or after this many seconds. Default: 2 s when bytes is not given. */
  durationS?: number;
  /**
   * The target sends and we receive and count. TCP: from a chargen source (RFC 864; the
   * endpoint's, or any standard one) at `port` (default 7009); we close when done. UDP: from the
   * endpoint's UDP source, asked over TCP at `port` (default 7010) for a stream at `rateMbps`
   * for durationS (bytes are not accepted); loss, reordering and duplicates from the sequence
   * numbers, what was sent from the source's own count.
   */
  reverse?: boolean;
  /** Send into discard at `port` and receive from the source at `sourcePort`, at once. */
  bidir?: boolean;
  /** With bidir: the source's port. Default port + 1 for TCP (chargen, 7009), port + 2 for UDP (7010). */
  sourcePort?: number;
  /**
   * UDP: the send pace (default 0: as fast as possible), and the rate asked of the UDP source
   * with reverse or bidir (default 100). Mbit/s of datagram payload.
   */
  rateMbps?: number;
  /** Streams per direction, each on a connection and native thread of its own (1..128). Default 1. */
  parallel?: number;
  /** Report figures per interval of this many ms (10..3600000) in `intervals`. */
  intervalMs?: number;
  /**
   * TCP, with durationS: leave the first omitMs out of every figure (slow start), as iperf3's
   * --omit does. A multiple of intervalMs when both are given. Live events still include it.
   */
  omitMs?: number;
  /**
   * With intervalMs: called as each stream ends an interval (the last one may be shorter), on
   * the event loop; the probe's threads only take a snapshot of their counters.
   */
  onInterval?: (e: ThroughputIntervalEvent) => void;
  /**
   * UDP, one stream to a discard service that reports its count (umlperf's endpoint): search
   * for the highest rate whose loss, as the receiver counted it, stays under
   * lossThresholdPercent (RFC 2544 throughput, one way). The first trial goes at `rateMbps`
   * (default 0: unpaced); the result is the best passing trial's, with `search`.
   */
  findMaxRate?: boolean;
  /** With findMaxRate. Default 0.1 %. */
  lossThresholdPercent?: number;
  /** With findMaxRate: most trials the search may run. Default 10. */
  maxTrials?: number;
}

/** A live interval report of one stream. */
export interface ThroughputIntervalEvent extends ThroughputInterval {
  /** 0-based; send streams first, then receive streams. */
  stream: number;
  direction: 'send' | 'receive';
}

export interface StreamingOptions extends CommonOptions {
  /** Datagram size in bytes (24..65507). Default 1472. */
  size?: number;
  /** Target send rate; 0 sends as fast as possible. */
  rateMbps?: number;
  /** Seconds to send for. Default 1. */
  durationS?: number;
  /** Search for the highest rate whose loss stays under lossThresholdPercent (RFC 2544 throughput). */
  findMaxRate?: boolean;
  /** Default 0.1 %. */
  lossThresholdPercent?: number;
  /** Most trials the search may run. Default 10. */
  maxTrials?: number;
}

const WAITS: readonly WaitMode[] = ['block', 'spin', 'busy-poll'];
const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];

type Checked = Omit<Config, 'peer'> & { busyPollUs: number };

function common(o: CommonOptions, defaultPort: number): Checked {
  if (o === null || typeof o !== 'object') throw new UsageError(`options must be an object with at least host (got ${o === null ? 'null' : typeof o})`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new UsageError(`signal must be an AbortSignal (got ${typeof o.signal})`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new UsageError(`onProgress must be a function (got ${typeof o.onProgress})`);
  const cpu = o.cpu === undefined ? null : int('cpu', o.cpu, 0, 4095);
  const netns = o.netns === undefined ? null : text('netns', o.netns);
  return {
    host: text('host', o.host),
    port: int('port', o.port ?? defaultPort, 1, 65535),
    protocol: oneOf('protocol', o.protocol ?? 'tcp', PROTOCOLS),
    wait: oneOf('wait', o.wait ?? 'block', WAITS),
    busyPollUs: int('busyPollUs', o.busyPollUs ?? 50, 0, 1_000_000),
    cpu,
    netns,
  };
}

function nativeCommon(c: Checked): NativeCommon {
  const out: NativeCommon = { host: c.host, port: c.port, protocol: c.protocol, wait: c.wait, busyPollUs: c.busyPollUs };
  if (c.cpu !== null) out.cpu = c.cpu;
  if (c.netns !== null) out.netns = c.netns;
  return out;
}

function configOf(c: Checked, peer: string): Config {
  return { protocol: c.protocol, host: c.host, port: c.port, peer, wait: c.wait, cpu: c.cpu, netns: c.netns };
}

/**
 * Runs a native job, wiring AbortSignal and progress. An abort rejects with an AbortError whose
 * cause is the signal's reason. A callback that throws is not called again, and its error is
 * reported once as a process warning (it must not flood stderr nor end the probe).
 */
async function run<R>(
  o: CommonOptions,
  start: (progress: ProgressFn) => NativeJob<R>,
  onIntervalEvent?: (e: NativeIntervalEvent) => void,
): Promise<R> {
  if (o.signal?.aborted) throw abortError(o.signal.reason);
  let onProgress = o.onProgress;
  let onInterval = onIntervalEvent;
  const progress: ProgressFn = (done, total) => {
    if (done === 'interval') {
      try {
        onInterval?.(total as NativeIntervalEvent);
      } catch (e) {
        onInterval = undefined;
        process.emitWarning(`onInterval threw and is no longer called: ${(e as Error)?.message ?? String(e)}`, { code: 'ERR_UMLPERF_PROGRESS' });
      }
      return;
    }
    if (typeof total !== 'number') return;
    if (!onProgress) return;
    try {
      onProgress({ done, total });
    } catch (e) {
      onProgress = undefined;
      process.emitWarning(`onProgress threw and is no longer called: ${(e as Error)?.message ?? String(e)}`, { code: 'ERR_UMLPERF_PROGRESS' });
    }
  };
  const job = start(progress);
  const abort = () => job.cancel();
  o.signal?.addEventListener('abort', abort, { once: true });
  try {
    return await job.promise;
  } catch (e) {
    if (o.signal?.aborted && (e as { code?: string })?.code === 'ABORT_ERR') {
      const err = abortError(o.signal.reason) as Error & { partial?: unknown };
      if ((e as { partial?: unknown }).partial !== undefined) err.partial = (e as { partial?: unknown }).partial;
      throw err;
    }
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', abort);
  }
}

const clock = (): ClockInfo => native().clockInfo();
const perS = (count: number, ns: number) => (ns > 0 ? (count * 1e9) / ns : 0);
const mbps = (bytes: number, ns: number) => (ns > 0 ? (bytes * 8e3) / ns : 0);
const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);

/**
 * Ping-pong of `size` bytes, every round trip timed in integer nanoseconds. Every reply must be
 * exactly its request's bytes; a peer that answers otherwise, or (UDP) not at all three times in
 * a row, fails the probe with a code ERR_UMLPERF_PEER_*. A failed or aborted probe's error
 * carries what was measured until then as `partial` (a ResponseTimeResult).
 */
export async function responseTime(o: ResponseTimeOptions): Promise<ResponseTimeResult> {
  const c = common(o, DEFAULT_ECHO_PORT);
  const udp = c.protocol === 'udp';
  const size = int('size', o.size ?? 64, 1, udp ? MAX_UDP_PAYLOAD : 1 << 20);
  if (udp && size < MIN_UDP_REQUEST) {
    throw new UsageError(`size must be at least ${MIN_UDP_REQUEST} bytes for UDP: each request carries its sequence number (got ${size})`);
  }
  const iterations = int('iterations', o.iterations ?? 1000, 1, 100_000_000);
  const warmup = int('warmup', o.warmup ?? Math.min(100, iterations), 0, 100_000_000);
  const intervalUs = num('intervalUs', o.intervalUs ?? 0, 0, 60_000_000);
  const timeoutMs = num('timeoutMs', o.timeoutMs ?? (udp ? 200 : 5000), 0.001, 600_000);
  const histogram = keepHistogram(o.keepSamples, iterations);
  const startedAt = new Date().toISOString();
  const build = (r: NativeResponseResult): ResponseTimeResult => {
    const result: ResponseTimeResult = {
      ...envelope('response', startedAt),
      config: { ...configOf(c, r.peer), size, iterations, warmup, intervalUs, timeoutMs },
      clock: clock(),
      latency: r.histogram ? histogramStats(r.histogram) : summarize(r.rttNs),
      sent: r.sent,
      received: (r.histogram?.count ?? r.rttNs.length),
      lost: r.lost,
      lossPercent: pct(r.lost, r.sent),
      stale: r.stale,
      durationNs: r.durationNs,
      requestsPerSecond: perS((r.histogram?.count ?? r.rttNs.length), r.durationNs),
    };
    if (!histogram) result.samplesNs = Array.from(r.rttNs);
    return result;
  };
  try {
    return build(
      await run(o, (p) =>
        native().responseTime(
          { ...nativeCommon(c), size, iterations, warmup, intervalNs: Math.round(intervalUs * 1e3), timeoutNs: Math.round(timeoutMs * 1e6), histogram, samples: !histogram },
          p,
        ),
      ),
    );
  } catch (e) {
    const err = e as { partial?: NativeResponseResult };
    if (err?.partial && typeof err.partial === 'object' && 'rttNs' in err.partial) err.partial = build(err.partial) as never;
    throw e;
  }
}

/** Per-interval figures from a stream's cumulative snapshots. */
function intervalsOf(
  snaps: NativeIntervalSnapshot[],
  tcpSend: boolean,
  from: NativeIntervalSnapshot = { endNs: 0, bytes: 0, retransmits: 0, lost: 0 },
  udpReceive = false,
): ThroughputInterval[] {
  let prev = from;
  return snaps.map((s) => {
    const i: ThroughputInterval = { startNs: prev.endNs, endNs: s.endNs, bytes: s.bytes - prev.bytes, Mbps: mbps(s.bytes - prev.bytes, s.endNs - prev.endNs) };
    if (tcpSend) i.retransmits = s.retransmits - prev.retransmits;
    if (udpReceive) i.lost = s.lost - prev.lost;
    prev = s;
    return i;
  });
}

/**
 * The streams' intervals added up by index: the streams share the interval grid, and each
 * snapshots at its first step past a boundary; a summed interval ends with the latest of its
 * parts, and the next one starts there.
 */
function sumIntervals(all: ThroughputInterval[][]): ThroughputInterval[] {
  const n = Math.max(0, ...all.map((a) => a.length));
  const out: ThroughputInterval[] = [];
  for (let k = 0; k < n; k++) {
    const parts = all.map((a) => a[k]).filter((x): x is ThroughputInterval => x !== undefined);
    const startNs = k === 0 ? Math.min(...parts.map((p) => p.startNs)) : out[k - 1].endNs;
    const endNs = Math.max(startNs, ...parts.map((p) => p.endNs));
    const bytes = parts.reduce((a, p) => a + p.bytes, 0);
    const i: ThroughputInterval = { startNs, endNs, bytes, Mbps: mbps(bytes, endNs - startNs) };
    if (parts.some((p) => p.retransmits !== undefined)) i.retransmits = parts.reduce((a, p) => a + (p.retransmits ?? 0), 0);
    if (parts.some((p) => p.lost !== undefined)) i.lost = parts.reduce((a, p) => a + (p.lost ?? 0), 0);
    out.push(i);
  }
  return out;
}

/** What a rate search has found: its first trial's result and its best passing one. */
interface SearchFound<R> {
  first?: R;
  best?: R;
}

/**
 * RFC 2544's search: a first trial at the ceiling (0: as fast as the sender goes), then
 * bisection below what it sent, until the bracket is within 2% or the trials run out.
 * `found` is kept up to date as trials end, so a caller still has it when a trial throws.
 */
async function searchMaxRate<R>(
  ceilingMbps: number,
  maxTrials: number,
  trial: (rateMbps: number) => Promise<{ r: R; pass: boolean; sentMbps: number }>,
  found: SearchFound<R> = {},
): Promise<SearchFound<R> & { first: R }> {
  const first = await trial(ceilingMbps);
  found.first = first.r;
  if (first.pass) found.best = first.r;
  let count = 1;
  let lo = 0;
  let hi = ceilingMbps > 0 ? ceilingMbps : first.sentMbps;
  while (!first.pass && count < maxTrials && hi - lo > 0.02 * hi) {
    const mid = (lo + hi) / 2;
    const t = await trial(mid);
    count++;
    if (t.pass) {
      lo = mid;
      found.best = t.r;
    } else {
      hi = mid;
    }
  }
  return { ...found, first: first.r };
}

/**
 * A rate search that loses nothing measured: when a trial fails or the search is cancelled, the
 * error carries as `partial` the best passing trial so far (else the first) with every trial
 * done (`withSearch`), unless the error has a `partial` of its own already.
 */
async function searchKeepingPartial<R>(found: SearchFound<R>, withSearch: (r: R) => R, search: () => Promise<unknown>): Promise<R> {
  try {
    await search();
  } catch (e) {
    const err = e as { partial?: unknown };
    const sofar = found.best ?? found.first;
    if (sofar && err && typeof err === 'object' && err.partial === undefined) err.partial = withSearch(sofar);
    throw e;
  }
  return withSearch(found.best ?? found.first!);
}

/**
 * Bulk transfer by byte count or for a duration: into a discard service (default), from a
 * chargen source (reverse), or both at once (bidir); with `parallel` streams per direction.
 */
export async function throughput(o: ThroughputOptions): Promise<ThroughputResult> {
  if (o === null || typeof o !== 'object' || o.findMaxRate === undefined || !bool('findMaxRate', o.findMaxRate)) {
    if (o !== null && typeof o === 'object' && (o.lossThresholdPercent !== undefined || o.maxTrials !== undefined))
      throw new UsageError('lossThresholdPercent and maxTrials go with findMaxRate');
    return throughputOnce(o);
  }
  if (o.protocol !== 'udp') throw new UsageError('findMaxRate is UDP only: TCP goes as fast as the path allows');
  if (o.reverse || o.bidir) throw new UsageError('findMaxRate searches the rate we send: not with reverse or bidir');
  if (o.parallel !== undefined && o.parallel !== 1) throw new UsageError('findMaxRate runs one stream (parallel 1)');
  if (o.bytes !== undefined) throw new UsageError('findMaxRate trials run for durationS, not bytes');
  if (o.intervalMs !== undefined || o.onInterval !== undefined) throw new UsageError('findMaxRate takes no interval reports');
  if (o.size !== undefined && typeof o.size === 'number' && o.size < WIRE_HEADER) throw new UsageError(`size must be at least ${WIRE_HEADER} bytes for a counted UDP stream (got ${o.size})`);
  const threshold = num('lossThresholdPercent', o.lossThresholdPercent ?? 0.1, 0, 100);
  const maxTrials = int('maxTrials', o.maxTrials ?? 10, 2, 50);
  const { findMaxRate: _f, lossThresholdPercent: _l, maxTrials: _m, ...one } = o;
  const trials: StreamTrial[] = [];
  // The best passing trial so far (else the first): also what a failure mid-search hands back as `partial`.
  const found: SearchFound<ThroughputResult> = {};
  const withSearch = (r: ThroughputResult): ThroughputResult => ({ ...r, search: { lossThresholdPercent: threshold, maxRateMbps: found.best ? found.best.Mbps : 0, trials } });
  return searchKeepingPartial(found, withSearch, () =>
    searchMaxRate(num('rateMbps', o.rateMbps ?? 0, 0, 1_000_000), maxTrials, async (rateMbps) => {
      const r = await throughputOnce({ ...one, rateMbps });
      // Loss is known only from the receiver's count: a standard discard (or a blackhole) cannot say.
      if (!r.receiverConfirmed || r.lossPercent === null)
        throw new UmlperfError('ERR_UMLPERF_UNCONFIRMED', `the receiver at ${r.config.peer} did not report its count, so no loss is known: a rate search needs umlperf's endpoint's discard service`);
      const pass = r.lossPercent <= threshold;
      trials.push({ targetRateMbps: rateMbps, sentMbps: r.sentMbps, receivedMbps: r.Mbps, lossPercent: r.lossPercent, pass });
      return { r, pass, sentMbps: r.sentMbps };
    }, found));
}

async function throughputOnce(o: ThroughputOptions): Promise<ThroughputResult> {
  if (o !== null && typeof o === 'object' && o.reverse === true && o.bidir === true) throw new UsageError('give reverse or bidir, not both');
  const reverse = o !== null && typeof o === 'object' && o.reverse !== undefined ? bool('reverse', o.reverse) : false;
  const udpAsked = o !== null && typeof o === 'object' && o.protocol === 'udp';
  const c = common(o, reverse ? (udpAsked ? DEFAULT_UDP_SOURCE_PORT : DEFAULT_CHARGEN_PORT) : DEFAULT_DISCARD_PORT);
  const bidir = o.bidir !== undefined ? bool('bidir', o.bidir) : false;
  const udp = c.protocol === 'udp';
  const direction = reverse ? 'receive' : bidir ? 'both' : 'send';
  if (o.sourcePort !== undefined && !bidir) throw new UsageError('sourcePort goes with bidir (with reverse, port is the source)');
  const sourceOffset = udp ? 2 : 1;
  if (bidir && o.sourcePort === undefined && c.port + sourceOffset > 65535) throw new UsageError(`port ${c.port} leaves no room for the source port (port + ${sourceOffset}): give sourcePort`);
  const sourcePort = bidir ? int('sourcePort', o.sourcePort ?? c.port + sourceOffset, 1, 65535) : 0;
  if (o.rateMbps !== undefined && !udp) throw new UsageError('rateMbps is UDP only: TCP goes as fast as the path allows');
  const fromSource = udp && (reverse || bidir);
  const rateMbps = udp ? num('rateMbps', o.rateMbps ?? (fromSource ? DEFAULT_UDP_SOURCE_MBPS : 0), fromSource ? 0.001 : 0, 1_000_000) : 0;
  // The native core's defaults (native/core/probe.h says why these sizes).
  const lim = native().limits;
  const size = int('size', o.size ?? (udp ? lim.udpDatagramDefault : reverse ? lim.tcpReadDefault : lim.tcpWriteDefault), 1, udp ? MAX_UDP_PAYLOAD : 16 << 20);
  if (o.bytes !== undefined && o.durationS !== undefined) {
    throw new UsageError('give bytes or durationS, not both');
  }
  const bytes = o.bytes === undefined ? null : int('bytes', o.bytes, 1, Number.MAX_SAFE_INTEGER);
  const durationS = bytes === null ? num('durationS', o.durationS ?? 2, 0.001, 3600) : null;
  if (fromSource && bytes !== null) throw new UsageError('reverse and bidir UDP run for durationS, not bytes: datagrams get lost');
  if (udp && size < WIRE_HEADER && (fromSource || rateMbps > 0)) throw new UsageError(`size must be at least ${WIRE_HEADER} bytes for a counted UDP stream (got ${size})`);
  const parallel = int('parallel', o.parallel ?? 1, 1, MAX_PARALLEL_STREAMS);
  const intervalMs = o.intervalMs === undefined ? null : num('intervalMs', o.intervalMs, 10, 3_600_000);
  const omitMs = o.omitMs === undefined ? null : num('omitMs', o.omitMs, 10, 3_600_000);
  if (omitMs !== null) {
    if (udp) throw new UsageError('omitMs is TCP only: a UDP receiver counts the whole run');
    if (durationS === null) throw new UsageError('omitMs goes with durationS, not bytes');
    if (omitMs >= durationS * 1000) throw new UsageError(`omitMs (${omitMs}) must be shorter than the run (${durationS * 1000} ms)`);
    if (intervalMs !== null && Math.abs(omitMs / intervalMs - Math.round(omitMs / intervalMs)) > 1e-9)
      throw new UsageError(`omitMs (${omitMs}) must be a multiple of intervalMs (${intervalMs})`);
  }
  if (o.onInterval !== undefined && typeof o.onInterval !== 'function') throw new UsageError(`onInterval must be a function (got ${typeof o.onInterval})`);
  if (o.onInterval !== undefined && intervalMs === null) throw new UsageError('onInterval needs intervalMs');
  // Each stream's previous snapshot, to turn cumulative counters into one interval's figures.
  const last = new Map<number, NativeIntervalSnapshot>();
  const live = o.onInterval
    ? (e: NativeIntervalEvent) => {
        const prev = last.get(e.stream) ?? { endNs: 0, bytes: 0, retransmits: 0, lost: 0 };
        last.set(e.stream, e);
        const bytes = e.bytes - prev.bytes;
        const ev: ThroughputIntervalEvent = { stream: e.stream, direction: e.direction, startNs: prev.endNs, endNs: e.endNs, bytes, Mbps: mbps(bytes, e.endNs - prev.endNs) };
        if (!udp && e.direction === 'send') ev.retransmits = e.retransmits - prev.retransmits;
        if (udp && e.direction === 'receive') ev.lost = e.lost - prev.lost;
        o.onInterval!(ev);
      }
    : undefined;
  const startedAt = new Date().toISOString();
  const r = await run(o, (p) =>
    native().throughput(
      {
        ...nativeCommon(c),
        size,
        bytes: bytes ?? 0,
        durationNs: durationS === null ? 0 : Math.round(durationS * 1e9),
        drainTimeoutNs: 5e9,
        direction,
        // Reverse: the one port is the source's.
        sourcePort: reverse ? c.port : sourcePort,
        parallel,
        // With omit alone, snapshots on the omit period give the counts at its end.
        intervalNs: Math.round((intervalMs ?? omitMs ?? 0) * 1e6),
        liveIntervals: live !== undefined,
        ...(udp ? { rateMbps } : {}),
      },
      p,
    ),
    live,
  );
  // Omit: each stream counted from its first snapshot at or past omitMs (the first step of the
  // first kept interval).
  const base = new Map<NativeThroughputStream, NativeIntervalSnapshot>();
  if (omitMs !== null) {
    r.streams = r.streams.map((s) => {
      const k = s.intervals.findIndex((i) => i.endNs >= omitMs * 1e6);
      const b = k >= 0 ? s.intervals[k] : (s.intervals.at(-1) ?? { endNs: 0, bytes: 0, retransmits: 0, lost: 0 });
      const rx = s.direction === 'receive';
      const t: NativeThroughputStream = {
        ...s,
        bytesSent: rx ? 0 : s.bytesSent - b.bytes,
        bytesReceivedHere: rx ? s.bytesReceivedHere - b.bytes : 0,
        durationNs: Math.max(0, s.durationNs - b.endNs),
        sendDurationNs: Math.max(0, s.sendDurationNs - b.endNs),
        retransmits: s.retransmits - b.retransmits,
        intervals: k >= 0 ? s.intervals.slice(k + 1) : [],
      };
      base.set(t, b);
      return t;
    });
  }
  const streamOf = (s: NativeThroughputStream): ThroughputStream => {
    const rx = s.direction === 'receive';
    const confirmed = rx || (udp ? s.receiverCounted : s.drained);
    const b = rx ? s.bytesReceivedHere : udp && s.receiverCounted ? s.bytesReceived : s.bytesSent;
    const out: ThroughputStream = {
      peer: s.peer,
      bytes: b,
      durationNs: s.durationNs,
      Mbps: mbps(b, s.durationNs),
      retransmits: !udp && !rx ? s.retransmits : null,
      confirmed,
    };
    if (udp && s.receiverCounted) {
      out.datagramsSent = s.datagramsSent;
      out.datagramsReceived = s.datagramsReceived;
      out.lost = s.datagramsSent - s.datagramsReceived;
      if (s.reorderCounted) out.reordered = s.reordered;
      if (rx) out.duplicates = s.duplicates;
    }
    if (intervalMs !== null) out.intervals = intervalsOf(s.intervals, !udp && !rx, base.get(s), udp && rx);
    return out;
  };
  const dirOf = (ss: NativeThroughputStream[]): ThroughputDirection | null => {
    if (ss.length === 0) return null;
    const streams = ss.map(streamOf);
    const b = streams.reduce((a, s) => a + s.bytes, 0);
    const d = Math.max(...streams.map((s) => s.durationNs));
    const rt = streams.every((s) => s.retransmits === null) ? null : streams.reduce((a, s) => a + (s.retransmits ?? 0), 0);
    return { bytes: b, durationNs: d, Mbps: mbps(b, d), retransmits: rt, streams };
  };
  const tx = r.streams.filter((s) => s.direction === 'send');
  const sent = dirOf(tx);
  const received = dirOf(r.streams.filter((s) => s.direction === 'receive'));
  const sum = (f: (s: NativeThroughputStream) => number) => tx.reduce((a, s) => a + f(s), 0);
  const counted = udp && tx.every((s) => s.receiverCounted);
  const drained = !udp && tx.every((s) => s.drained);
  const bytesSent = sum((s) => s.bytesSent);
  // UDP: every stream's datagrams, ours to the receiver and the source's to us, by the receiver's count.
  const all = (f: (s: NativeThroughputStream) => number) => r.streams.reduce((a, s) => a + f(s), 0);
  const datagramsSent = all((s) => s.datagramsSent);
  const datagramsReceived = all((s) => s.datagramsReceived);
  const lost = counted ? datagramsSent - datagramsReceived : null;
  const reordered = counted && r.streams.every((s) => s.reorderCounted) ? all((s) => s.reordered) : null;
  const sendDurationNs = Math.max(0, ...tx.map((s) => s.sendDurationNs));
  const parts = [sent, received].filter((x): x is ThroughputDirection => x !== null);
  const result: ThroughputResult = {
    ...envelope('throughput', startedAt),
    config: {
      ...configOf(c, r.streams[0]?.peer ?? ''),
      size,
      bytes,
      durationS,
      direction,
      sourcePort: bidir ? sourcePort : null,
      parallel,
      intervalMs,
      omitMs,
      ...(udp ? { rateMbps } : {}),
    },
    clock: clock(),
    bytes: parts.reduce((a, d) => a + d.bytes, 0),
    bytesSent,
    bytesReceived: sent === null ? received!.bytes : udp ? (counted ? sum((s) => s.bytesReceived) : null) : drained ? bytesSent : null,
    datagramsSent: udp ? datagramsSent : null,
    datagramsReceived: counted ? datagramsReceived : null,
    lost,
    lossPercent: lost === null ? null : pct(lost, datagramsSent),
    reordered,
    duplicates: udp && received !== null ? all((s) => s.duplicates) : null,
    durationNs: Math.max(...parts.map((d) => d.durationNs)),
    sendDurationNs,
    Mbps: parts.reduce((a, d) => a + d.Mbps, 0),
    sentMbps: mbps(bytesSent, sendDurationNs),
    receiverConfirmed: sent === null ? true : udp ? counted : drained,
    sent,
    received,
  };
  if (intervalMs !== null) result.intervals = sumIntervals(parts.flatMap((d) => d.streams.map((s) => s.intervals!)));
  return result;
}

/** A histogram instead of every sample: asked for (keepSamples false), or by default past MAX_DEFAULT_SAMPLES. */
export function keepHistogram(keepSamples: unknown, count: number): boolean {
  if (keepSamples !== undefined) return !bool('keepSamples', keepSamples);
  return count > MAX_DEFAULT_SAMPLES;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new UsageError(`${name} must be true or false (got ${String(v)})`);
  return v;
}

export interface ConnectionRateOptions extends Omit<CommonOptions, 'protocol'> {
  /**
   * `'transaction'` (default): a transaction session of umlperf's endpoint, asked for at its
   * control `port` (default 7010). Each connection carries a request of `size` bytes and a
   * response of `responseSize`, and the server closes first, as netperf's TCP_CRR server does
   * (the TIME_WAITs are the server's). `'echo'`: any TCP echo (RFC 862) at `port` (default
   * 7007); the response is the request, and we close first (the TIME_WAITs are ours, which costs
   * the client a search for a free port at high rates).
   */
  service?: (typeof CRR_SERVICES)[number];
  /** Request size in bytes, 1..65536. Default 1, as netperf's TCP_CRR. */
  size?: number;
  /** Response size in bytes, 1..65536 (transaction service only; an echo answers `size`). Default `size`. */
  responseSize?: number;
  transactions?: number;
  /** Transactions first, not measured. Default min(10, transactions). */
  warmup?: number;
  /** Per transaction, connect included, in ms. Default 5000. */
  timeoutMs?: number;
  /** Keep every transaction's time in the result (samplesNs). Default true. */
  keepSamples?: boolean;
}

/**
 * Connection rate (netperf's TCP_CRR): per transaction a new connection, one request, its
 * response, and the close; in a transaction session of umlperf's endpoint (the default) or
 * against any TCP echo (`service: 'echo'`). The response must be the request's bytes, repeated
 * to its size. A failed or aborted probe's error carries what was measured until then as
 * `partial`.
 */
export async function connectionRate(o: ConnectionRateOptions): Promise<ConnectionRateResult> {
  if (o !== null && typeof o === 'object' && (o as { protocol?: unknown }).protocol !== undefined && (o as { protocol?: unknown }).protocol !== 'tcp') {
    throw new UsageError('connection rate is TCP only');
  }
  const service = oneOf('service', (o !== null && typeof o === 'object' ? o.service : undefined) ?? 'transaction', CRR_SERVICES);
  const c = common({ ...o, protocol: 'tcp' }, service === 'transaction' ? DEFAULT_CONTROL_PORT : DEFAULT_ECHO_PORT);
  const size = int('size', o.size ?? 1, 1, 65536);
  if (service === 'echo' && o.responseSize !== undefined && o.responseSize !== size) {
    throw new UsageError(`responseSize goes with service 'transaction' (an echo's response is the request, ${size} bytes)`);
  }
  const responseSize = int('responseSize', o.responseSize ?? size, 1, 65536);
  const transactions = int('transactions', o.transactions ?? 1000, 1, 10_000_000);
  const warmup = int('warmup', o.warmup ?? Math.min(10, transactions), 0, 10_000_000);
  const timeoutMs = num('timeoutMs', o.timeoutMs ?? 5000, 1, 600_000);
  const histogram = keepHistogram(o.keepSamples, transactions);
  const startedAt = new Date().toISOString();
  const build = (r: NativeCrrResult): ConnectionRateResult => {
    const out: ConnectionRateResult = {
      ...envelope('crr', startedAt),
      config: { ...configOf(c, r.peer), service, size, responseSize, transactions, warmup, timeoutMs },
      clock: clock(),
      latency: r.histogram ? histogramStats(r.histogram) : summarize(r.latencyNs),
      transactions: (r.histogram?.count ?? r.latencyNs.length),
      durationNs: r.durationNs,
      transactionsPerSecond: perS((r.histogram?.count ?? r.latencyNs.length), r.durationNs),
    };
    if (!histogram) out.samplesNs = Array.from(r.latencyNs);
    return out;
  };
  try {
    return build(await run(o, (p) => native().crr({ ...nativeCommon(c), size, session: service === 'transaction', responseSize, transactions, warmup, timeoutNs: Math.round(timeoutMs * 1e6), histogram, samples: !histogram }, p)));
  } catch (e) {
    const err = e as { partial?: NativeCrrResult };
    if (err?.partial && typeof err.partial === 'object' && 'latencyNs' in err.partial) err.partial = build(err.partial) as never;
    throw e;
  }
}

async function streamOnce(o: StreamingOptions, c: Checked, size: number, rateMbps: number, durationS: number): Promise<StreamingResult> {
  const startedAt = new Date().toISOString();
  const r = await run(o, (p) =>
    native().streaming({ ...nativeCommon(c), protocol: 'udp', size, rateMbps, durationNs: Math.round(durationS * 1e9) }, p),
  );
  return {
    ...envelope('stream', startedAt),
    config: { ...configOf(c, r.peer), protocol: 'udp', size, targetRateMbps: rateMbps, durationS },
    clock: clock(),
    sent: r.sent,
    received: r.received,
    lost: r.lost,
    lossPercent: pct(r.lost, r.sent),
    duplicates: r.duplicates,
    reordered: r.reordered,
    jitterNs: r.jitterNs,
    durationNs: r.durationNs,
    sentMbps: r.sentMbps,
    receivedMbps: r.receivedMbps,
    latency: summarize(r.rttNs),
  };
}

/**
 * UDP paced at a rate through an echo service: loss, duplicates, reordering, jitter. With
 * findMaxRate, a search for the highest rate whose loss stays under the threshold.
 */
export async function streaming(o: StreamingOptions): Promise<StreamingResult> {
  const c = common({ ...o, protocol: 'udp' }, DEFAULT_ECHO_PORT);
  const size = int('size', o.size ?? native().limits.udpDatagramDefault, 24, MAX_UDP_PAYLOAD);
  const durationS = num('durationS', o.durationS ?? 1, 0.01, 3600);
  const rateMbps = num('rateMbps', o.rateMbps ?? 0, 0, 1_000_000);
  if (!o.findMaxRate) return streamOnce(o, c, size, rateMbps, durationS);

  const threshold = num('lossThresholdPercent', o.lossThresholdPercent ?? 0.1, 0, 100);
  const maxTrials = int('maxTrials', o.maxTrials ?? 10, 2, 50);
  const trials: StreamTrial[] = [];
  // The best passing trial so far (else the first): also what a failure mid-search hands back as `partial`.
  const found: SearchFound<StreamingResult> = {};
  const withSearch = (r: StreamingResult): StreamingResult => ({ ...r, search: { lossThresholdPercent: threshold, maxRateMbps: found.best ? found.best.receivedMbps : 0, trials } });
  return searchKeepingPartial(found, withSearch, () =>
    searchMaxRate(rateMbps, maxTrials, async (target) => {
      const r = await streamOnce(o, c, size, target, durationS);
      const pass = r.lossPercent <= threshold;
      trials.push({ targetRateMbps: target, sentMbps: r.sentMbps, receivedMbps: r.receivedMbps, lossPercent: r.lossPercent, pass });
      return { r, pass, sentMbps: r.sentMbps };
    }, found));
}
