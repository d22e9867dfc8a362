// umlperf paper: the study's three experiments and Tables 1-5, in every report format.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../src/errors.js';
import { LabStage } from '../../src/paper/lab-stage.js';
import type { Experiment, PaperResult, ServerRole } from '../../src/paper/model.js';
import { preflight } from '../../src/paper/preflight.js';
import { checkPaperOptions, DEFAULT_SWEEP, runPaper } from '../../src/paper/run.js';
import { paperHtml } from '../../src/report/paper-html.js';
import { paperCsv, paperJson, paperMarkdown, paperText } from '../../src/report/paper.js';
import { reportError } from '../fail.js';
import { interruptible } from '../progress.js';

type Format = 'table' | 'json' | 'csv' | 'md' | 'html';

interface Args {
  experiment: string;
  runs: number;
  guests: string;
  servers: string;
  transport: 'vector' | 'tuntap';
  kernel?: string;
  mem?: string;
  format: Format;
  out?: string;
  samples: boolean;
  pin: boolean;
  yes: boolean;
}

function list(name: string, v: string, parse: (s: string) => number): number[] {
  const xs = v.split(',').map((s) => s.trim()).filter(Boolean).map(parse);
  if (xs.length === 0 || xs.some((x) => Number.isNaN(x))) throw new UsageError(`--${name} takes a comma-separated list (got ${JSON.stringify(v)})`);
  return xs;
}

export function render(r: PaperResult, format: Format, samples: boolean): string {
  switch (format) {
    case 'json':
      return paperJson(r, samples);
    case 'csv':
      return paperCsv(r);
    case 'md':
      return paperMarkdown(r);
    case 'html':
      return paperHtml(r);
    default:
      return paperText(r);
  }
}

const command: CommandModule<object, Args> = {
  command: 'paper',
  describe: "reproduce the study: host vs UML guest, with and without servers, and the host under N guests",
  builder: (y: Argv) =>
    y
      .option('experiment', { type: 'string', default: 'all', describe: '1, 2, 3, a list (1,3) or all' })
      .option('runs', { type: 'number', default: 10, describe: 'runs per figure (the study: 10)' })
      .option('guests', { type: 'string', default: DEFAULT_SWEEP.join(','), describe: 'experiment 3: guest counts to measure the host under' })
      .option('servers', { type: 'string', default: 'httpd,named,mail', describe: 'experiment 2: servers started in turn' })
      .option('transport', { choices: ['vector', 'tuntap'] as const, default: 'vector' as const, describe: 'UML network transport (tuntap: as in the study)' })
      .option('kernel', { type: 'string', describe: 'UML kernel (default /usr/bin/linux.uml)' })
      .option('mem', { type: 'string', describe: 'guest memory (default 64M, 128M with servers)' })
      .option('format', { choices: ['table', 'json', 'csv', 'md', 'html'] as const, default: 'table' as const })
      .option('out', { type: 'string', describe: 'write the report to this file instead of stdout' })
      .option('samples', { type: 'boolean', default: false, describe: 'json: include the kept RTT samples' })
      .option('pin', { type: 'boolean', default: false, describe: 'probes on the last CPU, the lab on the others (fixed placement; but a UML guest squeezed onto one CPU shows ~10 ms p99 stalls)' })
      .option('yes', { type: 'boolean', default: false, describe: 'install missing Debian packages without asking' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const experiments = (a.experiment === 'all' ? [1, 2, 3] : list('experiment', a.experiment, Number)) as Experiment[];
    const servers = a.servers.split(',').map((s) => s.trim()) as ServerRole[];
    // Placement decides whether a ping-pong crosses CPUs (~3x the round trip here), but pinning a
    // UML guest's processes onto one CPU costs it a jiffy at p99 (measured: 9.8 ms vs ~0.2 ms):
    // so it is opt-in.
    const ncpu = availableParallelism();
    const pin = a.pin && ncpu >= 2;
    const probeCpu = pin ? ncpu - 1 : undefined;
    const labCpus = pin ? (ncpu === 2 ? '0' : `0-${ncpu - 2}`) : undefined;
    const opts = { experiments, runs: a.runs, guestsSweep: list('guests', a.guests, Number), servers, probeCpu };
    const cfg = checkPaperOptions(opts); // usage errors before anything is built
    const tty = process.stderr.isTTY;
    const say = (line: string) => tty && process.stderr.write(`\r\x1b[K${line}`);
    const needServers = cfg.experiments.includes(2);
    await preflight({ kernel: a.kernel, servers: needServers, yes: a.yes, say });
    const result = await interruptible(async (signal) => {
      const stage = await LabStage.create({ transport: a.transport, kernel: a.kernel, mem: a.mem, cpus: labCpus, servers: needServers, signal, progress: say });
      return runPaper(stage, { ...opts, signal, progress: say });
    });
    if (tty) process.stderr.write('\r\x1b[K');
    const text = render(result, a.format, a.samples);
    if (a.out) {
      writeFileSync(a.out, text);
      process.stderr.write(`umlperf paper: wrote ${a.out}\n`);
    } else {
      process.stdout.write(text);
    }
    if (!result.complete) {
      const e = Object.assign(new Error(`paper ${result.error === 'interrupted' ? 'interrupted' : `failed: ${result.error}`}; the report holds what was measured`), {
        name: result.error === 'interrupted' ? 'AbortError' : 'Error',
      });
      reportError(e);
    }
  },
};
export default command;
