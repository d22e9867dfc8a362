#!/usr/bin/env node
// The umlperf CLI: parses arguments and hands over to the command modules. No logic here.
import { createRequire } from 'node:module';
import type YargsFactory from 'yargs';
import { UsageError } from '../src/errors.js';
import { helpWidth } from './args.js';
import { reportError } from './fail.js';
import endpoint from './commands/endpoint.js';
import paper from './commands/paper.js';
import probe from './commands/probe.js';
import lab from './commands/lab.js';
import doctor from './commands/doctor.js';
import cleanup from './commands/cleanup.js';
import image from './commands/image.js';
import serveBench from './commands/serve-bench.js';
import compare from './commands/compare.js';
import report from './commands/report.js';
import isolate from './commands/isolate.js';
import tune from './commands/tune.js';

// yargs through its CommonJS entry: there its help layout wraps with wrap-ansi, at word
// boundaries; its ES module entry cuts lines at the column width, mid-word.
const require = createRequire(import.meta.url);
const yargs = require('yargs') as typeof YargsFactory;

const cli = yargs(process.argv.slice(2))
  .scriptName('umlperf')
  .usage('$0 <command> [options]')
  .example('$0 probe response', 'round trips to an endpoint on 127.0.0.1')
  .example('$0 lab up --guests 2', 'a lab of two UML guests')
  .example('$0 paper --out r.json', 'the study, saved for umlperf report')
  .epilogue('Measure virtualised Linux servers: UML guests, real servers, microsecond network probes.')
  .command(paper)
  .command(probe)
  .command(endpoint)
  .command(lab)
  .command(doctor)
  .command(cleanup)
  .command(image)
  .command(serveBench)
  .command(compare)
  .command(report)
  .command(isolate)
  .command(tune)
  .demandCommand(1, 'name a command')
  .strict()
  .recommendCommands()
  // Help wrapped at word boundaries to the terminal's width (80 at least; COLUMNS when piped).
  .wrap(helpWidth())
  .fail((msg, err) => {
    // yargs reports its own usage errors (and our flag checks, which it wraps) as YError.
    if (err && err.name !== 'YError') throw err;
    const text = (msg ?? err?.message ?? 'bad usage').replace(/\s*\n\s*/g, ' ').trim();
    throw new UsageError(/^--/.test(text) ? text : `${text} (see umlperf --help)`);
  });

try {
  await cli.parseAsync();
} catch (e) {
  reportError(e);
}
