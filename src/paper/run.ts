// umlperf paper as a library call: run the experiments on a stage, always tear the stage down,
// and return a PaperResult holding everything measured, complete or not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { native, packageRoot } from '../native.js';
import { UsageError } from '../errors.js';
import { runExperiments, type Collected, type PaperRunOptions, type Probes } from './experiments.js';
import type { Experiment, PaperResult, ServerRole } from './model.js';
import type { Stage } from './stage.js';
import { buildTables, openQuestions } from './tables.js';

export interface PaperOptions {
  experiments?: Experiment[];
  runs?: number;
  guestsSweep?: number[];
  servers?: ServerRole[];
  responseSizeBytes?: number;
  responseIterations?: number;
  throughputSeconds?: number;
  udpDatagramBytes?: number;
  /** Pin the probes to this CPU; the stage should keep the lab on others (see LabStage cpus). */
  probeCpu?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  /** Stand-ins for the probes (tests); default the real ones. */
  probes?: Probes;
}

export const DEFAULT_SWEEP = [0, 1, 2, 4, 8];

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function checkPaperOptions(o: PaperOptions): Omit<PaperRunOptions, 'signal' | 'progress' | 'probes'> {
  if (o.probeCpu !== undefined && (!Number.isInteger(o.probeCpu) || o.probeCpu < 0)) throw new UsageError('probeCpu is a CPU number');
  const experiments = o.experiments ?? [1, 2, 3];
  if (experiments.length === 0 || experiments.some((e) => ![1, 2, 3].includes(e))) throw new UsageError('experiments are 1, 2 and 3');
  const runs = o.runs ?? 10;
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new UsageError(`runs must be an integer from 1 to 1000 (got ${runs})`);
  const guestsSweep = o.guestsSweep ?? DEFAULT_SWEEP;
  if (guestsSweep.length === 0 || guestsSweep.some((g) => !Number.isInteger(g) || g < 0 || g > 64)) throw new UsageError('guest counts are integers from 0 to 64');
  const servers = o.servers ?? ['httpd', 'named', 'mail'];
  if (servers.some((s) => !['httpd', 'named', 'mail'].includes(s))) throw new UsageError('servers are httpd, named and mail');
  return {
    experiments: [...new Set(experiments)].sort() as Experiment[],
    runs,
    guestsSweep: [...new Set(guestsSweep)].sort((a, b) => a - b),
    servers,
    responseSizeBytes: o.responseSizeBytes ?? 100,
    responseIterations: o.responseIterations ?? 1000,
    throughputSeconds: o.throughputSeconds ?? 0.5,
    udpDatagramBytes: o.udpDatagramBytes ?? 1472,
    ...(o.probeCpu !== undefined ? { probeCpu: o.probeCpu } : {}),
  };
}

/** Runs the study on `stage` and closes it, whatever happens. Never throws for a failed run: see `complete`. */
export async function runPaper(stage: Stage, o: PaperOptions = {}): Promise<PaperResult> {
  const cfg = checkPaperOptions(o);
  const startedAt = new Date().toISOString();
  const collected: Collected = { measurements: [], rateSearches: [] };
  let error: string | undefined;
  try {
    await runExperiments(stage, { ...cfg, signal: o.signal, progress: o.progress, probes: o.probes }, collected);
  } catch (e) {
    error = (e as { name?: string }).name === 'AbortError' ? 'interrupted' : ((e as Error).message ?? String(e)).split('\n')[0];
  } finally {
    try {
      await stage.close();
    } catch (e) {
      error ??= `teardown failed: ${(e as Error).message}`;
    }
  }
  const { warnings = [], ...d } = stage.describe();
  return {
    tool: 'umlperf',
    version: version(),
    startedAt,
    finishedAt: new Date().toISOString(),
    complete: error === undefined,
    ...(error !== undefined ? { error } : {}),
    warnings,
    config: { ...cfg, probeCpu: cfg.probeCpu ?? null, ...d },
    clock: native().clockInfo(),
    measurements: collected.measurements,
    tables: buildTables(collected.measurements),
    openQuestions: openQuestions(collected.measurements, collected.rateSearches),
  };
}
