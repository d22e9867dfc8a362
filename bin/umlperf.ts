#!/usr/bin/env node
// The umlperf CLI: parses arguments and hands over to the command modules. No logic here.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../src/errors.js';
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

const cli = yargs(hideBin(process.argv))
  .scriptName('umlperf')
  .usage('$0 <command> [options]')
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
  .wrap(Math.min(110, process.stdout.columns ?? 100))
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
