// umlperf paper as a library call: run the experiments on a stage, always tear the stage down,
// and return a PaperResult holding everything measured, complete or not.
import { availableParallelism } from 'node:os';
import { native } from '../native.js';
import { UsageError } from '../errors.js';
import { DRIFT_THRESHOLD_PERCENT, runExperiments, type Collected, type PaperRunOptions, type Probes } from './experiments.js';
import type { DriftWatch, Experiment, PaperResult, ServerRole } from './model.js';
import { spawnEndpoint } from '../endpoint.js';
import { responseTime } from '../probes.js';
import type { Stage } from './stage.js';
import { buildTables, openQuestions } from './tables.js';
import { envelope } from '../result/envelope.js';
import { median } from '../stats.js';
import { BUILTIN_NET, labUdpPayload } from '../lab/net-config.js';

export interface PaperOptions {
  experiments?: Experiment[];
  runs?: number;
  guestsSweep?: number[];
  servers?: Exclude<ServerRole, 'none'>[];
  responseSizeBytes?: number;
  responseIterations?: number;
  throughputSeconds?: number;
  /** UDP datagram size of the throughput rows and rate searches. Default: the lab network's MTU - 28 (1472 at 1500). */
  udpDatagramBytes?: number;
  /** Pin the probes to this CPU; the stage should keep the lab on others (see LabStage cpus). */
  probeCpu?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  /** Stand-ins for the probes (tests); default the real ones. */
  probes?: Probes;
  /** Seed of the per-block side order; default random (recorded in the result). */
  seed?: number;
  /** Adaptive runs: keep adding blocks until every ratio's CI half-width is within this percent. */
  ciTargetPercent?: number;
  /** ...up to this many blocks per step (default 3 × runs). */
  maxRuns?: number;
  /** Opt-in: a latency-under-load (RRUL) row per side; true: 4 streams each way for 4 s. */
  rrul?: boolean | { streams?: number; durationS?: number };
  /** The drift watch: a reference figure (ns) taken before every block; default a loopback probe. */
  reference?: (() => Promise<number>) | false;
  /** A block whose reference strays beyond this from the run's median is flagged (default 25%). */
  driftThresholdPercent?: number;
  /** After the lab changes between experiments, wait at most this long for the reference to come back within the threshold (default 10 000). */
  settleMaxMs?: number;
}

export const DEFAULT_SWEEP = [0, 1, 2, 4, 8];


/**
 * The run's configuration from its options, or a UsageError. `mtu` is the stage's (its
 * netMtu()): the default UDP datagram fills one frame of it.
 */
export function checkPaperOptions(o: PaperOptions, mtu: number = BUILTIN_NET.mtu): Omit<PaperRunOptions, 'signal' | 'progress' | 'probes'> {
  if (o.probeCpu !== undefined && (!Number.isInteger(o.probeCpu) || o.probeCpu < 0)) throw new UsageError('probeCpu is a CPU number');
  const experiments = o.experiments ?? [1, 2, 3];
  if (experiments.length === 0 || experiments.some((e) => ![1, 2, 3].includes(e))) throw new UsageError('experiments are 1, 2 and 3');
  const runs = o.runs ?? 10;
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new UsageError(`runs must be an integer from 1 to 1000 (got ${runs})`);
  const guestsSweep = o.guestsSweep ?? DEFAULT_SWEEP;
  if (guestsSweep.length === 0 || guestsSweep.some((g) => !Number.isInteger(g) || g < 0 || g > 64)) throw new UsageError('guest counts are integers from 0 to 64');
  if (o.ciTargetPercent !== undefined && !(o.ciTargetPercent > 0 && o.ciTargetPercent <= 100)) throw new UsageError(`the CI target is a percentage above 0 and at most 100 (got ${o.ciTargetPercent})`);
  if (o.maxRuns !== undefined && (!Number.isInteger(o.maxRuns) || o.maxRuns < runs || o.maxRuns > 1000)) throw new UsageError(`max runs must be an integer from runs (${runs}) to 1000 (got ${o.maxRuns})`);
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32)) throw new UsageError(`the seed is an integer from 0 to 2^32-1 (got ${o.seed})`);
  if (o.rrul !== undefined && o.rrul !== true && o.rrul !== false) {
    const { streams, durationS } = o.rrul;
    if (streams !== undefined && !(Number.isInteger(streams) && streams >= 1 && streams <= 32)) throw new UsageError(`rrul streams are an integer from 1 to 32 (got ${streams})`);
    if (durationS !== undefined && !(durationS >= 0.5 && durationS <= 3600)) throw new UsageError(`rrul durationS is from 0.5 to 3600 (got ${durationS})`);
  }
  const servers = o.servers ?? ['www', 'dns', 'mail'];
  if (servers.some((s) => !['www', 'dns', 'mail'].includes(s))) throw new UsageError('servers are www, dns and mail');
  return {
    experiments: [...new Set(experiments)].sort() as Experiment[],
    runs,
    guestsSweep: [...new Set(guestsSweep)].sort((a, b) => a - b),
    servers,
    responseSizeBytes: o.responseSizeBytes ?? 100,
    responseIterations: o.responseIterations ?? 1000,
    throughputSeconds: o.throughputSeconds ?? 0.5,
    udpDatagramBytes: o.udpDatagramBytes ?? labUdpPayload(mtu),
    ...(o.probeCpu !== undefined ? { probeCpu: o.probeCpu } : {}),
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
    ...(o.ciTargetPercent !== undefined ? { ciTargetPercent: o.ciTargetPercent } : {}),
    maxRuns: o.ciTargetPercent !== undefined ? o.maxRuns ?? 3 * runs : runs,
    ...(o.rrul ? { rrul: { streams: (o.rrul === true ? undefined : o.rrul.streams) ?? 4, durationS: (o.rrul === true ? undefined : o.rrul.durationS) ?? 4 } } : {}),
  };
}

