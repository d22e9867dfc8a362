// umlperf probe response|throughput|stream: parses, calls src/, prints.
import type { Argv, CommandModule } from 'yargs';
import { spawnEndpoint, type EndpointProcess } from '../../src/endpoint.js';
import { isUsageError, UsageError } from '../../src/errors.js';
import { labProbeTarget, targetDownError, type LabResultConfig } from '../../src/lab/lab.js';
import { guestNumber, validateLabName } from '../../src/lab/names.js';
import { labUdpPayload } from '../../src/lab/net-config.js';
import {
  connectionRate,
  type ConnectionRateOptions,
  type ConnectionRateResult,
  DEFAULT_CHARGEN_PORT,
  DEFAULT_CONTROL_PORT,
  DEFAULT_UDP_SOURCE_PORT,
  DEFAULT_DISCARD_PORT,
  DEFAULT_ECHO_PORT,
  MAX_PARALLEL_STREAMS,
  MAX_UDP_PAYLOAD,
  MIN_UDP_REQUEST,
  responseTime,
  streaming,
  throughput,
  type CommonOptions,
  type ResponseTimeResult,
  type StreamingResult,
  type ThroughputIntervalEvent,
  type ThroughputResult,
} from '../../src/probes.js';
import { crrReport, responseReport, rrulReport, streamReport, throughputReport } from '../../src/report/probe.js';
import { latencyUnderLoad, type LatencyUnderLoadResult } from '../../src/rrul.js';
import { meanCi } from '../../src/stats.js';
import { envelope } from '../../src/result/envelope.js';
import type { ProbeRuns } from '../../src/result/schema.js';
import { exitCodeFor, reportError } from '../fail.js';
import { cpuListFlag, durationFlag, formatDuration, intFlag, numFlag, sizeFlag, textFlag, textWith } from '../args.js';
import { interruptible, progressLine } from '../progress.js';

type Kind = 'response' | 'throughput' | 'stream' | 'crr' | 'rrul';
type Result = ResponseTimeResult | ThroughputResult | StreamingResult | ConnectionRateResult | LatencyUnderLoadResult;

interface Args {
  kind: Kind;
  host?: string;
  port?: number;
  protocol: 'tcp' | 'udp';
  size?: number;
  iterations?: number;
  transactions?: number;
  service?: 'transaction' | 'echo';
  'response-size'?: number;
  warmup?: number;
  'request-interval'?: number;
  timeout?: number;
  bytes?: number;
  duration?: number;
  rate?: number;
  'find-max-rate'?: boolean;
  reverse?: boolean;
  bidir?: boolean;
  parallel?: number;
  interval?: number;
  omit?: number;
  'source-port'?: number;
  'loss-threshold'?: number;
  wait: 'block' | 'spin' | 'busy-poll';
  cpu?: number[];
  netns?: string;
  lab?: string;
  target?: string;
  runs: number;
  json?: boolean;
  samples?: boolean;
}

const MIB = 2 ** 20;

const n = (describe: string, coerce: (v: unknown) => unknown) => ({ type: 'string' as const, requiresArg: true, describe, coerce });

