// The addon's surface, declared once. Everything else in src/ goes through this file.
import type { HistogramData } from './histogram.js';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface NativeClock {
  source: 'tsc' | 'clock_monotonic_raw';
  resolutionNs: number;
  overheadNs: number;
  tscHz?: number;
}

export interface NativeCommon {
  host: string;
  port: number;
  protocol?: 'tcp' | 'udp';
  wait?: 'block' | 'spin' | 'busy-poll';
  busyPollUs?: number;
  cpu?: number;
  netns?: string;
}

export interface NativeResponseOptions extends NativeCommon {
  size: number;
  iterations: number;
  warmup: number;
  intervalNs: number;
  timeoutNs: number;
  /** Record into a fixed-relative-error histogram (bounded memory) ... */
  histogram?: boolean;
  /** ... and/or keep every sample. Default true. */
  samples?: boolean;
}
export interface NativeResponseResult {
  rttNs: Float64Array;
  histogram?: HistogramData;
  sent: number;
  lost: number;
  stale: number;
  durationNs: number;
  peer: string;
}

export interface NativeThroughputOptions extends NativeCommon {
  size: number;
  bytes: number;
  durationNs: number;
  drainTimeoutNs: number;
  /** send: into discard at port; receive: from a chargen source at sourcePort (TCP); both. */
  direction?: 'send' | 'receive' | 'both';
  sourcePort?: number;
  /** Streams per direction. */
  parallel?: number;
  /** 0: no interval snapshots. */
  intervalNs?: number;
  /** Also send each snapshot as it is taken, to progress('interval', event). */
  liveIntervals?: boolean;
  /** UDP: send pace (0: as fast as possible); receive: the rate asked of the UDP source. */
  rateMbps?: number;
}
/** A live snapshot: stream index (send streams first), and its cumulative counters. */
export interface NativeIntervalEvent extends NativeIntervalSnapshot {
  stream: number;
  direction: 'send' | 'receive';
}
/** A stream's cumulative counters at the end of an interval (ns since the run's common start). */
export interface NativeIntervalSnapshot {
  endNs: number;
  bytes: number;
  retransmits: number;
  /** UDP receive streams: sequence numbers skipped so far. */
  lost: number;
}
export interface NativeThroughputResult {
  /** Send streams first, then receive streams. */
  streams: NativeThroughputStream[];
}
export interface NativeThroughputStream {
  direction: 'send' | 'receive';
  /** Receive streams: bytes that arrived from the source. */
  bytesReceivedHere: number;
  /** TCP send streams: TCP_INFO total retransmits. */
  retransmits: number;
  intervals: NativeIntervalSnapshot[];
  bytesSent: number;
  datagramsSent: number;
  sendDurationNs: number;
  durationNs: number;
  receiverCounted: boolean;
  bytesReceived: number;
  datagramsReceived: number;
  /** UDP: datagrams that arrived after a higher sequence number (send: the receiver's count, when reorderCounted). */
  reordered: number;
  reorderCounted: boolean;
  /** UDP receive streams. */
  duplicates: number;
  drained: boolean;
  size: number;
  peer: string;
}

export interface NativeStreamOptions extends NativeCommon {
  size: number;
  rateMbps: number;
  durationNs: number;
  maxPackets?: number;
  drainNs?: number;
}
export interface NativeStreamResult {
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  reordered: number;
  /** RFC 3550 interarrival jitter of the echoes. */
  jitterNs: number;
  durationNs: number;
  sentMbps: number;
  receivedMbps: number;
  rttNs: Float64Array;
  peer: string;
}

export interface NativeCrrOptions extends NativeCommon {
  size: number;
  /** A transaction session of the endpoint at port (its control port): the server closes first. */
  session?: boolean;
  responseSize?: number;
  transactions: number;
  warmup: number;
  timeoutNs: number;
  histogram?: boolean;
  samples?: boolean;
}
export interface NativeCrrResult {
  /** Per measured transaction: connect start to close done. */
  latencyNs: Float64Array;
  histogram?: HistogramData;
  durationNs: number;
  peer: string;
}

export interface NativeJob<R> {
  promise: Promise<R>;
  cancel(): void;
}
/** (done, total) as the probe goes; for a throughput job with liveIntervals, also ('interval', event). */
export type ProgressFn = (done: number | 'interval', total: number | NativeIntervalEvent) => void;

