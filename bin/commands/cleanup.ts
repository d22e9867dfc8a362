// umlperf cleanup [--lab L | --all]: remove a lab's guests, processes, links, namespaces,
// cgroups and files, after any crash, from its state file or, when that is lost, from its
// names. Idempotent.
import { asResult } from '../../src/result/envelope.js';
import type { Argv, CommandModule } from 'yargs';

import { UsageError } from '../../src/errors.js';
import { DEFAULT_LAB, validateLabName } from '../../src/lab/names.js';
import { teardownAll, teardownLab, type TeardownReport } from '../../src/lab/teardown.js';

interface Args {
  lab?: string;
  all: boolean;
  json: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'cleanup',
  describe: 'remove everything a lab made (after a crash too): guests, endpoint, links, namespaces, files',
  builder: (y: Argv) =>
    y
      .option('lab', { type: 'string', describe: `the lab (default ${DEFAULT_LAB})` })
      .option('all', { type: 'boolean', default: false, describe: 'every lab found: state files, data directories, cgroups, namespaces' })
      .option('json', { type: 'boolean', default: false }) as unknown as Argv<Args>,
  handler: async (a) => {
    if (a.all && a.lab !== undefined) throw new UsageError('--lab and --all exclude each other');
    const reports: TeardownReport[] = a.all ? await teardownAll({ graceful: false }) : [await teardownLab(validateLabName(a.lab ?? DEFAULT_LAB), { graceful: false })];
    if (a.json) {
      process.stdout.write(`${JSON.stringify(asResult('cleanup', { labs: reports }), null, 2)}\n`);
      return;
    }
    if (!reports.some((r) => r.found)) process.stdout.write('nothing to clean up\n');
    for (const r of reports.filter((x) => x.found))
      process.stdout.write(`lab ${r.lab}: ended ${r.processes} process group(s), removed ${r.links} TAP(s) and ${r.netns} namespace(s)\n`);
  },
};
export default command;
