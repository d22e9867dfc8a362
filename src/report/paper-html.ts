// A self-contained HTML page of a PaperResult: the tables; per experiment the response-time CCDF
// (log y, so the tail shows); means with their 95% CIs as bars with whiskers; the host against the
// number of guests with markers and whiskers. Every figure's data downloadable as CSV beside it.
import { SERVER_LABEL, type Measurement, type PaperResult } from '../paper/model.js';
import { measurementLatency, measurementP50, measurementThroughput, samplesOf, type LatencyView } from './fields.js';
import { csvLink, csvText, esc, figuresHtml, PAGE_CSS, tableHtml, type Figure } from './figure.js';
import { isolateSection } from './isolate.js';
import { gridHeading, openQuestions, reportGrids } from './paper-grid.js';
import { driftLines, gridCsv, paperCsv } from './paper.js';
import { barChart, lineChart, type Bar, type Series } from './svg.js';

type Protocol = 'tcp' | 'udp';
const HOST = '#1f77b4';
const GUEST = '#d62728';
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const P = (p: Protocol) => p.toUpperCase();

/** Another section of the page (experiment 4's Table 6, tune results): a heading and its HTML. */
export interface HtmlSection {
  heading: string;
  html: string;
}

/**
 * The page's sections after the study's: experiment 4 (Table 6 and its charts) when the result
 * holds it. Further parts of a result (e.g. tune results) add theirs here, built with figure.ts's
 * Figure / figuresHtml / tableHtml, so their data downloads the same way.
 */
export function htmlSections(r: PaperResult): HtmlSection[] {
  const out: HtmlSection[] = [];
  if (r.isolation) out.push({ heading: 'Experiment 4: a buggy guest and its neighbours', html: isolateSection(r.isolation) });
  return out;
}

interface Curve {
  points: [number, number][];
  /** 'samples': the kept samples; 'percentiles': read from the summary (the result had no samples). */
  source: 'samples' | 'percentiles';
}

/** Fraction of requests at or above each time (µs): from the samples, every tail point kept. */
function ccdfFromSamples(samplesNs: number[]): [number, number][] {
  const s = [...samplesNs].sort((a, b) => a - b);
  const n = s.length;
  const step = Math.max(1, Math.floor(n / 150));
  const pts: [number, number][] = [];
  for (let i = 0; i < n; i++) if (i % step === 0 || n - i <= 100) pts.push([s[i] / 1e3, (n - i) / n]);
  return pts;
}

/** The same read from the percentiles: min (1), p50 (0.5), p90, p99, p99.9, max (1/count). */
function ccdfFromPercentiles(l: LatencyView): [number, number][] {
  const cand: [number | null, number | null][] = [[l.minNs, 1], [l.p50Ns, 0.5], [l.p90Ns, 0.1], [l.p99Ns, 0.01], [l.p999Ns, 0.001], [l.maxNs, finite(l.count) && l.count > 0 ? 1 / l.count : null]];
  const pts: [number, number][] = [];
  for (const [x, y] of cand) {
    if (!finite(x) || !finite(y) || x <= 0) continue;
    const last = pts[pts.length - 1];
    if (last && (x / 1e3 < last[0] || y >= last[1])) continue;
    pts.push([x / 1e3, y]);
  }
  return pts;
}

function curveOf(m: Measurement): Curve {
  const s = samplesOf(m);
  return s.length >= 2 ? { points: ccdfFromSamples(s), source: 'samples' } : { points: ccdfFromPercentiles(measurementLatency(m)), source: 'percentiles' };
}

function ccdfFigure(id: string, title: string, entries: { name: string; color: string; m: Measurement }[]): Figure | undefined {
  const curves = entries.map((e) => ({ ...e, c: curveOf(e.m) })).filter((e) => e.c.points.length);
  if (!curves.length) return undefined;
  const series: Series[] = curves.map((e) => ({ name: e.name, color: e.color, points: e.c.points, dashed: e.c.source === 'percentiles', markers: e.c.source === 'percentiles' }));
  const svg = lineChart(title, series, { xLabel: 'round trip (µs, log scale)', yLabel: 'fraction of requests at or above (log)', logX: true, logY: true });
  const csv = csvText(['series', 'round_trip_us', 'fraction_at_or_above', 'source'], curves.flatMap((e) => e.c.points.map((p) => [e.name, p[0], p[1], e.c.source])));
  const fromPct = curves.some((e) => e.c.source === 'percentiles');
  return { id, title, svg, csv, note: fromPct ? 'Dashed with markers: read from min, p50, p90, p99, p99.9 and max (the result holds no samples; save it with --samples for the full curve).' : undefined };
}

