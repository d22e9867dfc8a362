// umlperf doctor: what the lab needs from this machine, and exactly what to install.
import { asResult } from '../../src/result/envelope.js';
import type { Argv, CommandModule } from 'yargs';

import { doctor } from '../../src/lab/doctor.js';
import { DEFAULT_KERNEL } from '../../src/lab/kernel.js';
import { textFlag } from '../args.js';

interface Args {
  kernel: string;
  json: boolean;
  boot: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'check this machine for the lab: kernel, /dev/net/tun, privileges, packages; then boot a guest',
  builder: (y: Argv) =>
    y
      .option('kernel', { type: 'string', default: DEFAULT_KERNEL, requiresArg: true, coerce: textFlag('kernel', 4096), describe: 'UML kernel to check' })
      .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
      .option('boot', { type: 'boolean', default: true, describe: 'boot one guest (--no-boot skips it)' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const startedAt = new Date().toISOString();
    const r = await doctor({ kernel: a.kernel, boot: a.boot });
    if (a.json) {
      process.stdout.write(`${JSON.stringify(asResult('doctor', r, startedAt), null, 2)}\n`);
    } else {
      const width = Math.max(...r.checks.map((c) => c.name.length));
      for (const c of r.checks) {
        const fix = c.ok ? '' : c.package ? `  → apt-get install ${c.package}` : c.fix ? `  → ${c.fix}` : '';
        process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}${fix}\n`);
      }
      if (r.install) process.stdout.write(`\nto install what is missing:\n  ${r.install}\n`);
      else if (r.ok) process.stdout.write('\neverything the lab needs is here\n');
    }
    if (!r.ok) process.exitCode = 1;
  },
};
export default command;
