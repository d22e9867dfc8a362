// umlperf paper: the study's three experiments and Tables 1-5, in every report format.
import { writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { UmlperfError, UsageError } from '../../src/errors.js';
import { MAX_GUESTS } from '../../src/lab/names.js';
import { checkLabPrefix, LabStage } from '../../src/paper/lab-stage.js';
import type { ServerName } from '../../src/servers/start.js';
import type { Experiment, PaperResult, ServerRole } from '../../src/paper/model.js';
import { placementFor } from '../../src/paper/placement.js';
import { preflight } from '../../src/paper/preflight.js';
import { checkPaperOptions, DEFAULT_SWEEP, runPaper } from '../../src/paper/run.js';
import { renderPaper, type PaperFormat, type PaperWithIsolation } from '../../src/report/render.js';
import { isolate } from '../../src/isolate/run.js';
import { renderIsolate } from '../../src/report/isolate.js';
import { cpuListFlag, executableFlag, intFlag, intListFlag, memFlag, outFileFlag, rejectGiven, serverListFlag, textWith } from '../args.js';
import { progressSink } from '../progress.js';
import { reportError } from '../fail.js';
import { saveResult } from '../results.js';
import { interruptible } from '../progress.js';

type Format = PaperFormat;

/** 1-3: the study's experiments (`all`); 4, experiment 4 (isolation), only when named. */
function experimentFlag(v: unknown): (Experiment | 4)[] {
  if (v === 'all') return [1, 2, 3];
  const xs = intListFlag('experiment', 1, 4)(v);
  return [...new Set(xs)] as (Experiment | 4)[];
}

const firstLine = (e: unknown) => ((e as Error)?.message ?? String(e)).split('\n')[0];

function writeOrExplain(file: string, text: string, saved: string | undefined): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UmlperfError('ERR_UMLPERF_WRITE', `cannot write ${file}: ${firstLine(e)}${saved ? `; the result is saved in ${saved}` : ''}`);
  }
}

// Flags without a yargs default are `undefined` when not given: those that do not apply to the
// chosen experiments are rejected, not ignored (defaults are applied in the handler).
interface Args {
  experiment: (Experiment | 4)[];
  runs?: number;
  guests?: number[];
  servers?: ServerName[];
  transport?: 'vector' | 'tuntap';
  kernel?: string;
  mem?: string;
  cpu?: number[] | 'any';
  format: Format;
  out?: string;
  samples?: boolean;
  yes?: boolean;
  rrul?: boolean;
  'ci-target'?: number;
  'max-runs'?: number;
  seed?: number;
  lab?: string;
}

/** The study's servers in the study's order (Apache, BIND, the mailer). */
const DEFAULT_SERVERS: ServerName[] = ['www', 'dns', 'mail'];
/** Flags of the study's lab runs (experiments 1-3). */
const LAB_FLAGS = ['runs', 'guests', 'servers', 'transport', 'kernel', 'mem', 'cpu', 'ci-target', 'max-runs', 'seed', 'samples', 'yes', 'rrul', 'lab'] as const;

/** Options that do not apply to the experiments asked for: exit 2, before anything is built. */
function checkApplicable(a: Args): void {
  const lab = a.experiment.some((e) => e !== 4);
  if (!lab) rejectGiven(a as unknown as Record<string, unknown>, LAB_FLAGS, 'does not apply to experiment 4 alone (it takes --format and --out)');
  if (!a.experiment.includes(3)) rejectGiven(a as unknown as Record<string, unknown>, ['guests'], 'applies to experiment 3 only');
  if (!a.experiment.includes(2)) rejectGiven(a as unknown as Record<string, unknown>, ['servers'], 'applies to experiment 2 only');
  if (a['ci-target'] === undefined) rejectGiven(a as unknown as Record<string, unknown>, ['max-runs'], 'goes with --ci-target');
  if (a.format !== 'json') rejectGiven(a as unknown as Record<string, unknown>, ['samples'], 'goes with --format json');
  const runs = a.runs ?? 10;
  if (a['max-runs'] !== undefined && a['max-runs'] < runs) throw new UsageError(`--max-runs (${a['max-runs']}) must be at least --runs (${runs})`);
}