/** The drift watch from the reference series: blocks whose reference strayed, by how much. */
export function driftWatch(series: Collected['references'], thresholdPercent: number, reference?: string, settles?: Collected['settles']): DriftWatch {
  const med = series.length ? median(series.map((x) => x.referenceP50Ns)) : 0;
  const flagged = series
    .map((x) => ({ step: x.step, block: x.block, deviationPercent: med > 0 ? (x.referenceP50Ns / med - 1) * 100 : 0 }))
    .filter((x) => Math.abs(x.deviationPercent) > thresholdPercent);
  return { ...(reference ? { reference } : {}), series, medianReferenceP50Ns: med, thresholdPercent, flagged, ...(settles?.length ? { settles } : {}) };
}

/** Short probes per reference figure: their median, so one probe caught by a burst of load does not flag a block. */
export const REFERENCE_PROBES = 5;

/** One reference figure: the median of `count` short probes (NaN-free: a failed probe fails it). */
export async function referenceFigure(probeOnce: () => Promise<number>, count = REFERENCE_PROBES): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < count; i++) xs.push(await probeOnce());
  return median(xs);
}

/**
 * The default reference: TCP 64 B ping-pong on loopback against an endpoint process of our
 * own, both pinned. Placed (the lab on its CPUs, the probes on one of their own), the endpoint
 * runs on the lab's CPUs and the probe on the probes' CPU, so the reference crosses CPUs as
 * every host figure does: on a virtual machine that round trip has moved by ~20% for minutes
 * at a time, taking a run's host figures with it, while a same-CPU reference stayed flat.
 * Unplaced, both run on the probes' CPU: left to the scheduler, the pair landed on one CPU in
 * some runs and on two in others, a ~3x bimodal figure.
 */
async function loopbackReference(probeCpu: number, endpointCpus: string, signal?: AbortSignal): Promise<{ probe: () => Promise<number>; close: () => Promise<void>; what: string }> {
  const ep = await spawnEndpoint({ bind: '127.0.0.1', port: 0, prefix: ['taskset', '-c', endpointCpus], exitWithParent: true });
  const once = async () => (await responseTime({ host: '127.0.0.1', port: ep.echoPort, protocol: 'tcp', size: 64, iterations: 100, warmup: 20, cpu: probeCpu, signal })).latency.p50Ns;
  const where = endpointCpus === String(probeCpu) ? `probe and endpoint on CPU ${probeCpu}` : `probe on CPU ${probeCpu}, endpoint on CPU ${endpointCpus}`;
  return { probe: () => referenceFigure(once), close: () => ep.close(), what: `TCP 64 B loopback, ${where}` };
}

/** Runs the study on `stage` and closes it, whatever happens. Never throws for a failed run: see `complete`. */
export async function runPaper(stage: Stage, o: PaperOptions = {}): Promise<PaperResult> {
  const cfg = checkPaperOptions(o, stage.netMtu?.());
  const startedAt = new Date().toISOString();
  const collected: Collected = { measurements: [], rateSearches: [], references: [] };
  let error: string | undefined;
  let ref: { probe: () => Promise<number>; close: () => Promise<void>; what: string } | undefined;
  try {
    if (o.reference === undefined) {
      const probeCpu = o.probeCpu ?? Math.max(0, availableParallelism() - 1);
      const labCpus = o.probeCpu !== undefined ? stage.describe().labCpus : null;
      ref = await loopbackReference(probeCpu, labCpus ?? String(probeCpu), o.signal);
    }
    const reference = o.reference === false ? undefined : o.reference ?? ref?.probe;
    await runExperiments(stage, { ...cfg, signal: o.signal, progress: o.progress, probes: o.probes, reference, driftThresholdPercent: o.driftThresholdPercent, settleMaxMs: o.settleMaxMs }, collected);
  } catch (e) {
    error = (e as { name?: string }).name === 'AbortError' ? 'interrupted' : ((e as Error).message ?? String(e)).split('\n')[0];
  } finally {
    await ref?.close().catch(() => undefined);
    try {
      await stage.close();
    } catch (e) {
      error ??= `teardown failed: ${(e as Error).message}`;
    }
  }
  const { warnings = [], ...d } = stage.describe();
  return {
    ...envelope('paper', startedAt),
    finishedAt: new Date().toISOString(),
    complete: error === undefined,
    ...(error !== undefined ? { error } : {}),
    warnings,
    config: { ...cfg, probeCpu: cfg.probeCpu ?? null, blockOrder: 'abba', ...(collected.experimentOrder ? { experimentOrder: collected.experimentOrder } : {}), ...d },
    clock: native().clockInfo(),
    measurements: collected.measurements,
    ...(collected.references.length ? { drift: driftWatch(collected.references, o.driftThresholdPercent ?? DRIFT_THRESHOLD_PERCENT, ref?.what, collected.settles) } : {}),
    tables: buildTables(collected.measurements),
    openQuestions: openQuestions(collected.measurements, collected.rateSearches),
    ...(collected.rrul?.length ? { rrul: collected.rrul } : {}),
  };
}