const find = (ms: Measurement[], e: number, p: Protocol, side: string, servers = 'none') => ms.find((m) => m.experiment === e && m.protocol === p && m.side === side && m.servers === servers);

function ccdfFigures(ms: Measurement[]): Figure[] {
  const out: (Figure | undefined)[] = [];
  for (const p of ['tcp', 'udp'] as const) {
    const e = (['host', 'guest'] as const).flatMap((side) => {
      const m = find(ms, 1, p, side);
      return m ? [{ name: `${side}OS ${P(p)}`, color: side === 'host' ? HOST : GUEST, m }] : [];
    });
    out.push(ccdfFigure(`ccdf-e1-${p}`, `Response time CCDF, ${P(p)}, host vs guest (experiment 1)`, e));
  }
  for (const p of ['tcp', 'udp'] as const)
    for (const side of ['host', 'guest'] as const) {
      const e2 = ms.filter((m) => m.experiment === 2 && m.protocol === p && m.side === side);
      const entries = e2.map((m, i) => ({ name: m.servers === 'none' ? 'no server' : SERVER_LABEL[m.servers], color: PALETTE[i % PALETTE.length], m }));
      out.push(ccdfFigure(`ccdf-e2-${p}-${side}`, `Response time CCDF, ${P(p)}, ${side}OS, by server running (experiment 2)`, entries));
    }
  for (const p of ['tcp', 'udp'] as const) {
    const e3 = ms.filter((m) => m.experiment === 3 && m.protocol === p).sort((a, b) => a.guests - b.guests);
    out.push(ccdfFigure(`ccdf-e3-${p}`, `Host response time CCDF, ${P(p)}, by guests running (experiment 3)`, e3.map((m, i) => ({ name: `${m.guests} guests`, color: PALETTE[i % PALETTE.length], m }))));
  }
  return out.filter((f): f is Figure => !!f);
}

const groupOf = (m: Measurement) => (m.experiment === 1 ? 'exp. 1' : m.servers === 'none' ? 'no server' : m.servers);

/** Bars of a mean ± 95% CI per experiment-1/2 cell, host and guest side by side. */
function meanBars(ms: Measurement[], id: string, title: string, unit: string, csvUnit: string, value: (m: Measurement) => { mean: number | null; ci95: number | null }): Figure | undefined {
  const bars: Bar[] = ms.flatMap((m) => {
    const v = value(m);
    return finite(v.mean) ? [{ group: groupOf(m), name: `${m.side}OS`, color: m.side === 'host' ? HOST : GUEST, value: v.mean, ci: finite(v.ci95) ? v.ci95 : 0 }] : [];
  });
  if (!bars.length) return undefined;
  const csv = csvText(['group', 'series', `mean_${csvUnit}`, `ci95_${csvUnit}`], bars.map((b) => [b.group, b.name, b.value, b.ci]));
  return { id, title, svg: barChart(title, bars, unit), csv };
}

function barFigures(ms: Measurement[]): Figure[] {
  const out: (Figure | undefined)[] = [];
  for (const p of ['tcp', 'udp'] as const) {
    const cells = ms.filter((m) => m.experiment !== 3 && m.protocol === p);
    out.push(meanBars(cells, `p50-e12-${p}`, `Response p50, ${P(p)}, mean of the blocks' medians ± 95% CI (experiments 1, 2)`, 'p50 round trip (µs)', 'us', (m) => {
      const v = measurementP50(m);
      return { mean: finite(v.mean) ? v.mean / 1e3 : null, ci95: finite(v.ci95) ? v.ci95 / 1e3 : null };
    }));
    out.push(meanBars(cells, `throughput-e12-${p}`, `Throughput, ${P(p)}${p === 'udp' ? ' (what arrived)' : ''}, mean ± 95% CI (experiments 1, 2)`, 'throughput (Mbps)', 'Mbps', measurementThroughput));
  }
  return out.filter((f): f is Figure => !!f);
}