function builder(y: Argv): Argv<Args> {
  return y
    .positional('kind', { choices: ['response', 'throughput', 'stream', 'crr', 'rrul'] as const, demandOption: true, describe: 'what to measure' })
    .option('host', { type: 'string', requiresArg: true, coerce: textFlag('host'), describe: 'target host (default: a umlperf-endpoint started on 127.0.0.1 for this run)' })
    .option('port', n(`echo port (response, stream, crr --service echo; default ${DEFAULT_ECHO_PORT}), discard port (throughput; default ${DEFAULT_DISCARD_PORT}), chargen port (throughput --reverse; default ${DEFAULT_CHARGEN_PORT}) or control port (crr; default ${DEFAULT_CONTROL_PORT})`, intFlag('port', 1, 65535)))
    .option('protocol', { choices: ['tcp', 'udp'] as const, default: 'tcp' as const, requiresArg: true })
    .option('size', n('request / write / datagram size, e.g. 64, 1KiB, 64KiB (UDP datagrams against a lab: its MTU - 28)', sizeFlag('size', 1, 16 * MIB)))
    .option('iterations', n('response: requests per run (default 1000)', intFlag('iterations', 1, 100_000_000)))
    .option('transactions', n('crr: connect-request-response-close transactions per run (default 1000)', intFlag('transactions', 1, 10_000_000)))
    .option('service', { choices: ['transaction', 'echo'] as const, requiresArg: true, describe: 'crr: transaction (default): a session of the umlperf endpoint, which closes each connection first, as netperf\'s TCP_CRR server; echo: any TCP echo, and we close first' })
    .option('response-size', n('crr --service transaction: response size, e.g. 1, 16KiB (default: --size)', sizeFlag('response-size', 1, 65536)))
    .option('warmup', n('response: unmeasured requests first (default 100)', intFlag('warmup', 0, 100_000_000)))
    .option('request-interval', n('response: time from one request\'s start to the next, e.g. 100us, 1ms (default 0: back to back)', durationFlag('request-interval', 0, 60_000)))
    .option('timeout', n('response, crr: per-request timeout, e.g. 200ms, 5s (default UDP 200ms, TCP 5s)', durationFlag('timeout', 1, 600_000)))
    .option('bytes', n('throughput: bytes per run, e.g. 100MB, 1G', sizeFlag('bytes', 1, 2 ** 50)))
    .option('duration', n('throughput, stream: length of each run, e.g. 500ms, 2s (default 2s / 1s)', durationFlag('duration', 10, 3_600_000)))
    .option('rate', n('stream, throughput (UDP): target rate in Mbps (0: unpaced); with --reverse/--bidir the rate asked of the UDP source (default 100)', numFlag('rate', 0, 1_000_000, { unit: 'Mbps' })))
    .option('reverse', { type: 'boolean', describe: `throughput: the target sends, we count: TCP from its chargen source (default port ${DEFAULT_CHARGEN_PORT}), UDP from its UDP source (default port ${DEFAULT_UDP_SOURCE_PORT})` })
    .option('bidir', { type: 'boolean', describe: 'throughput (TCP): send to discard and receive from chargen at once' })
    .option('source-port', n('throughput --bidir: the chargen port (default: port + 1)', intFlag('source-port', 1, 65535)))
    .option('parallel', n(`throughput: streams per direction (1..${MAX_PARALLEL_STREAMS}, default 1)`, intFlag('parallel', 1, MAX_PARALLEL_STREAMS)))
    .option('interval', n('throughput: report bytes, Mbps and TCP retransmits per interval (e.g. 1s, 100ms)', durationFlag('interval', 10, 3_600_000)))
    .option('omit', n('throughput (TCP, with --duration): leave out the first part of the run, e.g. 1s (slow start)', durationFlag('omit', 10, 3_600_000)))
    .option('find-max-rate', { type: 'boolean', describe: 'stream, throughput --protocol udp (one way, the receiver counts): search the highest rate with loss under --loss-threshold' })
    .option('loss-threshold', n('stream, throughput --find-max-rate: percent (default 0.1)', numFlag('loss-threshold', 0, 100, { unit: '%' })))
    .option('wait', { choices: ['block', 'spin', 'busy-poll'] as const, default: 'block' as const, requiresArg: true })
    .option('cpu', n('run the probe thread on this CPU, e.g. 1', cpuListFlag('cpu', { one: true })))
    .option('netns', { type: 'string', requiresArg: true, coerce: textFlag('netns'), describe: 'run the probe inside this network namespace' })
    .option('lab', { type: 'string', requiresArg: true, coerce: textWith('lab', validateLabName), describe: 'probe a lab from its client namespace (with --target)' })
    .option('target', { type: 'string', requiresArg: true, coerce: textWith('target', (t) => t === 'host' || guestNumber(t)), describe: 'with --lab: host, or a guest g1, g2, ...' })
    .option('runs', { ...n('repeat the probe', intFlag('runs', 1, 10000)), default: '1' })
    .option('json', { type: 'boolean', describe: 'print the result object(s) as JSON' })
    .option('samples', { type: 'boolean', describe: 'response, crr with --json: include every RTT (the default; --no-samples omits them)' })
    .example('$0 probe response --iterations 10000', 'TCP round trips to an endpoint on 127.0.0.1 (started for the run)')
    .example('$0 probe response --host 198.18.0.11 --protocol udp --timeout 500ms', 'UDP echo round trips to a host\'s echo service')
    .example('$0 probe throughput --duration 5s --parallel 4 --interval 1s', 'bulk TCP for 5 s over 4 streams, a line per second')
    .example('$0 probe throughput --bytes 1G --reverse', 'receive 1 GiB from the chargen source')
    .example('$0 probe stream --rate 100 --duration 2s', 'paced UDP at 100 Mbit/s: loss, jitter, reordering')
    .example('$0 probe crr --lab umlperf --target g1', 'connect-request-response-close rate to guest g1 of a lab')
    .example('$0 probe crr --size 100 --response-size 16KiB', 'connection rate with a small request and a larger response, as HTTP/1.0') as unknown as Argv<Args>;
}