export interface NativeEndpointOptions {
  bind: string;
  echoPort: number;
  discardPort: number;
  chargenPort?: number;
  chargen?: boolean;
  sourceMaxMs?: number;
  udpSource?: boolean;
  udpSourcePort?: number;
  udpSourceMaxMbps?: number;
  tcp?: boolean;
  udp?: boolean;
  wait?: 'block' | 'spin' | 'busy-poll';
  netns?: string;
  maxConnections?: number;
  maxConnectionsPerSource?: number;
  idleTimeoutMs?: number;
  udpRepliesPerSecond?: number;
  discardReadBytes?: number;
}
export interface NativeEndpointStats {
  tcpConnections: number;
  tcpRefused: number;
  echoedBytes: number;
  discardedBytes: number;
  udpEchoed: number;
  udpDiscarded: number;
  udpQueries: number;
  /** TCP connections closed for idling (or to make room for a new one). */
  tcpIdleClosed: number;
  /** UDP datagrams not answered: from a reserved or service port, a reflection loop, or over the rate limit. */
  udpIgnored: number;
  /** Bytes the TCP chargen source handed to the kernel. */
  chargenBytes: number;
  /** Chargen connections closed at the time cap (sourceMaxMs). */
  chargenCapped: number;
  /** Datagrams the UDP source sent. */
  udpSourceDatagrams: number;
  /** Control requests refused (over a cap, malformed, or none in time): UDP source and transaction sessions. */
  udpSourceRefused: number;
  /** Transaction sessions opened, and the transactions served in them. */
  transactionSessions: number;
  transactions: number;
}
export interface NativeEndpoint {
  readonly echoPort: number;
  readonly discardPort: number;
  /** 0 when chargen is off or TCP is not served. */
  readonly chargenPort: number;
  /** 0 when there is no UDP source. */
  readonly udpSourcePort: number;
  close(): void;
  ref(): void;
  unref(): void;
  stats(): NativeEndpointStats;
}

/** Link settings inside a network namespace (name under /run/netns or a path; absent: our own). */
export interface NativeLinkRef {
  name: string;
  netns?: string;
}
export interface NativeTapOptions extends NativeLinkRef {
  owner?: number;
  group?: number;
}
/** An AF_UNIX datagram socket bound to a filesystem path; datagrams arrive on a native thread. */
export interface NativeUnixDgramSocket {
  readonly path: string;
  /** Sends one datagram without blocking; throws (code EAGAIN, ENOENT, ECONNREFUSED…) on failure. */
  sendTo(data: Uint8Array, path: string): void;
  /** Stops and joins the receiving thread, closes the socket and unlinks its path. Idempotent. */
  close(): void;
  ref(): void;
  unref(): void;
}

/** The native core's defaults and bounds, in bytes (native/core/probe.h, endpoint.h). */
export interface NativeLimits {
  /** TCP bytes per write when the caller gives no size. */
  tcpWriteDefault: number;
  /** TCP bytes per read when only receiving (reverse) and the caller gives no size. */
  tcpReadDefault: number;
  /** UDP datagram payload when the caller gives no size. */
  udpDatagramDefault: number;
  /** The endpoint's TCP discard read size, smallest and largest. */
  discardReadMin: number;
  discardReadMax: number;
}

export interface NativeAddon {
  clockInfo(): NativeClock;
  readonly limits: NativeLimits;
  /** A failed job's error carries `partial`: the requests measured until then. */
  responseTime(o: NativeResponseOptions, progress?: ProgressFn): NativeJob<NativeResponseResult>;
  throughput(o: NativeThroughputOptions, progress?: ProgressFn): NativeJob<NativeThroughputResult>;
  streaming(o: NativeStreamOptions, progress?: ProgressFn): NativeJob<NativeStreamResult>;
  /** A failed job's error carries `partial`: the transactions measured until then. */
  crr(o: NativeCrrOptions, progress?: ProgressFn): NativeJob<NativeCrrResult>;
  NativeEndpoint: new (o: NativeEndpointOptions) => NativeEndpoint;
  /** Creates a persistent single-queue TAP (IFF_TAP|IFF_NO_PI); EEXIST when the name is taken. */
  tapCreate(o: NativeTapOptions): void;
  /** Deletes a persistent TAP; false when no such link exists. */
  tapDelete(o: NativeLinkRef): boolean;
  linkSetUp(o: NativeLinkRef & { up?: boolean }): void;
  addressSet(o: NativeLinkRef & { address: string; prefix: number }): void;
  bridgeAttach(o: NativeLinkRef & { bridge: string }): void;
  linkExists(o: NativeLinkRef): boolean;
  UnixDgramSocket: new (path: string, onMessage: (data: Buffer, from: string) => void) => NativeUnixDgramSocket;
}

/** The package root: dist/src/native.js → ../.. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const require = createRequire(import.meta.url);
let addon: NativeAddon | undefined;

/** Loads the addon once (prebuilt if present, else build/Release). */
export function native(): NativeAddon {
  if (!addon) {
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    addon = load(packageRoot);
  }
  return addon;
}
