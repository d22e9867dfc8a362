// The study as one library call: builds what it needs, runs on fresh labs, tears them down.
import type { Transport } from '../lab/state.js';
import { LabStage } from './lab-stage.js';
import { defaultPlacement } from './placement.js';
import type { PaperResult } from './model.js';
import { checkPaperOptions, runPaper, type PaperOptions } from './run.js';

export interface PaperLabOptions extends PaperOptions {
  transport?: Transport;
  kernel?: string;
  mem?: string;
  /**
   * CPUs (taskset list) for guests, host endpoint and host-side servers; 'any': the scheduler's
   * choice. Default, when probeCpu is not given either: the last CPU for the lab, the first for
   * the probes (placement.ts).
   */
  labCpus?: string;
  /** The run's labs are named this plus a step number (default pp<pid>). */
  labPrefix?: string;
}

/** `umlperf paper` from code. Never throws for a run that failed part-way: see `complete`. */
export async function paper(o: PaperLabOptions = {}): Promise<PaperResult> {
  const place = o.labCpus === undefined && o.probeCpu === undefined ? defaultPlacement() : { probeCpu: o.probeCpu, labCpus: o.labCpus === 'any' ? undefined : o.labCpus };
  o = { ...o, ...place };
  const cfg = checkPaperOptions(o); // usage errors before anything is built
  const stage = await LabStage.create({
    transport: o.transport,
    kernel: o.kernel,
    mem: o.mem,
    cpus: o.labCpus,
    labPrefix: o.labPrefix,
    servers: cfg.experiments.includes(2),
    signal: o.signal,
    progress: o.progress,
  });
  return runPaper(stage, o);
}
