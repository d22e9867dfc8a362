// umlperf probe response|throughput|stream: parses, calls src/, prints.
import type { Argv, CommandModule } from 'yargs';
import { spawnEndpoint, type EndpointProcess } from '../../src/endpoint.js';
import { UsageError } from '../../src/errors.js';
import { resolveLabTarget, targetDownError } from '../../src/lab/lab.js';
import {
  DEFAULT_DISCARD_PORT,
  DEFAULT_ECHO_PORT,
  responseTime,
  streaming,
  throughput,
  type CommonOptions,
  type ResponseTimeResult,
  type StreamingResult,
  type ThroughputResult,
} from '../../src/probes.js';
import { responseReport, streamReport, throughputReport } from '../../src/report/probe.js';
import { meanCi } from '../../src/stats.js';
import { exitCodeFor, reportError } from '../fail.js';
import { interruptible, progressLine } from '../progress.js';

type Kind = 'response' | 'throughput' | 'stream';
type Result = ResponseTimeResult | ThroughputResult | StreamingResult;

interface Args {
  kind: Kind;
  host?: string;
  port?: number;
  protocol: 'tcp' | 'udp';
  size?: number;
  iterations?: number;
  warmup?: number;
  'interval-us'?: number;
  'timeout-ms'?: number;
  bytes?: number;
  duration?: number;
  rate?: number;
  'find-max-rate'?: boolean;
  'loss-threshold'?: number;
  wait: 'block' | 'spin' | 'busy-poll';
  cpu?: number;
  netns?: string;
  lab?: string;
  target?: string;
  runs: number;
  json?: boolean;
  samples?: boolean;
}

function builder(y: Argv): Argv<Args> {
  return y
    .positional('kind', { choices: ['response', 'throughput', 'stream'] as const, demandOption: true, describe: 'what to measure' })
    .option('host', { type: 'string', describe: 'target host (default: a umlperf-endpoint started on 127.0.0.1 for this run)' })
    .option('port', { type: 'number', describe: `echo port (response, stream; default ${DEFAULT_ECHO_PORT}) or discard port (throughput; default ${DEFAULT_DISCARD_PORT})` })
    .option('protocol', { choices: ['tcp', 'udp'] as const, default: 'tcp' as const })
    .option('size', { type: 'number', describe: 'request / write / datagram size in bytes' })
    .option('iterations', { type: 'number', describe: 'response: requests per run (default 1000)' })
    .option('warmup', { type: 'number', describe: 'response: unmeasured requests first (default 100)' })
    .option('interval-us', { type: 'number', describe: 'response: gap between request starts' })
    .option('timeout-ms', { type: 'number', describe: 'response: per-request timeout (UDP default 200, TCP 5000)' })
    .option('bytes', { type: 'number', describe: 'throughput: bytes per run' })
    .option('duration', { type: 'number', describe: 'throughput, stream: seconds per run (default 2 / 1)' })
    .option('rate', { type: 'number', describe: 'stream: target rate in Mbps (0: unpaced)' })
    .option('find-max-rate', { type: 'boolean', describe: 'stream: search the highest rate with loss under --loss-threshold' })
    .option('loss-threshold', { type: 'number', describe: 'stream: percent (default 0.1)' })
    .option('wait', { choices: ['block', 'spin', 'busy-poll'] as const, default: 'block' as const })
    .option('cpu', { type: 'number', describe: 'pin the probe thread to this CPU' })
    .option('netns', { type: 'string', describe: 'run the probe inside this network namespace' })
    .option('lab', { type: 'string', describe: 'probe a lab from its client namespace (with --target)' })
    .option('target', { type: 'string', describe: 'with --lab: host, or a guest g1, g2, ...' })
    .option('runs', { type: 'number', default: 1, describe: 'repeat the probe' })
    .option('json', { type: 'boolean', describe: 'print the result object(s) as JSON' })
    .option('samples', { type: 'boolean', default: true, describe: 'response --json: include every RTT (--no-samples to omit)' }) as unknown as Argv<Args>;
}

interface Target {
  host: string;
  port?: number;
  netns?: string;
}

