// umlperf compare A.json B.json: do two saved runs of the study agree, figure by figure and
// verdict by verdict? A report, not a test: exit 0 whether they agree or not.
import { asResult } from '../../src/result/envelope.js';
import type { Argv, CommandModule } from 'yargs';

import { compareResults, type FigureRow, type RatioRow, type VerdictRow } from '../../src/paper/compare.js';
import { loadPaperResult } from '../../src/paper/load.js';
import { table } from '../../src/report/table.js';

interface Args {
  a: string;
  b: string;
  json: boolean;
}

const fig = (r: FigureRow, x: number) => (r.unit === 'ns' ? `${(x / 1e3).toPrecision(3)} µs` : `${x.toPrecision(4)} Mbit/s`);
const ci = (r: FigureRow) => (Number.isFinite(r.ci95High) ? `[${r.ci95Low.toFixed(3)}, ${r.ci95High.toFixed(3)}]` : '[too few runs]');

const command: CommandModule<object, Args> = {
  command: 'compare <a> <b>',
  describe: 'do two saved paper runs agree? figures (95% CI of their ratio contains 1) and verdicts',
  builder: (y: Argv) =>
    y
      .positional('a', { type: 'string', demandOption: true, describe: 'a saved result (paper --format json --out A.json)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'another saved result' })
      .option('json', { type: 'boolean', default: false, describe: 'print { figures, verdicts, ratios, rows, unmatched, machine } as JSON' })
      .example('$0 compare monday.json tuesday.json', 'how many figures and verdicts the two runs agree on') as unknown as Argv<Args>,
  handler: (a) => {
    const c = compareResults(loadPaperResult(a.a), loadPaperResult(a.b));
    if (a.json) {
      process.stdout.write(`${JSON.stringify(asResult('compare', { config: { a: a.a, b: a.b }, ...c }), null, 2)}\n`);
      return;
    }
    const figures = c.rows.filter((r): r is FigureRow => r.kind === 'figure');
    const verdicts = c.rows.filter((r): r is VerdictRow => r.kind === 'verdict');
    const ratios = c.rows.filter((r): r is RatioRow => r.kind === 'ratio');
    if (ratios.length)
      process.stdout.write(`${table(['paired ratio (guest/host)', 'A', 'B', 'B/A', '95% CI of B/A', ''],
        ratios.map((r) => [r.key, r.a.toFixed(3), r.b.toFixed(3), r.ratioOfRatios.toFixed(3), Number.isFinite(r.ci95High) ? `[${r.ci95Low.toFixed(3)}, ${r.ci95High.toFixed(3)}]` : '[too few runs]', r.agree ? 'agree' : 'DIFFER']), 1)}\n\n`);
    process.stdout.write(`${table(['figure', 'metric', 'A (median)', 'B (median)', 'B/A', '95% CI of B/A', ''],
      figures.map((r) => [r.key, r.metric, fig(r, r.a), fig(r, r.b), r.ratio.toFixed(3), ci(r), r.agree ? 'agree' : r.agreeAllowingMachine ? 'DIFFER, as the machine moved' : 'DIFFER']), 2)}\n\n`);
    if (verdicts.length)
      process.stdout.write(`${table(['comparison', 'A', 'B', ''], verdicts.map((r) => [r.key, r.a, r.b, r.agree ? 'same' : 'DIFFER']), 3)}\n\n`);
    for (const u of c.unmatched) process.stdout.write(`not in both: ${u}\n`);
    process.stdout.write(`${c.figures.agree} of ${c.figures.total} figures agree (the 95% CI of their ratio contains 1); ` +
      `${c.ratios.agree} of ${c.ratios.total} paired ratios agree; ` +
      `${c.verdicts.agree} of ${c.verdicts.total} verdicts are the same\n`);
    const m = c.machine;
    if (m)
      process.stdout.write(`the machine ${m.agree ? 'held' : 'itself moved'} between the runs: its reference (${m.reference}) B/A ${m.ratio.toFixed(3)} ` +
        `[${m.ci95Low.toFixed(3)}, ${m.ci95High.toFixed(3)}], ${(m.a / 1e3).toPrecision(3)} → ${(m.b / 1e3).toPrecision(3)} µs; ` +
        `allowing for its move, ${m.figuresAgree} of ${c.figures.total} figures agree\n`);
  },
};
export default command;
