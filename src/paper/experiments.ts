// The study's three experiments, run on a stage. Results accumulate as they are measured, so
// an interrupt or a failure part-way returns everything measured until then.
import { responseTime, streaming, throughput, type Protocol } from '../probes.js';
import { runSummary, summarize } from '../stats.js';
import type { Experiment, Measurement, RateSearch, ServerRole, Side } from './model.js';
import type { Stage } from './stage.js';

/** The probes the experiments run: the real ones, or stand-ins that tests hand in. */
export interface Probes {
  responseTime: typeof responseTime;
  throughput: typeof throughput;
  streaming: typeof streaming;
}

export const REAL_PROBES: Probes = { responseTime, throughput, streaming };

export interface PaperRunOptions {
  experiments: Experiment[];
  runs: number;
  /** Experiment 3: guest counts to measure the host under. */
  guestsSweep: number[];
  /** Experiment 2: servers started in turn on both sides. */
  servers: ServerRole[];
  responseSizeBytes: number;
  responseIterations: number;
  throughputSeconds: number;
  udpDatagramBytes: number;
  /** Pin every probe to this CPU (the stage keeps its guests and servers off it). */
  probeCpu?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
  probes?: Probes;
}

export interface Collected {
  measurements: Measurement[];
  rateSearches: RateSearch[];
}

const MAX_KEPT_SAMPLES = 2000;

function thin(xs: number[], max: number): number[] {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]);
}

interface Cell {
  side: Side;
  protocol: Protocol;
  samples: number[];
  p50s: number[];
  sent: number;
  lost: number;
  mbps: number[];
  sendMbps: number[];
  loss: number[];
}

/**
 * Measures the given sides and protocols `runs` times, interleaving sides within each run so
 * that drift over time falls on both alike.
 */
async function measure(stage: Stage, o: PaperRunOptions, what: { experiment: Experiment; servers: ServerRole; guests: number; sides: Side[] }, out: Collected): Promise<void> {
  const cells: Cell[] = [];
  for (const side of what.sides)
    for (const protocol of ['tcp', 'udp'] as const)
      cells.push({ side, protocol, samples: [], p50s: [], sent: 0, lost: 0, mbps: [], sendMbps: [], loss: [] });
  const probes = o.probes ?? REAL_PROBES;
  for (let run = 0; run < o.runs; run++) {
    o.progress?.(`experiment ${what.experiment}: servers ${what.servers}, ${what.guests} guest(s), run ${run + 1}/${o.runs}`);
    for (const c of cells) {
      const t = stage.target(c.side);
      const common = { host: t.host, netns: t.netns, protocol: c.protocol, cpu: o.probeCpu, signal: o.signal };
      const rt = await probes.responseTime({ ...common, port: t.echoPort, size: o.responseSizeBytes, iterations: o.responseIterations, warmup: Math.min(50, o.responseIterations) });
      c.samples.push(...(rt.samplesNs ?? []));
      c.p50s.push(rt.stats.p50Ns);
      c.sent += rt.sent;
      c.lost += rt.lost;
      const tp = await probes.throughput({ ...common, port: t.discardPort, durationS: o.throughputSeconds, ...(c.protocol === 'udp' ? { size: o.udpDatagramBytes } : {}) });
      c.mbps.push(tp.throughputMbps);
      c.sendMbps.push(tp.sendMbps);
      c.loss.push(tp.lossPercent ?? 0);
    }
  }
  for (const c of cells) {
    // Over every run's samples, with the one quantile definition of stats.ts.
    const s = summarize(c.samples);
    out.measurements.push({
      experiment: what.experiment,
      side: c.side,
      protocol: c.protocol,
      servers: what.servers,
      guests: what.guests,
      response: { minNs: s.minNs, meanNs: s.meanNs, maxNs: s.maxNs, p50Ns: s.p50Ns, p99Ns: s.p99Ns, p999Ns: s.p999Ns, sent: c.sent, lost: c.lost },
      responseRunP50Ns: c.p50s,
      responseP50Ns: runSummary(c.p50s),
      responseSamplesNs: thin(c.samples, MAX_KEPT_SAMPLES),
      throughputRunsMbps: c.mbps,
      throughputMbps: runSummary(c.mbps),
      ...(c.protocol === 'udp' ? { udp: { sendMbps: runSummary(c.sendMbps), lossPercent: runSummary(c.loss) } } : {}),
    });
  }
}

/** Runs the chosen experiments; throws only after `out` holds everything measured so far. */
export async function runExperiments(stage: Stage, o: PaperRunOptions, out: Collected): Promise<void> {
  if (o.experiments.includes(1)) {
    await stage.arrange({ experiment: 1, servers: 'none', guests: 1 });
    await measure(stage, o, { experiment: 1, servers: 'none', guests: 1, sides: ['host', 'guest'] }, out);
    // The UDP puzzle: the highest rate each side takes with loss under 0.1%.
    for (const side of ['host', 'guest'] as const) {
      o.progress?.(`experiment 1: loss-free UDP rate, ${side}`);
      const t = stage.target(side);
      const s = await (o.probes ?? REAL_PROBES).streaming({ host: t.host, netns: t.netns, cpu: o.probeCpu, port: t.echoPort, size: o.udpDatagramBytes, durationS: 0.25, findMaxRate: true, lossThresholdPercent: 0.1, maxTrials: 8, signal: o.signal });
      out.rateSearches.push({ side, lossThresholdPercent: 0.1, maxRateMbps: s.search!.maxRateMbps, trials: s.search!.trials });
    }
  }
  if (o.experiments.includes(2)) {
    // First no server on the same image and memory: the baseline each server's cost is read from.
    for (const servers of ['none', ...o.servers] as ServerRole[]) {
      await stage.arrange({ experiment: 2, servers, guests: 1 });
      await measure(stage, o, { experiment: 2, servers, guests: 1, sides: ['host', 'guest'] }, out);
    }
  }
  if (o.experiments.includes(3)) {
    for (const guests of o.guestsSweep) {
      await stage.arrange({ experiment: 3, servers: 'none', guests });
      await measure(stage, o, { experiment: 3, servers: 'none', guests, sides: ['host'] }, out);
    }
  }
}
