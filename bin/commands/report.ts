// umlperf report FILE: render a saved paper (or isolate) result again, in any format.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';

import { UmlperfError, UsageError } from '../../src/errors.js';
import { resultProblems } from '../../src/result/envelope.js';
import type { IsolateResult } from '../../src/isolate/model.js';
import { loadPaperResult } from '../../src/paper/load.js';
import { renderIsolate } from '../../src/report/isolate.js';
import { PAPER_FORMATS, renderPaper, type PaperFormat } from '../../src/report/render.js';
import { outFileFlag } from '../args.js';

interface Args {
  file: string;
  format: PaperFormat;
  out?: string;
  samples: boolean;
}

/** A saved `umlperf isolate` result (kind isolate), else undefined (and the paper loader judges the file). */
function isolateFile(file: string): IsolateResult | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<IsolateResult> | null;
    if (!(r && r.tool === 'umlperf' && r.kind === 'isolate')) return undefined;
    const problems = resultProblems(r, 1);
    if (problems.length) throw new UsageError(`${file} is not a valid umlperf isolate result: ${problems[0]}`);
    return r as IsolateResult;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return undefined;
  }
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
    const iso = isolateFile(a.file);
    const text = iso ? renderIsolate(iso, a.format) : renderPaper(loadPaperResult(a.file), a.format, a.samples);
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
