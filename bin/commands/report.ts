// umlperf report FILE: render a saved paper result again, in any format.
import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';

import { UmlperfError } from '../../src/errors.js';
import { loadPaperResult } from '../../src/paper/load.js';
import { PAPER_FORMATS, renderPaper, type PaperFormat } from '../../src/report/render.js';
import { outFileFlag } from '../args.js';

interface Args {
  file: string;
  format: PaperFormat;
  out?: string;
  samples: boolean;
}

const command: CommandModule<object, Args> = {
  command: 'report <file>',
  describe: 'render a saved paper result (paper --out r.json) as a table, JSON, CSV, Markdown or HTML',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'a saved result' })
      .option('format', { choices: PAPER_FORMATS, default: 'table' as const, requiresArg: true })
      .option('out', { type: 'string', requiresArg: true, coerce: outFileFlag('out'), describe: 'write the report to this file instead of stdout' })
      .option('samples', { type: 'boolean', default: false, describe: 'json: include the kept RTT samples' })
      .example('$0 report r.json --format html --out r.html', 'one self-contained page with the tables and charts')
      .example('$0 report r.json --format md', 'the tables as Markdown') as unknown as Argv<Args>,
  handler: (a) => {
    const text = renderPaper(loadPaperResult(a.file), a.format, a.samples);
    if (!a.out) {
      process.stdout.write(text);
      return;
    }
    try {
      writeFileSync(a.out, text);
    } catch (e) {
      throw new UmlperfError('ERR_UMLPERF_WRITE', `cannot write ${a.out}: ${(e as Error).message.split('\n')[0]}`);
    }
    process.stderr.write(`umlperf report: wrote ${a.out}\n`);
  },
};
export default command;
