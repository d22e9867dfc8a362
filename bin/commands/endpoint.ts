// umlperf endpoint: serve echo and discard until SIGINT/SIGTERM.
import type { Argv, CommandModule } from 'yargs';
import { startEndpoint } from '../../src/endpoint.js';
import { DEFAULT_ECHO_PORT } from '../../src/probes.js';

interface Args {
  bind: string;
  port: number;
  'discard-port'?: number;
  wait: 'block' | 'spin' | 'busy-poll';
  netns?: string;
}

const command: CommandModule<object, Args> = {
  command: 'endpoint',
  describe: 'serve TCP/UDP echo (RFC 862) on --port and discard (RFC 863) on --discard-port until interrupted',
  builder: (y: Argv) =>
    y
      .option('bind', { type: 'string', default: '127.0.0.1', describe: 'numeric address (0.0.0.0 or :: for all)' })
      .option('port', { type: 'number', default: DEFAULT_ECHO_PORT, describe: 'echo port (0: any free port)' })
      .option('discard-port', { type: 'number', describe: 'discard port (default: port + 1)' })
      .option('wait', { choices: ['block', 'spin', 'busy-poll'] as const, default: 'block' as const })
      .option('netns', { type: 'string', describe: 'serve inside this network namespace' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const ep = await startEndpoint({ bind: a.bind, port: a.port, discardPort: a['discard-port'], wait: a.wait, netns: a.netns });
    process.stdout.write(`umlperf endpoint: echo on ${a.bind}:${ep.echoPort}, discard on ${a.bind}:${ep.discardPort} (TCP and UDP); Ctrl-C stops\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    const s = ep.stats();
    await ep.close();
    process.stderr.write(`umlperf endpoint: stopped; ${s.tcpConnections} TCP connections, ${s.udpEchoed} UDP echoes, ${s.discardedBytes} bytes discarded\n`);
  },
};
export default command;