function probeOnce(a: Args, target: Target, common: Partial<CommonOptions>): Promise<Result> {
  const base = { ...common, host: target.host, port: a.port ?? target.port, protocol: a.protocol, wait: a.wait, cpu: a.cpu, netns: target.netns };
  switch (a.kind) {
    case 'response':
      return responseTime({ ...base, size: a.size, iterations: a.iterations, warmup: a.warmup, intervalUs: a['interval-us'], timeoutMs: a['timeout-ms'], keepSamples: a.samples });
    case 'throughput':
      return throughput({ ...base, size: a.size, bytes: a.bytes, durationS: a.duration ?? (a.bytes === undefined ? 2 : undefined) });
    case 'stream':
      return streaming({ ...base, size: a.size, rateMbps: a.rate, durationS: a.duration, findMaxRate: a['find-max-rate'], lossThresholdPercent: a['loss-threshold'] });
  }
}

function render(kind: Kind, runs: Result[]): string {
  if (kind === 'response') return responseReport(runs as ResponseTimeResult[]);
  if (kind === 'throughput') return throughputReport(runs as ThroughputResult[]);
  return streamReport(runs as StreamingResult[]);
}

function jsonOf(kind: Kind, runs: Result[]): unknown {
  if (runs.length === 1) return runs[0];
  const summary =
    kind === 'response'
      ? { p50Ns: meanCi((runs as ResponseTimeResult[]).map((r) => r.stats.p50Ns)), meanNs: meanCi((runs as ResponseTimeResult[]).map((r) => r.stats.meanNs)) }
      : kind === 'throughput'
        ? { throughputMbps: meanCi((runs as ThroughputResult[]).map((r) => r.throughputMbps)) }
        : { receivedMbps: meanCi((runs as StreamingResult[]).map((r) => r.receivedMbps)), lossPercent: meanCi((runs as StreamingResult[]).map((r) => r.lossPercent)) };
  return { runs, summary };
}

async function handler(a: Args): Promise<void> {
  if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 10000) throw new UsageError(`--runs must be an integer from 1 to 10000 (got ${a.runs})`);
  if (a.kind !== 'stream' && (a.rate !== undefined || a['find-max-rate'])) throw new UsageError('--rate and --find-max-rate apply to stream only');
  if (a.kind === 'stream' && a.protocol === 'tcp' && process.argv.includes('--protocol')) throw new UsageError('stream is UDP only');
  let local: EndpointProcess | undefined;
  const runs: Result[] = [];
  let failure: unknown;
  let labResolved = false;
  try {
    let target: Target;
    if (a.lab !== undefined || a.target !== undefined) {
      if (a.lab === undefined || a.target === undefined) throw new UsageError('--lab and --target go together');
      if (a.host !== undefined || a.netns !== undefined) throw new UsageError('--lab/--target replace --host and --netns');
      target = resolveLabTarget(a.lab, a.target);
      labResolved = true;
    } else if (a.host === undefined) {
      if (a.port !== undefined || a.netns !== undefined) throw new UsageError('--port and --netns need --host');
      // A separate process, as a real target would be (an endpoint thread inside this process
      // shares its scheduling and reads slower). It exits with us, however we end.
      local = await spawnEndpoint({ bind: '127.0.0.1', port: 0, exitWithParent: true });
      target = { host: '127.0.0.1', port: a.kind === 'throughput' ? local.discardPort : local.echoPort };
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
    failure = (labResolved && exitCodeFor(e) === 1 && targetDownError(a.lab!, a.target!)) || e;
  } finally {
    await local?.close();
  }
  // What was measured before a failure or an interrupt is still printed.
  if (runs.length > 0) print(a, runs);
  if (failure !== undefined) {
    if (exitCodeFor(failure) === 130 && runs.length > 0) process.stderr.write(`umlperf: interrupted after ${runs.length} of ${a.runs} runs\n`);
    reportError(failure);
  }
}

function print(a: Args, runs: Result[]): void {
  process.stdout.write(a.json ? `${JSON.stringify(jsonOf(a.kind, runs), null, 2)}\n` : `${render(a.kind, runs)}\n`);
}

const command: CommandModule<object, Args> = {
  command: 'probe <kind>',
  describe: 'measure response time, throughput or UDP streaming against an echo/discard service',
  builder,
  handler,
};
export default command;