interface Target {
  host: string;
  port?: number;
  discardPort?: number;
  sourcePort?: number;
  netns?: string;
}

/**
 * Interval lines on stderr as a throughput run goes (a terminal only, and not with --json):
 * interval k is printed once every stream has reported it, their figures added up.
 */
function liveIntervals(a: Args): ((e: ThroughputIntervalEvent) => void) | undefined {
  if (a.kind !== 'throughput' || a.interval === undefined || a.json || !process.stderr.isTTY) return undefined;
  const streams = (a.parallel ?? 1) * (a.bidir ? 2 : 1);
  const seen = new Map<number, ThroughputIntervalEvent[]>();
  const count = new Map<number, number>();
  return (e) => {
    const k = count.get(e.stream) ?? 0;
    count.set(e.stream, k + 1);
    const parts = [...(seen.get(k) ?? []), e];
    if (parts.length < streams) return void seen.set(k, parts);
    seen.delete(k);
    const bytes = parts.reduce((x, p) => x + p.bytes, 0);
    const start = Math.min(...parts.map((p) => p.startNs));
    const end = Math.max(...parts.map((p) => p.endNs));
    const retr = parts.some((p) => p.retransmits !== undefined) ? `, ${parts.reduce((x, p) => x + (p.retransmits ?? 0), 0)} retransmits` : '';
    process.stderr.write(`\r\x1b[K${(start / 1e9).toFixed(2)}-${(end / 1e9).toFixed(2)} s: ${((bytes * 8e3) / Math.max(1, end - start)).toFixed(1)} Mbps, ${bytes} bytes${retr}\n`);
  };
}

function probeOnce(a: Args, target: Target, common: Partial<CommonOptions>): Promise<Result> {
  const base = { ...common, host: target.host, port: a.port ?? target.port, protocol: a.protocol, wait: a.wait, cpu: a.cpu?.[0], netns: target.netns };
  const durationS = a.duration === undefined ? undefined : a.duration / 1000;
  switch (a.kind) {
    case 'response':
      return responseTime({ ...base, size: a.size, iterations: a.iterations, warmup: a.warmup, intervalUs: a['request-interval'] === undefined ? undefined : a['request-interval'] * 1000, timeoutMs: a.timeout, keepSamples: a.samples ?? true });
    case 'throughput':
      return throughput({
        ...base,
        sourcePort: a['source-port'] ?? target.sourcePort,
        size: a.size,
        bytes: a.bytes,
        durationS: durationS ?? (a.bytes === undefined ? 2 : undefined),
        reverse: a.reverse,
        bidir: a.bidir,
        parallel: a.parallel,
        intervalMs: a.interval,
        omitMs: a.omit,
        onInterval: liveIntervals(a),
        ...(a.rate !== undefined ? { rateMbps: a.rate } : {}),
        ...(a['find-max-rate'] ? { findMaxRate: true, lossThresholdPercent: a['loss-threshold'] } : {}),
      });
    case 'rrul':
      return latencyUnderLoad({
        host: target.host,
        echoPort: a.port ?? target.port,
        discardPort: target.discardPort,
        sourcePort: target.sourcePort,
        streams: a.parallel,
        durationS: a.duration === undefined ? undefined : a.duration / 1000,
        size: a.size,
        intervalMs: a['request-interval'],
        wait: a.wait,
        netns: target.netns,
        signal: common.signal,
        onProgress: common.onProgress,
      });
    case 'crr':
      return connectionRate({ ...base, protocol: undefined, service: a.service, size: a.size, responseSize: a['response-size'], transactions: a.transactions, warmup: a.warmup, timeoutMs: a.timeout, keepSamples: a.samples ?? true } as ConnectionRateOptions);
    case 'stream':
      return streaming({ ...base, size: a.size, rateMbps: a.rate, durationS, findMaxRate: a['find-max-rate'], lossThresholdPercent: a['loss-threshold'] });
  }
}

