// umlperf isolate: experiment 4 alone, a buggy guest and its neighbours (Table 6).
import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';

import { UmlperfError, UsageError } from '../../src/errors.js';
import { debianImage } from '../../src/images/debian.js';
import { FAULTS, parseFaults, type FaultName } from '../../src/isolate/faults.js';
import { checkIsolateOptions, isolate } from '../../src/isolate/run.js';
import { parseLimits, type GuestLimits } from '../../src/lab/limits.js';
import { renderIsolate, type IsolateFormat } from '../../src/report/isolate.js';
import { validateLabName } from '../../src/lab/names.js';
import { parseServers } from '../../src/servers/start.js';
import { intFlag, outFileFlag, textWith } from '../args.js';
import { interruptible, progressSink } from '../progress.js';

interface Args {
  faults: FaultName[];
  limit?: GuestLimits;
  window: number;
  image: 'minimal' | 'debian';
  servers?: string;
  format: IsolateFormat;
  json: boolean;
  out?: string;
  lab?: string;
}

const command: CommandModule<object, Args> = {
  command: 'isolate',
  describe: 'experiment 4: faults in one guest (cpu, fork, memory, disk, flood, panic, crash) and what its neighbours see',
  builder: (y: Argv) =>
    y
      .option('faults', { type: 'string', default: 'all', requiresArg: true, coerce: (v: unknown) => parseFaults(String(v)), describe: `faults, in this order: ${FAULTS.join(',')} (or all)` })
      .option('limit', { type: 'string', requiresArg: true, coerce: (v: unknown) => (v === undefined ? undefined : parseLimits(String(v))), describe: 'a second pass with host-side limits per guest, e.g. cpu=50%,mem=256M,io=20M,pids=512' })
      .option('window', { type: 'string', default: '10', requiresArg: true, coerce: intFlag('window', 1, 300), describe: 'seconds each fault lasts' })
      .option('image', { choices: ['minimal', 'debian'] as const, default: 'minimal' as const, requiresArg: true, describe: 'guest image' })
      .option('servers', { type: 'string', requiresArg: true, coerce: textWith('servers', parseServers), describe: 'servers on every guest and the host side (needs --image debian): crash kills one, neighbours are benched through one' })
      .option('format', { choices: ['table', 'json', 'csv', 'md', 'html'] as const, default: 'table' as const, requiresArg: true, describe: 'the report printed on stdout' })
      .option('json', { type: 'boolean', default: false, describe: 'the same as --format json' })
      .option('out', { type: 'string', requiresArg: true, coerce: outFileFlag('out'), describe: 'save the result as JSON in this file' })
      .option('lab', { type: 'string', requiresArg: true, coerce: textWith('lab', validateLabName), describe: 'name of the lab it makes (default iso + random; gone when it ends)' })
      .example('$0 isolate', 'every fault, Table 6 on the terminal (about 3 minutes)')
      .example('$0 isolate --faults cpu,fork --limit cpu=50%,pids=256', 'two faults, without and with limits, and what the limits contain') as unknown as Argv<Args>,
  handler: async (a) => {
    const servers = parseServers(a.servers);
    if (servers.length && a.image !== 'debian') throw new UsageError('isolate: --servers needs --image debian');
    const opts = { faults: a.faults, windowS: a.window, limits: a.limit, servers, name: a.lab };
    // Usage errors before an image is built or a lab made (the Debian image stands in as a name).
    checkIsolateOptions({ ...opts, image: a.image === 'debian' ? { name: 'debian', base: '', root: '', built: false, buildMs: 0 } : 'minimal' });
    const progress = progressSink('umlperf isolate', 5000);
    const image = a.image === 'debian' ? await debianImage({ progress: (l) => progress.line(l) }) : 'minimal';
    const result = await interruptible((signal) => isolate({ ...opts, image, signal, progress: (l) => progress.line(l) }));
    progress.done();
    if (a.out) {
      try {
        writeFileSync(a.out, renderIsolate(result, 'json'));
      } catch (e) {
        throw new UmlperfError('ERR_UMLPERF_WRITE', `cannot write ${a.out}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    process.stdout.write(renderIsolate(result, a.json ? 'json' : a.format));
  },
};
export default command;
