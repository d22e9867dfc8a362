// umlperf endpoint: serve echo and discard until SIGINT/SIGTERM.
import type { Argv, CommandModule } from 'yargs';
import { startEndpoint } from '../../src/endpoint.js';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_ECHO_PORT } from '../../src/probes.js';
import { addressFlag, durationFlag, intFlag, textFlag } from '../args.js';

interface Args {
  bind: string;
  port: number;
  'discard-port'?: number;
  'chargen-port'?: number;
  chargen: boolean;
  'udp-source-port'?: number;
  'udp-source': boolean;
  'source-max'?: number;
  wait: 'block' | 'spin' | 'busy-poll';
  netns?: string;
}

const command: CommandModule<object, Args> = {
  command: 'endpoint',
  describe: 'serve TCP/UDP echo (RFC 862) on --port, discard (RFC 863) on --discard-port and TCP chargen (RFC 864) on --chargen-port until interrupted',
  builder: (y: Argv) =>
    y
      .option('bind', { type: 'string', default: '127.0.0.1', requiresArg: true, coerce: addressFlag('bind'), describe: 'numeric address (0.0.0.0 or :: for all)' })
      .option('port', { type: 'string', default: String(DEFAULT_ECHO_PORT), requiresArg: true, coerce: intFlag('port', 0, 65535), describe: 'echo port (0: any free port)' })
      .option('discard-port', { type: 'string', requiresArg: true, coerce: intFlag('discard-port', 0, 65535), describe: 'discard port (default: port + 1)' })
      .option('chargen-port', { type: 'string', requiresArg: true, coerce: intFlag('chargen-port', 0, 65535), describe: 'TCP chargen port, the source for reverse throughput (default: port + 2)' })
      .option('chargen', { type: 'boolean', default: true, describe: 'serve chargen (--no-chargen: not)' })
      .option('udp-source-port', { type: 'string', requiresArg: true, coerce: intFlag('udp-source-port', 0, 65535), describe: 'TCP control port: the paced UDP source (reverse UDP) and crr transaction sessions are asked for on it (default: port + 3)' })
      .option('udp-source', { type: 'boolean', default: true, describe: 'serve the control port (--no-udp-source: no UDP source and no crr transaction sessions)' })
      .option('source-max', { type: 'string', requiresArg: true, coerce: durationFlag('source-max', 1, 86_400_000), describe: 'close a chargen connection after this long (default 60s)' })
      .option('wait', { choices: ['block', 'spin', 'busy-poll'] as const, default: 'block' as const, requiresArg: true })
      .option('netns', { type: 'string', requiresArg: true, coerce: textFlag('netns'), describe: 'serve inside this network namespace' })
      .check((a) => {
        const port = a.port as number;
        const discard = a['discard-port'] as number | undefined;
        if (discard === undefined && port === 65535) throw new UsageError('--port 65535 leaves no port + 1 for discard: give --discard-port');
        if (discard !== undefined && port !== 0 && discard === port) throw new UsageError('--port and --discard-port must differ');
        if (a.chargen === false && a['chargen-port'] !== undefined) throw new UsageError('--chargen-port goes with chargen (not with --no-chargen)');
        if (a.chargen === false && a['source-max'] !== undefined) throw new UsageError('--source-max goes with chargen (not with --no-chargen)');
        return true;
      })
      .example('$0 endpoint', 'echo on 127.0.0.1:7007, discard on 7008, chargen on 7009')
      .example('$0 endpoint --bind 0.0.0.0 --port 0', 'on every address, on free ports it prints') as unknown as Argv<Args>,
  handler: async (a) => {
    const ep = await startEndpoint({
      bind: a.bind,
      port: a.port,
      discardPort: a['discard-port'],
      chargenPort: a.chargen ? a['chargen-port'] : false,
      udpSourcePort: a['udp-source'] ? a['udp-source-port'] : false,
      sourceMaxMs: a['source-max'] === undefined ? undefined : Math.ceil(a['source-max']),
      wait: a.wait,
      netns: a.netns,
    });
    const chargen =
      (ep.chargenPort ? `, chargen on ${a.bind}:${ep.chargenPort} (TCP)` : '') +
      (ep.udpSourcePort ? `, control (UDP source, transaction sessions) on ${a.bind}:${ep.udpSourcePort} (TCP)` : '');
    process.stdout.write(`umlperf endpoint: echo on ${a.bind}:${ep.echoPort}, discard on ${a.bind}:${ep.discardPort} (TCP and UDP)${chargen}; Ctrl-C stops\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const s = ep.stats();
    await ep.close();
    process.stderr.write(`umlperf endpoint: stopped; ${s.tcpConnections} TCP connections, ${s.transactions} transactions, ${s.udpEchoed} UDP echoes, ${s.discardedBytes} bytes discarded\n`);
  },
};
export default command;