function render(kind: Kind, runs: Result[]): string {
  if (kind === 'response') return responseReport(runs as ResponseTimeResult[]);
  if (kind === 'throughput') return throughputReport(runs as ThroughputResult[]);
  if (kind === 'crr') return crrReport(runs as ConnectionRateResult[]);
  if (kind === 'rrul') return rrulReport(runs as LatencyUnderLoadResult[]);
  return streamReport(runs as StreamingResult[]);
}

/** One shape with one run or many: every run as the library returns it, and their summary. */
function jsonOf(kind: Kind, runs: Result[], asked: number): ProbeRuns {
  const over = <R,>(f: (r: R) => number) => meanCi((runs as R[]).map(f));
  const summary: ProbeRuns['summary'] =
    kind === 'response'
      ? { p50Ns: over((r: ResponseTimeResult) => r.latency.p50Ns), p99Ns: over((r: ResponseTimeResult) => r.latency.p99Ns), meanNs: over((r: ResponseTimeResult) => r.latency.meanNs) }
      : kind === 'crr'
        ? { transactionsPerSecond: over((r: ConnectionRateResult) => r.transactionsPerSecond), p50Ns: over((r: ConnectionRateResult) => r.latency.p50Ns) }
        : kind === 'throughput'
          ? { Mbps: over((r: ThroughputResult) => r.Mbps) }
          : kind === 'rrul'
            ? { tcpLoadedP50Ns: over((r: LatencyUnderLoadResult) => r.tcp.loaded.latency.p50Ns), udpLoadedP50Ns: over((r: LatencyUnderLoadResult) => r.udp.loaded.latency.p50Ns), bulkMbps: over((r: LatencyUnderLoadResult) => r.bulk.Mbps) }
            : { receivedMbps: over((r: StreamingResult) => r.receivedMbps), lossPercent: over((r: StreamingResult) => r.lossPercent) };
  return {
    ...envelope('probe', runs[0].startedAt),
    probe: kind,
    config: { runs: asked, completed: runs.length, interrupted: runs.length < asked },
    clock: runs[0].clock,
    runs: runs as ProbeRuns['runs'],
    summary,
  };
}

// Which flags each kind reads: a flag another kind reads is a mistake, not something to ignore.
const KIND_FLAGS: Partial<Record<keyof Args, Kind[]>> = {
  iterations: ['response'],
  'request-interval': ['response', 'rrul'],
  warmup: ['response', 'crr'],
  timeout: ['response', 'crr'],
  samples: ['response', 'crr'],
  transactions: ['crr'],
  service: ['crr'],
  'response-size': ['crr'],
  bytes: ['throughput'],
  reverse: ['throughput'],
  bidir: ['throughput'],
  'source-port': ['throughput'],
  parallel: ['throughput', 'rrul'],
  interval: ['throughput'],
  omit: ['throughput'],
  duration: ['throughput', 'stream', 'rrul'],
  rate: ['stream', 'throughput'],
  'find-max-rate': ['stream', 'throughput'],
  'loss-threshold': ['stream', 'throughput'],
};

