// umlperf serve-bench dns|www|mail --lab L --target host|gN: server-level latency and rate.
import type { Argv, CommandModule } from 'yargs';
import { BENCH_SERVERS, benchTarget, formatServeBench, serveBench, type BenchServer } from '../../src/servers/bench.js';
import { guestNumber, validateLabName } from '../../src/lab/names.js';
import { intFlag, numFlag, textWith } from '../args.js';
import { interruptible } from '../progress.js';

interface Args {
  server: BenchServer;
  lab: string;
  target: string;
  requests?: number;
  concurrency: number;
  duration: number;
  timeout: number;
  json: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'serve-bench <server>',
  describe: 'benchmark a server of a lab from its client namespace: DNS queries, HTTP GETs, SMTP transactions',
  builder: (y: Argv) =>
    y
      .positional('server', { choices: BENCH_SERVERS, describe: 'dns (BIND named: UDP queries), www (apache2: HTTP GETs), mail (postfix: SMTP transactions)' })
      .option('lab', { type: 'string', default: 'umlperf', requiresArg: true, coerce: textWith('lab', validateLabName), describe: 'the lab (see umlperf lab up)' })
      .option('target', { type: 'string', default: 'host', requiresArg: true, coerce: textWith('target', (t) => t === 'host' || guestNumber(t)), describe: 'host or gN' })
      .option('requests', { type: 'string', requiresArg: true, coerce: intFlag('requests', 1, 1_000_000), describe: 'requests to measure (default dns 2000, http 1000, smtp 200)' })
      .option('concurrency', { type: 'string', default: '1', requiresArg: true, coerce: intFlag('concurrency', 1, 256), describe: 'requests in flight' })
      .option('duration', { type: 'string', default: '60', requiresArg: true, coerce: numFlag('duration', 0, 600, { above: true, unit: 's' }), describe: 'stop after this many seconds at most' })
      .option('timeout', { type: 'string', default: '2000', requiresArg: true, coerce: numFlag('timeout', 0, 60_000, { above: true, unit: 'ms' }), describe: 'per-request timeout, ms' })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args>,
  handler: async (a) => {
    const { netns, addr } = benchTarget(a.lab, a.target);
    const r = await interruptible((signal) => serveBench({
      server: a.server, netns, addr, target: a.target, requests: a.requests, concurrency: a.concurrency,
      maxDurationS: a.duration, timeoutMs: a.timeout, signal,
    }));
    if (a.json) {
      process.stdout.write(JSON.stringify(r) + '\n');
      return;
    }
    process.stdout.write(formatServeBench(r));
  },
};
export default command;