export const render = renderPaper;

/** `paper --experiment 4`: experiment 4 alone, as `umlperf isolate` reports it. */
async function isolationOnly(a: Args): Promise<void> {
  const progress = progressSink('umlperf paper');
  const result = await interruptible((signal) => isolate({ signal, progress: (l) => progress.line(l) }));
  progress.done();
  if (a.out) writeOrExplain(a.out, renderIsolate(result, 'json'), undefined);
  process.stdout.write(renderIsolate(result, a.format));
}

function percentFlag(name: string) {
  return (v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(String(v).replace(/%$/, ''));
    if (!(Number.isFinite(n) && n > 0 && n <= 100)) throw new UsageError(`--${name} takes a percentage above 0 and at most 100 (got ${JSON.stringify(v)})`);
    return n;
  };
}

const command: CommandModule<object, Args> = {
  command: 'paper',
  describe: "reproduce the study: host vs UML guest, with and without servers, and the host under N guests",
  builder: (y: Argv) =>
    y
      .option('experiment', { type: 'string', default: 'all', requiresArg: true, coerce: experimentFlag, describe: '1, 2, 3, a list (1,3) or all (1-3); 4 (a buggy guest and its neighbours, ~3 min) only when named' })
      .option('runs', { type: 'string', requiresArg: true, coerce: intFlag('runs', 1, 1000), describe: 'runs per figure (default 10, as the study)' })
      .option('guests', { type: 'string', requiresArg: true, coerce: intListFlag('guests', 0, MAX_GUESTS), describe: `experiment 3: guest counts to measure the host under (default ${DEFAULT_SWEEP.join(',')})` })
      .option('servers', { type: 'string', requiresArg: true, coerce: serverListFlag('servers'), describe: `experiment 2: servers of dns (BIND named), www (apache2), mail (postfix), all provisioned; each runs alone in turn, the others stopped (SIGSTOP), against all stopped (default ${DEFAULT_SERVERS.join(',')})` })
      .option('transport', { choices: ['vector', 'tuntap'] as const, requiresArg: true, describe: 'UML network transport (default vector; tuntap: as in the study)' })
      .option('kernel', { type: 'string', requiresArg: true, coerce: executableFlag('kernel'), describe: 'UML kernel (default /usr/bin/linux.uml)' })
      .option('mem', { type: 'string', requiresArg: true, coerce: memFlag('mem'), describe: 'guest memory (default 64M, 128M with servers)' })
      .option('cpu', { type: 'string', requiresArg: true, coerce: (v: unknown) => (v === 'any' ? 'any' : cpuListFlag('cpu')(v)), describe: 'run the lab on these CPUs and the probes on the first CPU outside them, e.g. 1; any: let the scheduler place both (default: the lab on the last CPU, the probes on the first)' })
      .option('format', { choices: ['table', 'json', 'csv', 'md', 'html'] as const, default: 'table' as const, requiresArg: true, describe: 'the report printed on stdout' })
      .option('out', { type: 'string', requiresArg: true, coerce: outFileFlag('out'), describe: 'save the result as JSON in this file (checked before the run starts); re-render it with umlperf report' })
      .option('ci-target', { type: 'string', requiresArg: true, coerce: percentFlag('ci-target'), describe: 'adaptive: add blocks until every ratio\'s 95% CI is within ±PCT (up to --max-runs)' })
      .option('max-runs', { type: 'string', requiresArg: true, coerce: intFlag('max-runs', 1, 1000), describe: 'adaptive: at most this many blocks per step (default 3 × --runs)' })
      .option('lab', { type: 'string', requiresArg: true, coerce: textWith('lab', checkLabPrefix), describe: 'name the run\'s labs PREFIX and a step number (default pp and the pid)' })
      .option('seed', { type: 'string', requiresArg: true, coerce: intFlag('seed', 0, 2 ** 32 - 1), describe: 'seed of the per-block side order (default random; recorded in the result)' })
      .option('samples', { type: 'boolean', describe: 'with --format json: include the kept RTT samples' })
      .option('rrul', { type: 'boolean', describe: 'also a latency-under-load row per side (host, guest): response time idle vs under 4 bulk TCP streams each way (~20 s)' })
      .option('yes', { type: 'boolean', describe: 'install missing Debian packages without asking' })
      .example('$0 paper', 'the three experiments, Tables 1-5 on the terminal (a few minutes)')
      .example('$0 paper --experiment 1 --out r.json', 'experiment 1 only; the result saved as JSON for umlperf report and compare')
      .example('$0 paper --ci-target 2 --max-runs 40', 'add blocks until every ratio is known within ±2%')
      .example('$0 paper --experiment 2 --servers dns,www', 'experiment 2 with BIND and Apache only')
      .example('$0 paper --experiment 4 --format md', 'experiment 4 (isolation) alone, as Markdown') as unknown as Argv<Args>,
  handler: async (a) => {
    checkApplicable(a);
    const withIsolation = a.experiment.includes(4);
    const experiments = a.experiment.filter((e): e is Experiment => e !== 4);
    if (!experiments.length) return isolationOnly(a);
    const servers: Exclude<ServerRole, 'none'>[] = a.servers ?? DEFAULT_SERVERS;
    // Placed by default (src/paper/placement.ts says why); --cpu any leaves it to the scheduler.
    const { probeCpu, labCpus } = placementFor(a.cpu);
    const opts = { experiments, runs: a.runs ?? 10, guestsSweep: a.guests ?? DEFAULT_SWEEP, servers, probeCpu, ciTargetPercent: a['ci-target'], maxRuns: a['max-runs'], seed: a.seed, ...(a.rrul ? { rrul: true } : {}) };
    const cfg = checkPaperOptions(opts); // usage errors before anything is built
    const tty = process.stderr.isTTY;
    const progress = progressSink('umlperf paper');
    const say = (line: string) => progress.line(line);
    const needServers = cfg.experiments.includes(2);
    await preflight({ kernel: a.kernel, servers: needServers, yes: a.yes ?? false, say });
    const result: PaperWithIsolation = await interruptible(async (signal) => {
      const stage = await LabStage.create({ transport: a.transport ?? 'vector', kernel: a.kernel, mem: a.mem, cpus: labCpus, labPrefix: a.lab, servers: needServers, signal, progress: say });
      return runPaper(stage, { ...opts, signal, progress: say });
    });
    if (withIsolation && result.complete) result.isolation = await interruptible((signal) => isolate({ signal, progress: say }));
    progress.done();
    if (tty) process.stderr.write('\r\x1b[K');
    // The JSON first, somewhere safe: a report that fails to render or to write loses nothing.
    // --out names where; without it the result goes to the private results directory.
    let saved: string | undefined;
    if (a.out) {
      try {
        writeFileSync(a.out, render(result, 'json', true));
        saved = a.out;
      } catch (e) {
        // The file went away or the disk filled during the run: keep the result anyway.
        saved = saveResult(result);
        throw new UmlperfError('ERR_UMLPERF_WRITE', `cannot write ${a.out}: ${firstLine(e)}${saved ? `; the result is saved in ${saved}` : ''}`);
      }
    } else {
      saved = saveResult(result);
    }
    if (saved) process.stderr.write(`umlperf paper: result saved in ${saved} (umlperf report ${saved} --format html --out page.html)\n`);
    let text: string;
    try {
      text = render(result, a.format, a.samples ?? false);
    } catch (e) {
      throw new UmlperfError('ERR_UMLPERF_RENDER', `cannot render the ${a.format} report (${firstLine(e)})${saved ? `; the result is saved in ${saved}` : ''}`);
    }
    process.stdout.write(text);
    if (!result.complete) {
      const e = Object.assign(new Error(`paper ${result.error === 'interrupted' ? 'interrupted' : `failed: ${result.error}`}; the report holds what was measured`), {
        name: result.error === 'interrupted' ? 'AbortError' : 'Error',
      });
      reportError(e);
    }
  },
};
export default command;