function checkKindFlags(a: Args): void {
  for (const [flag, kinds] of Object.entries(KIND_FLAGS) as [keyof Args, Kind[]][]) {
    if (a[flag] === undefined || kinds.includes(a.kind)) continue;
    throw new UsageError(`--${flag} applies to probe ${kinds.join(' and ')} only`);
  }
  if (a.kind === 'crr' && process.argv.includes('--protocol') && a.protocol !== 'tcp') throw new UsageError('crr is TCP only');
  if (a.bytes !== undefined && a.duration !== undefined) throw new UsageError('give --bytes or --duration, not both');
  if (a.reverse && a.bidir) throw new UsageError('give --reverse or --bidir, not both');
  if (a.kind === 'throughput' && a.rate !== undefined && a.protocol !== 'udp') throw new UsageError('--rate applies to UDP throughput only');
  if (a.kind === 'throughput' && a['find-max-rate'] && a.protocol !== 'udp') throw new UsageError('--find-max-rate applies to UDP throughput only (TCP goes as fast as the path allows)');
  if (a['loss-threshold'] !== undefined && !a['find-max-rate']) throw new UsageError('--loss-threshold goes with --find-max-rate');
  if (a.kind === 'throughput' && a['find-max-rate']) {
    const not = [a.reverse && '--reverse', a.bidir && '--bidir', a.parallel !== undefined && a.parallel !== 1 && '--parallel', a.bytes !== undefined && '--bytes', a.interval !== undefined && '--interval'].filter(Boolean);
    if (not.length) throw new UsageError(`--find-max-rate searches the rate of one stream we send, for --duration: not with ${not.join(', ')}`);
  }
  if (a['source-port'] !== undefined && !a.bidir) throw new UsageError('--source-port goes with --bidir (with --reverse, --port is the source)');
  const udp = a.kind === 'stream' || a.protocol === 'udp';
  if (a.size !== undefined && udp && a.size > MAX_UDP_PAYLOAD) throw new UsageError(`--size: a UDP datagram carries at most ${MAX_UDP_PAYLOAD} bytes (got ${a.size})`);
  if (a.size !== undefined && a.kind === 'stream' && a.size < 24) throw new UsageError(`--size: stream datagrams carry a 24-byte header, so at least 24 bytes (got ${a.size})`);
  if (a['response-size'] !== undefined && a.service === 'echo') throw new UsageError('--response-size goes with --service transaction (an echo answers --size)');
  if (a.size !== undefined && a.kind === 'crr' && a.size > 65536) throw new UsageError(`--size: crr requests are at most 65536 bytes (got ${a.size})`);
  if (a.size !== undefined && a.kind === 'response' && a.size > 1 << 20) throw new UsageError(`--size: response requests are at most ${1 << 20} bytes (got ${a.size})`);
  if (a.size !== undefined && a.kind === 'response' && udp && a.size < MIN_UDP_REQUEST) throw new UsageError(`--size: a UDP request carries its sequence number, so at least ${MIN_UDP_REQUEST} bytes (got ${a.size})`);
  if (a.samples !== undefined && !a.json) throw new UsageError('--samples goes with --json (the table shows no samples)');
  if (a.omit !== undefined) {
    if (a.protocol === 'udp') throw new UsageError('--omit is TCP only (a UDP receiver counts the whole run)');
    if (a.duration === undefined) throw new UsageError('--omit goes with --duration (not --bytes)');
    if (a.omit >= a.duration) throw new UsageError(`--omit (${formatDuration(a.omit)}) must be shorter than --duration (${formatDuration(a.duration)})`);
    if (a.interval !== undefined && Math.abs(a.omit / a.interval - Math.round(a.omit / a.interval)) > 1e-9)
      throw new UsageError(`--omit (${formatDuration(a.omit)}) must be a whole number of --interval (${formatDuration(a.interval)})`);
  }
}

// What the library calls an option, and the flag a user typed for it: a library message that
// reaches the CLI names the flag.
const FLAG_OF: Record<string, string> = {
  durationS: '--duration', timeoutMs: '--timeout', intervalUs: '--request-interval', intervalMs: '--interval', omitMs: '--omit',
  sourcePort: '--source-port', rateMbps: '--rate', lossThresholdPercent: '--loss-threshold', findMaxRate: '--find-max-rate', keepSamples: '--samples', responseSize: '--response-size',
};

