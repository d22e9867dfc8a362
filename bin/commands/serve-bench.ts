// umlperf serve-bench dns|www|mail --lab L --target host|gN: server-level latency and rate.
import type { Argv, CommandModule } from 'yargs';
import { BENCH_SERVERS, benchTarget, formatServeBench, serveBench, type BenchServer } from '../../src/servers/bench.js';
import { DEFAULT_LAB, guestNumber, validateLabName } from '../../src/lab/names.js';
import { serverWithDaemon } from '../../src/servers/start.js';
import { durationFlag, intFlag, textWith } from '../args.js';
import { interruptible } from '../progress.js';

/** What the client speaks to each server (for the help text). */
const SPOKEN: Record<BenchServer, string> = { dns: 'UDP queries', www: 'HTTP GETs', mail: 'SMTP transactions' };

interface Args {
  server: BenchServer;
  lab: string;
  target: string;
  requests?: number;
  concurrency: number;
  'max-duration'?: number;
  timeout?: number;
  json: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'serve-bench <server>',
  describe: 'benchmark a server of a lab from its client namespace: DNS queries, HTTP GETs, SMTP transactions',
  builder: (y: Argv) =>
    y
      .positional('server', { choices: BENCH_SERVERS, describe: `the server: ${BENCH_SERVERS.map((s) => `${serverWithDaemon(s)} (${SPOKEN[s]})`).join('; ')}` })
      .option('lab', { type: 'string', default: DEFAULT_LAB, requiresArg: true, coerce: textWith('lab', validateLabName), describe: 'the lab (see umlperf lab up)' })
      .option('target', { type: 'string', default: 'host', requiresArg: true, coerce: textWith('target', (t) => t === 'host' || guestNumber(t)), describe: 'host or gN' })
      .option('requests', { type: 'string', requiresArg: true, coerce: intFlag('requests', 1, 1_000_000), describe: 'requests to measure (default dns 2000, www 1000, mail 200)' })
      .option('concurrency', { type: 'string', default: '1', requiresArg: true, coerce: intFlag('concurrency', 1, 256), describe: 'requests in flight' })
      .option('max-duration', { type: 'string', requiresArg: true, coerce: durationFlag('max-duration', 1, 600_000), describe: 'a cap: stop after this long even if requests remain, e.g. 30s (default 60s)' })
      .option('timeout', { type: 'string', requiresArg: true, coerce: durationFlag('timeout', 1, 60_000), describe: 'per-request timeout, e.g. 500ms (default 2s)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 serve-bench dns --lab web --target g1', 'DNS query latency and rate of BIND in guest g1')
      .example('$0 serve-bench www --concurrency 8 --max-duration 30s', 'HTTP GETs to Apache on the host side, 8 in flight') as unknown as Argv<Args>,
  handler: async (a) => {
    const { netns, addr } = benchTarget(a.lab, a.target);
    const r = await interruptible((signal) => serveBench({
      server: a.server, netns, addr, target: a.target, requests: a.requests, concurrency: a.concurrency,
      maxDurationS: a['max-duration'] === undefined ? undefined : a['max-duration'] / 1000, timeoutMs: a.timeout, signal,
    }));
    if (a.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    process.stdout.write(formatServeBench(r));
  },
};
export default command;
