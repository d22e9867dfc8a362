// Do two saved runs of the study agree? Pure functions over two PaperResults.
//
// Two runs agree on a figure when the 95% confidence interval of the ratio of their figures
// (B over A) contains 1: per-run values are compared on a log scale with Welch's t, so the
// interval is of the ratio of geometric means. ("Each run's value lies in the other's CI" holds
// only ~83% of the time for honest intervals, so it is not the criterion.) Verdicts agree when
// the two runs print the same verdict for the same comparison.
import { median, tCritical95 } from '../stats.js';
import { logMoments, unpairedRatio } from './paired.js';
import type { Measurement, PaperResult, PaperTable } from './model.js';

/** One quantity in two runs: a value of each, B/A with its 95% CI, and whether the CI contains 1. */
interface BetweenRuns {
  a: number;
  b: number;
  ratio: number;
  ci95Low: number;
  ci95High: number;
  agree: boolean;
}

/** a, b: the median of the per-run figures of each run; ratio: of their geometric means. */
export interface FigureRow extends BetweenRuns {
  kind: 'figure';
  /** experiment, side, protocol, servers, guests */
  key: string;
  metric: 'latency p50' | 'throughput';
  unit: 'ns' | 'Mbps';
  /**
   * Whether they agree once the machine's own move between the runs (the drift watch's
   * reference, see RunComparison.machine) is allowed for; absent when the runs have no
   * common reference.
   */
  agreeAllowingMachine?: boolean;
}

/**
 * How far the machine itself moved between the runs, as the drift watch's reference saw it:
 * the ratio B/A of the reference figures (a latency: above 1, B's machine was slower) with its
 * 95% CI. A whole run can sit on a slower machine (seen: every figure of a run ~20% off,
 * host and guest, its reference +21%); no design within a run can take that out, so the
 * comparison says it instead of leaving it to read as a change of the software.
 */
export interface MachineMove extends BetweenRuns {
  /** What the reference measured; a, b: its median in each run, ns; agree: it did not move. */
  reference: string;
  /** Figures that agree once each is divided by the reference's move (throughput: multiplied). */
  figuresAgree: number;
}

/** A paired comparison's ratio (guest/host) in each run, and whether the runs agree on it. */
export interface RatioRow {
  kind: 'ratio';
  key: string;
  metric: string;
  a: number;
  b: number;
  /** (B's ratio) / (A's ratio) and its 95% CI, from the per-block log-ratios of each run. */
  ratioOfRatios: number;
  ci95Low: number;
  ci95High: number;
  agree: boolean;
}

export interface VerdictRow {
  kind: 'verdict';
  key: string;
  metric: string;
  a: string;
  b: string;
  agree: boolean;
}

export interface RunComparison {
  figures: { total: number; agree: number };
  verdicts: { total: number; agree: number };
  /** The paired ratios per block (guest/host, server/none, N guests/fewest) of the tables. */
  ratios: { total: number; agree: number };
  rows: (FigureRow | RatioRow | VerdictRow)[];
  /** Figures or verdicts only one of the runs has. */
  unmatched: string[];
  /** The machine's own move between the runs, when both carry the same drift reference. */
  machine?: MachineMove;
}

/**
 * Does a figure's move B/A agree with the machine's? The log of the figure's ratio less (for a
 * latency; plus, for a throughput) the log of the reference's ratio, with the four samples'
 * variances pooled by Welch-Satterthwaite: its 95% CI contains 0.
 */
export function agreesAllowingMachine(fa: number[], fb: number[], ra: number[], rb: number[], metric: FigureRow['metric']): boolean {
  const parts = [logMoments(fa), logMoments(fb), logMoments(ra), logMoments(rb)];
  if (parts.some((x) => !(x.n >= 2) || !Number.isFinite(x.v))) return true; // too few to tell: no evidence they differ
  const sign = metric === 'throughput' ? 1 : -1;
  const d = parts[1].m - parts[0].m + sign * (parts[3].m - parts[2].m);
  const se2 = parts.reduce((acc, x) => acc + x.v, 0);
  if (se2 === 0) return d === 0;
  const df = se2 ** 2 / parts.reduce((acc, x) => acc + x.v ** 2 / (x.n - 1), 0);
  return Math.abs(d) <= tCritical95(Math.max(1, df)) * Math.sqrt(se2);
}

/** The ratio B/A of two runs' per-run figures with its 95% CI (Welch's t on logs). */
export function ratioCi(a: number[], b: number[]): { ratio: number; low: number; high: number } {
  const r = unpairedRatio(a, b);
  return { ratio: r.ratio, low: r.ci95Low, high: r.ci95High };
}

const measurementKey = (m: Measurement) => `experiment ${m.experiment} ${m.side} ${m.protocol} servers=${m.servers} guests=${m.guests}`;

/** One key per comparison of a run: an A/A row is its own, beside the comparison of the same servers and protocol. */
function comparisonKey(t: PaperTable, c: PaperTable['comparisons'][number]): string {
  return `${t.id} ${c.metric} ${c.protocol} servers=${c.servers}${c.guests !== undefined ? ` guests=${c.guests}` : ''}${c.aa ? ' A/A' : ''}`;
}