/** A library UsageError in the CLI's words. */
export function inFlagWords(e: unknown): unknown {
  if (!isUsageError(e)) return e;
  const err = e as Error;
  const message = err.message.replace(/\b(durationS|timeoutMs|intervalUs|intervalMs|omitMs|sourcePort|rateMbps|lossThresholdPercent|findMaxRate|keepSamples|responseSize)\b/g, (w) => FLAG_OF[w]);
  if (message === err.message) return e;
  err.message = message;
  return err;
}

async function handler(a: Args): Promise<void> {
  checkKindFlags(a);
  if (a.kind === 'stream' && a.protocol === 'tcp' && process.argv.includes('--protocol')) throw new UsageError('stream is UDP only');
  let local: EndpointProcess | undefined;
  const runs: Result[] = [];
  let failure: unknown;
  let labConfig: LabResultConfig | undefined;
  try {
    let target: Target;
    if (a.lab !== undefined || a.target !== undefined) {
      if (a.lab === undefined || a.target === undefined) throw new UsageError('--lab and --target go together');
      if (a.host !== undefined || a.netns !== undefined) throw new UsageError('--lab/--target replace --host and --netns');
      const lt = labProbeTarget(a.lab, a.target);
      target = lt.target;
      labConfig = lt.config;
      const udpData = (a.kind === 'throughput' && a.protocol === 'udp') || a.kind === 'stream';
      if (udpData && a.size === undefined) a.size = labUdpPayload(lt.mtu);
    } else if (a.host === undefined) {
      if (a.port !== undefined || a.netns !== undefined) throw new UsageError('--port and --netns need --host');
      // A separate process, as a real target would be (an endpoint thread inside this process
      // shares its scheduling and reads slower). It exits with us, however we end.
      local = await spawnEndpoint({ bind: '127.0.0.1', port: 0, exitWithParent: true });
      target =
        a.kind === 'rrul'
          ? { host: '127.0.0.1', port: local.echoPort, discardPort: local.discardPort, sourcePort: local.chargenPort }
          : a.kind === 'crr' && a.service !== 'echo'
          ? { host: '127.0.0.1', port: local.udpSourcePort }
          : a.kind !== 'throughput'
          ? { host: '127.0.0.1', port: local.echoPort }
          : a.reverse
            ? { host: '127.0.0.1', port: a.protocol === 'udp' ? local.udpSourcePort : local.chargenPort }
            : { host: '127.0.0.1', port: local.discardPort, sourcePort: a.bidir ? (a.protocol === 'udp' ? local.udpSourcePort : local.chargenPort) : undefined };
    } else {
      target = { host: a.host, netns: a.netns };
    }
    await interruptible(async (signal) => {
      for (let i = 0; i < a.runs; i++) {
        const bar = progressLine(a.runs > 1 ? `run ${i + 1}/${a.runs}` : a.kind);
        try {
          runs.push(await probeOnce(a, target, { signal, onProgress: (p) => bar.update(p.total ? p.done / p.total : 0) }));
        } finally {
          bar.done();
        }
      }
    });
  } catch (e) {
    // A probe of a lab guest that died says so, with its log, rather than "connection refused".
    failure = (labConfig && exitCodeFor(e) === 1 && targetDownError(a.lab!, a.target!)) || inFlagWords(e);
  } finally {
    await local?.close();
  }
  // What was measured before a failure or an interrupt is still printed.
  // Against a lab: the lab, target and network configuration go in every result's config.
  if (labConfig) for (const r of runs) Object.assign(r.config, labConfig);
  if (runs.length > 0) print(a, runs);
  if (failure !== undefined) {
    if (exitCodeFor(failure) === 130 && runs.length > 0) process.stderr.write(`umlperf: interrupted after ${runs.length} of ${a.runs} runs\n`);
    reportError(failure);
  }
}

function print(a: Args, runs: Result[]): void {
  process.stdout.write(a.json ? `${JSON.stringify(jsonOf(a.kind, runs, a.runs), null, 2)}\n` : `${render(a.kind, runs)}\n`);
}

const command: CommandModule<object, Args> = {
  command: 'probe <kind>',
  describe: 'measure response time, throughput (either way, parallel), UDP streaming or connection rate (crr) against an echo/discard/chargen service',
  builder,
  handler,
};
export default command;
