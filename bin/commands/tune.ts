// umlperf tune: which network configuration serves a UML guest best (src/tune/run.ts); prints
// a table, the Pareto front, the knob that mattered most and the `lab up --net` line to use.
import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';

import { UmlperfError, UsageError } from '../../src/errors.js';
import { NET_TRANSPORTS, PRESET_NAME, saveNetPreset, type NetTransport } from '../../src/lab/net-config.js';
import { tuneHtml, tuneText } from '../../src/report/tune.js';
import { tune } from '../../src/tune/run.js';
import { nameListFlag, outFileFlag, textWith } from '../args.js';
import { interruptible } from '../progress.js';

interface Args {
  transports?: NetTransport[];
  quick: boolean;
  json: boolean;
  save?: string;
  html?: string;
  lab: string;
}

const checkPreset = (v: string) => {
  if (!PRESET_NAME.test(v) || v === 'builtin') throw new UsageError(`bad preset name ${JSON.stringify(v)}: a-z, 0-9 and -, 1-32, not builtin`);
};
const checkPrefix = (v: string) => {
  if (!/^[a-z0-9]{1,4}$/.test(v)) throw new UsageError(`bad --lab prefix ${JSON.stringify(v)}: 1-4 of a-z0-9`);
};

const command: CommandModule<object, Args> = {
  command: 'tune',
  describe: 'find the network configuration (lab up --net) that serves a UML guest best: one knob at a time, each in a fresh lab',
  builder: (y: Argv) =>
    y
      .option('transports', { type: 'string', requiresArg: true, coerce: nameListFlag('transports', NET_TRANSPORTS), describe: `transports to compare, of ${NET_TRANSPORTS.join(', ')} (default tap,tuntap)` })
      .option('quick', { type: 'boolean', default: false, describe: 'fewer knobs and shorter tests (≤ 3 minutes; else ≤ 10)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .option('save', { type: 'string', requiresArg: true, coerce: textWith('save', checkPreset), describe: 'save the winner as this preset (lab up --net NAME); "default" makes it the lab\'s default' })
      .option('html', { type: 'string', requiresArg: true, coerce: outFileFlag('html'), describe: 'write an HTML page with the charts to this file' })
      .option('lab', { type: 'string', default: 'tu', requiresArg: true, coerce: textWith('lab', checkPrefix), describe: 'PREFIX: the labs tune makes are named PREFIX, a random suffix and a number (as paper --lab)' })
      .example('$0 tune --quick', 'a short sweep, then the --net line to use')
      .example('$0 tune --save fast --html tune.html', 'the full sweep; the winner saved as preset "fast"') as unknown as Argv<Args>,
  handler: async (a) => {
    const tty = process.stderr.isTTY;
    const r = await interruptible((signal) => tune({ transports: a.transports, quick: a.quick, labPrefix: a.lab, signal,
      progress: tty ? (l) => process.stderr.write(`${l}\n`) : undefined }));
    if (a.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else process.stdout.write(tuneText(r));
    if (a.html) {
      try {
        writeFileSync(a.html, tuneHtml(r));
      } catch (e) {
        throw new UmlperfError('ERR_UMLPERF_WRITE', `cannot write ${a.html}: ${(e as Error).message.split('\n')[0]}`);
      }
      process.stderr.write(`umlperf tune: wrote ${a.html}\n`);
    }
    if (a.save) {
      const file = saveNetPreset(a.save, r.winner.config);
      process.stderr.write(`umlperf tune: saved preset ${a.save} (${r.winner.line}) in ${file}\n`);
    }
  },
};
export default command;