function guestFigures(ms: Measurement[]): Figure[] {
  const e3 = ms.filter((m) => m.experiment === 3);
  if (e3.length === 0) return [];
  const fig = (id: string, title: string, yLabel: string, csvUnit: string, value: (m: Measurement) => { mean: number | null; ci95: number | null }): Figure | undefined => {
    const series: Series[] = (['tcp', 'udp'] as const).map((p) => {
      const pts = e3.filter((m) => m.protocol === p).sort((a, b) => a.guests - b.guests).map((m) => ({ g: m.guests, v: value(m) })).filter((x) => finite(x.v.mean));
      return {
        name: `hostOS ${P(p)}`, color: p === 'tcp' ? HOST : '#2ca02c', markers: true,
        points: pts.map((x) => [x.g, x.v.mean!] as [number, number]),
        intervals: pts.map((x) => (finite(x.v.ci95) ? [x.v.mean! - x.v.ci95, x.v.mean! + x.v.ci95] as [number, number] : null)),
      };
    }).filter((s) => s.points.length);
    if (!series.length) return undefined;
    const csv = csvText(['series', 'guests', `mean_${csvUnit}`, `ci95_low_${csvUnit}`, `ci95_high_${csvUnit}`],
      series.flatMap((s) => s.points.map((p, i) => [s.name, p[0], p[1], s.intervals?.[i]?.[0] ?? '', s.intervals?.[i]?.[1] ?? ''])));
    return { id, title, svg: lineChart(title, series, { xLabel: 'guests running', yLabel, integerX: true }), csv };
  };
  return [
    fig('p50-e3', 'Host response p50 against guests running, mean of the blocks\' medians ± 95% CI (experiment 3)', 'p50 round trip (µs)', 'us', (m) => {
      const v = measurementP50(m);
      return { mean: finite(v.mean) ? v.mean / 1e3 : null, ci95: finite(v.ci95) ? v.ci95 / 1e3 : null };
    }),
    fig('throughput-e3', 'Host throughput against guests running, mean ± 95% CI (experiment 3)', 'throughput (Mbps)', 'Mbps', measurementThroughput),
  ].filter((f): f is Figure => !!f);
}

/** Every figure of the page, in order (experiment 1, 2, 3). */
export function paperFigures(r: PaperResult): Figure[] {
  const ccdf = ccdfFigures(r.measurements);
  const bars = barFigures(r.measurements);
  return [...ccdf.filter((f) => !f.id.startsWith('ccdf-e3')), ...bars, ...ccdf.filter((f) => f.id.startsWith('ccdf-e3')), ...guestFigures(r.measurements)];
}

export function paperHtml(r: PaperResult, sections: HtmlSection[] = htmlSections(r)): string {
  const c = r.config;
  const tables = reportGrids(r)
    .map((g) => `<h2 id="h-${esc(g.id)}">${esc(gridHeading(g))}</h2>\n${tableHtml(g.header, g.rows, { id: g.id, csv: gridCsv(g), left: 2 })}`)
    .join('\n');
  const open = openQuestions(r);
  const openHtml = open.length
    ? `<h2>What the study left open</h2>\n<section class="open">\n${open.map((q) => `<h3>${esc(q.title)}</h3>\n<ul>${q.points.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>${q.note ? `\n<p>${esc(q.note)}</p>` : ''}`).join('\n')}\n</section>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>umlperf paper</title>
<style>
${PAGE_CSS}
</style></head><body>
<h1>umlperf paper</h1>
<p>The study's experiments on ${esc(c.kernel)}, transport ${esc(c.transport)}, image ${esc(c.image)};
${c.runs} blocks per figure. Clock ${esc(r.clock.source)}, resolution ${r.clock.resolutionNs.toFixed(3)} ns,
${r.clock.overheadNs.toFixed(1)} ns per timestamp (Qcheck resolved 1 ms).${c.experiments.includes(2) ? " Mail is Postfix in qmail's role." : ''}
Measured ${esc(r.startedAt)} to ${esc(r.finishedAt)}. Times have three significant digits, each in the unit its row names;
every table and figure has its data as CSV beside it; ${csvLink('umlperf-paper.csv', paperCsv(r), 'all rows as one CSV')}.</p>
${r.complete ? '' : `<p class="warn">Incomplete: ${esc(r.error ?? 'stopped part-way')}. Everything shown was measured.</p>`}
${(r.warnings ?? []).map((w) => `<p class="warn">Warning: ${esc(w)}</p>`).join('\n')}
${driftLines(r).map((l) => `<p${l.startsWith('warning') ? ' class="warn"' : ''}>${esc(l)}</p>`).join('\n')}
${tables}
<h2>Charts</h2>
${figuresHtml(paperFigures(r))}
${openHtml}
${sections.map((s) => `<h1>${esc(s.heading)}</h1>\n${s.html}`).join('\n')}
</body></html>
`;
}