export function compareResults(a: PaperResult, b: PaperResult): RunComparison {
  const rows: (FigureRow | RatioRow | VerdictRow)[] = [];
  // The machine: both runs' drift references, when they measured the same thing.
  const refA = a.drift?.series.map((x) => x.referenceP50Ns) ?? [], refB = b.drift?.series.map((x) => x.referenceP50Ns) ?? [];
  const sameReference = refA.length >= 2 && refB.length >= 2 && a.drift?.reference !== undefined && a.drift.reference === b.drift?.reference;
  const unmatched: string[] = [];
  const bm = new Map(b.measurements.map((m) => [measurementKey(m), m]));
  const seen = new Set<string>();
  for (const m of a.measurements) {
    const key = measurementKey(m);
    const o = bm.get(key);
    if (!o) {
      unmatched.push(`figure ${key} (only in A)`);
      continue;
    }
    seen.add(key);
    const pairs: [FigureRow['metric'], FigureRow['unit'], number[], number[]][] = [
      ['latency p50', 'ns', m.latencyRunP50Ns, o.latencyRunP50Ns],
      ['throughput', 'Mbps', m.throughputRunsMbps, o.throughputRunsMbps],
    ];
    for (const [metric, unit, xa, xb] of pairs) {
      if (!xa.length || !xb.length) continue;
      const r = ratioCi(xa, xb);
      rows.push({
        kind: 'figure', key, metric, unit, a: median(xa), b: median(xb), ratio: r.ratio, ci95Low: r.low, ci95High: r.high, agree: r.low <= 1 && 1 <= r.high,
        ...(sameReference ? { agreeAllowingMachine: agreesAllowingMachine(xa, xb, refA, refB, metric) } : {}),
      });
    }
  }
  for (const m of b.measurements) if (!seen.has(measurementKey(m))) unmatched.push(`figure ${measurementKey(m)} (only in B)`);

  // Paired ratios: per-block guest/host (tables 1-4) or N guests/fewest (table 5) of each run,
  // compared between the runs.
  const blockRatios = (r: PaperResult, t: PaperTable, c: PaperTable['comparisons'][number]): number[] => {
    let h: Measurement | undefined, g: Measurement | undefined;
    if (t.id === 'table5') {
      const mine = r.measurements.filter((x) => x.experiment === 3 && x.protocol === c.protocol && x.side === 'host').sort((x, y) => x.guests - y.guests);
      [h, g] = [mine[0], mine.find((x) => x.guests === c.guests)];
    } else {
      const m = (side: string) => r.measurements.find((x) => x.experiment === t.experiment && x.protocol === c.protocol && x.servers === c.servers && x.side === side);
      [h, g] = [m('host'), m('guest')];
    }
    if (!h || !g) return [];
    const [hr, gr] = c.metric === 'throughput' ? [h.throughputRunsMbps, g.throughputRunsMbps] : [h.latencyRunP50Ns, g.latencyRunP50Ns];
    return gr.map((x, i) => x / hr[i]).filter((x) => x > 0 && Number.isFinite(x));
  };
  const bt = new Map(b.tables.flatMap((t) => t.comparisons.filter((c) => c.paired && !c.aa).map((c) => [comparisonKey(t, c), { t, c }] as const)));
  for (const t of a.tables) {
    for (const c of t.comparisons.filter((x) => x.paired && !x.aa)) {
      const o = bt.get(comparisonKey(t, c));
      if (!o) continue;
      const ra = blockRatios(a, t, c), rb = blockRatios(b, o.t, o.c);
      if (!ra.length || !rb.length) continue;
      const r = unpairedRatio(ra, rb);
      rows.push({ kind: 'ratio', key: comparisonKey(t, c), metric: c.metric, a: c.ratio, b: o.c.ratio, ratioOfRatios: r.ratio, ci95Low: r.ci95Low, ci95High: r.ci95High, agree: r.ci95Low <= 1 && 1 <= r.ci95High });
    }
  }

  const bv = new Map<string, string>();
  for (const t of b.tables) for (const c of t.comparisons) bv.set(comparisonKey(t, c), c.verdict);
  const seenV = new Set<string>();
  for (const t of a.tables) {
    for (const c of t.comparisons) {
      const key = comparisonKey(t, c);
      const other = bv.get(key);
      if (other === undefined) {
        unmatched.push(`verdict ${key} (only in A)`);
        continue;
      }
      seenV.add(key);
      rows.push({ kind: 'verdict', key, metric: c.metric, a: c.verdict, b: other, agree: c.verdict === other });
    }
  }
  for (const key of bv.keys()) if (!seenV.has(key)) unmatched.push(`verdict ${key} (only in B)`);

  const figures = rows.filter((r): r is FigureRow => r.kind === 'figure');
  const verdicts = rows.filter((r): r is VerdictRow => r.kind === 'verdict');
  const ratios = rows.filter((r): r is RatioRow => r.kind === 'ratio');
  let machine: MachineMove | undefined;
  if (sameReference) {
    const r = unpairedRatio(refA, refB);
    machine = { reference: a.drift!.reference!, a: median(refA), b: median(refB), ratio: r.ratio, ci95Low: r.ci95Low, ci95High: r.ci95High, agree: r.ci95Low <= 1 && 1 <= r.ci95High, figuresAgree: figures.filter((f) => f.agreeAllowingMachine).length };
  }
  return {
    ...(machine ? { machine } : {}),
    ratios: { total: ratios.length, agree: ratios.filter((r) => r.agree).length },
    figures: { total: figures.length, agree: figures.filter((r) => r.agree).length },
    verdicts: { total: verdicts.length, agree: verdicts.filter((r) => r.agree).length },
    rows,
    unmatched,
  };
}
