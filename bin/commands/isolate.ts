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
import type { ServerName } from '../../src/servers/start.js';
import { durationFlag, outFileFlag, serverListFlag, textWith } from '../args.js';

/** A fault window: 1s to 5m, in whole seconds (a fault script counts seconds); returns ms. */
function windowFlag(v: unknown): number | undefined {
  const ms = durationFlag('window', 1000, 300_000)(v);
  if (ms !== undefined && ms % 1000 !== 0) throw new UsageError(`--window is a whole number of seconds, e.g. 10s (got ${JSON.stringify(v)})`);
  return ms;
}
import { interruptible, progressSink } from '../progress.js';

interface Args {
  faults: FaultName[];
  limit?: GuestLimits;
  window: number;
  image: 'minimal' | 'debian';
  servers?: ServerName[];
  format?: IsolateFormat;
  json?: boolean;
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
      .option('window', { type: 'string', default: '10s', requiresArg: true, coerce: windowFlag, describe: 'how long each fault lasts, in whole seconds, e.g. 30s or 1m' })
      .option('image', { choices: ['minimal', 'debian'] as const, default: 'minimal' as const, requiresArg: true, describe: 'guest image' })
      .option('servers', { type: 'string', requiresArg: true, coerce: serverListFlag('servers'), describe: 'servers on every guest and the host side, of dns, www, mail (needs --image debian): crash kills one, neighbours are benched through one' })
      .option('format', { choices: ['table', 'json', 'csv', 'md', 'html'] as const, requiresArg: true, describe: 'the report printed on stdout (default table)' })
      .option('json', { type: 'boolean', describe: 'the same as --format json' })
      .option('out', { type: 'string', requiresArg: true, coerce: outFileFlag('out'), describe: 'save the result as JSON in this file' })
      .option('lab', { type: 'string', requiresArg: true, coerce: textWith('lab', validateLabName), describe: 'name of the lab it makes (default iso + random; gone when it ends)' })
      .example('$0 isolate', 'every fault, Table 6 on the terminal (about 3 minutes)')
      .example('$0 isolate --faults cpu,fork --limit cpu=50%,pids=256', 'two faults, without and with limits, and what the limits contain')
      .example('$0 isolate --image debian --servers dns,www --faults crash --window 20s', 'kill a guest\'s server; its neighbours are benched through theirs') as unknown as Argv<Args>,
  handler: async (a) => {
    if (a.json !== undefined && a.format !== undefined) throw new UsageError('give --json or --format, not both');
    const format: IsolateFormat = a.json ? 'json' : a.format ?? 'table';
    const servers = a.servers ?? [];
    if (servers.length && a.image !== 'debian') throw new UsageError('isolate: --servers needs --image debian');
    const opts = { faults: a.faults, windowS: a.window / 1000, limits: a.limit, servers, name: a.lab };
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
    process.stdout.write(renderIsolate(result, format));
  },
};
export default command;
