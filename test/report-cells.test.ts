// Reports pinned cell by cell: a hand-built result with a distinct value in every place, so a
// swapped side, a wrong unit or a dropped column shows in text, Markdown, CSV and HTML alike.
// Times: three significant digits in the unit their row or column names (no 0.006 ms).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Comparison, Measurement, PaperResult, PaperTable, TableRow } from '../src/paper/model.js';
import type { ResponseTimeResult, StreamingResult, ThroughputResult } from '../src/probes.js';
import { paperGrids } from '../src/report/paper-grid.js';
import { paperHtml } from '../src/report/paper-html.js';
import { paperCsv, paperJson, paperMarkdown, paperText } from '../src/report/paper.js';
import { responseReport, streamReport, throughputReport } from '../src/report/probe.js';
import { fixed, mbps, ms, pct, sig3, table, timeIn, timeText, timeUnit, us } from '../src/report/table.js';

type Fig = { min: number; mean: number; max: number; p50: number; p99: number; mbps: number; ci: number; send?: number; loss?: number };

function row(side: 'host' | 'guest', protocol: 'tcp' | 'udp', servers: TableRow['servers'], guests: number, f: Fig): TableRow {
  return {
    side, protocol, servers, guests,
    latency: { count: 100, minNs: f.min, meanNs: f.mean, maxNs: f.max, p50Ns: f.p50, p90Ns: Math.round((f.p50 + f.p99) / 2), p99Ns: f.p99, p999Ns: f.max },
    throughputMbps: { mean: f.mbps, ci95: f.ci, n: 10, median: f.mbps, ci95Low: f.mbps - f.ci, ci95High: f.mbps + f.ci },
    ...(f.send !== undefined ? { udp: { sentMbps: f.send, lossPercent: f.loss! } } : {}),
  };
}

function measurement(experiment: 1 | 2 | 3, r: TableRow, samples: number[]): Measurement {
  const mc = (v: number) => ({ mean: v, ci95: 0, n: 10, median: v, ci95Low: v, ci95High: v });
  return {
    experiment, side: r.side, protocol: r.protocol, servers: r.servers, guests: r.guests,
    latency: { ...r.latency, sent: 100, lost: 0 },
    latencyRunP50Ns: [r.latency.p50Ns], latencyP50Ns: mc(r.latency.p50Ns), latencySamplesNs: samples,
    throughputRunsMbps: [r.throughputMbps.mean], throughputMbps: { ...mc(r.throughputMbps.mean), ci95: r.throughputMbps.ci95 },
    ...(r.udp ? { udp: { sentMbps: mc(r.udp.sentMbps), lossPercent: mc(r.udp.lossPercent) } } : {}),
  };
}

const cmp = (metric: Comparison['metric'], host: number, guest: number, p: number, verdict: Comparison['verdict']): Comparison =>
  ({ metric, host, guest, ratio: guest / host, ci95Low: NaN, ci95High: NaN, paired: true, n: 10, p, pHolm: p, floorPercent: null, verdict });

const H1 = row('host', 'tcp', 'none', 1, { min: 1_000_123, mean: 1_100_456, max: 9_876_543, p50: 1_234_567, p99: 3_456_789, mbps: 941.5, ci: 12.25 });
const G1 = row('guest', 'tcp', 'none', 1, { min: 5_000_001, mean: 7_000_002, max: 19_999_999, p50: 7_654_321, p99: 12_345_678, mbps: 123.456, ci: 7.891 });
const H2 = row('host', 'udp', 'none', 1, { min: 2_000_100, mean: 2_100_200, max: 2_900_300, p50: 2_111_222, p99: 2_800_333, mbps: 654.321, ci: 1.5, send: 1000.5, loss: 2.5 });
const G2 = row('guest', 'udp', 'none', 1, { min: 6_000_100, mean: 6_100_200, max: 6_900_300, p50: 6_222_111, p99: 6_800_444, mbps: 98.765, ci: 0.25, send: 800.25, loss: 86.126 });
const H3n = row('host', 'tcp', 'none', 1, { min: 1, mean: 2, max: 3, p50: 2, p99: 3, mbps: 850, ci: 1 });
const G3n = row('guest', 'tcp', 'none', 1, { min: 4, mean: 5, max: 6, p50: 5, p99: 6, mbps: 280, ci: 1 });
const H3d = row('host', 'tcp', 'dns', 1, { min: 11, mean: 12, max: 13, p50: 12, p99: 13, mbps: 840, ci: 1 });
const G3d = row('guest', 'tcp', 'dns', 1, { min: 14, mean: 15, max: 16, p50: 15, p99: 16, mbps: 196, ci: 1 });
const T0 = row('host', 'tcp', 'none', 0, { min: 999, mean: 1_000, max: 1_001, p50: 999_999, p99: 1_000_000, mbps: 1000, ci: 0 });
const T4 = row('host', 'tcp', 'none', 4, { min: 1_499, mean: 1_500, max: 1_501, p50: 1_605_000, p99: 2_000_000, mbps: 700, ci: 3 });
const U0 = row('host', 'udp', 'none', 0, { min: 500, mean: 600, max: 700, p50: 650, p99: 690, mbps: 600, ci: 0, send: 900, loss: 1 });
const U4 = row('host', 'udp', 'none', 4, { min: 501, mean: 601, max: 701, p50: 651, p99: 691, mbps: 601, ci: 0, send: 901, loss: 2 });

const tables: PaperTable[] = [
  { id: 'table1', experiment: 1, title: 'Experiment 1, TCP: host OS vs UML guest, no servers running', rows: [H1, G1], comparisons: [
    { servers: 'none', protocol: 'tcp', ...cmp('latency p50', 1_230_000, 7_650_000, 0.000018, 'differs') },
    { servers: 'none', protocol: 'tcp', ...cmp('throughput', 941.5, 123.456, 0.0432, 'differs') },
  ] },
  { id: 'table2', experiment: 1, title: 'Experiment 1, UDP: host OS vs UML guest, no servers running', rows: [H2, G2], comparisons: [
    { servers: 'none', protocol: 'udp', ...cmp('latency p50', 2_111_222, 6_222_111, 0.5, 'no effect beyond noise') },
  ] },
  { id: 'table3', experiment: 2, title: 'Experiment 2, TCP: host OS vs UML guest, one server started on each side in turn', rows: [H3n, G3n, H3d, G3d], comparisons: [
    { servers: 'dns', protocol: 'tcp', ...cmp('throughput', 840, 196, 0.001, 'differs') },
  ] },
  { id: 'table5', experiment: 3, title: 'Experiment 3: the host OS measured while UML guests run (comparisons: against the fewest guests)', rows: [T0, U0, T4, U4], comparisons: [
    { servers: 'none', protocol: 'tcp', guests: 4, ...cmp('latency p50', 999_999, 1_605_000, 0.02, 'differs') },
    { servers: 'none', protocol: 'udp', guests: 4, ...cmp('throughput', 600, 612, NaN, 'too few runs') },
  ] },
];

const result: PaperResult = {
  tool: 'umlperf', version: '9.8.7', schemaVersion: 2, kind: 'paper', startedAt: '2026-01-02T03:04:05.000Z', finishedAt: '2026-01-02T04:05:06.000Z', complete: true, warnings: [],
  config: { experiments: [1, 2, 3], runs: 10, guestsSweep: [0, 4], servers: ['www', 'dns', 'mail'], transport: 'vector', kernel: '/usr/bin/linux.uml 6.1', image: 'minimal-x', responseSizeBytes: 100, responseIterations: 1000, throughputSeconds: 0.5, udpDatagramBytes: 1472, probeCpu: null, labCpus: null },
  clock: { source: 'tsc', resolutionNs: 0.385, overheadNs: 12.5 },
  measurements: [
    measurement(1, H1, [1_000_000, 1_234_567, 2_000_000]), measurement(1, G1, [5_000_000, 7_654_321, 9_000_000]),
    measurement(1, H2, [2_000_000]), measurement(1, G2, [6_000_000]),
    measurement(2, H3n, [1]), measurement(2, G3n, [1]), measurement(2, H3d, [1]), measurement(2, G3d, [1]),
    measurement(3, T0, [1]), measurement(3, U0, [1]), measurement(3, T4, [1]), measurement(3, U4, [1]),
  ],
  tables,
  openQuestions: {
    udpVsTcp: [
      { side: 'host', tcpMbps: 941.5, udpReceivedMbps: 654.321, udpSentMbps: 1000.5, udpLossPercent: 2.5, lossFreeRateMbps: 512.34 },
      { side: 'guest', tcpMbps: 123.456, udpReceivedMbps: 98.765, udpSentMbps: 800.25, udpLossPercent: 86.126, lossFreeRateMbps: null },
    ],
    namedCost: [{ side: 'guest', protocol: 'tcp', noneMbps: 280, namedMbps: 196, changePercent: -30, changeCi95LowPercent: -33.5, changeCi95HighPercent: -26.25, p: 0.00018, pHolm: 0.00072, floorPercent: 4.5, verdict: 'differs' }],
    hostVsGuests: [{ protocol: 'tcp', guests: 4, p50Ns: 1_605_000, Mbps: 700 }],
    rateSearches: [],
  },
};


/** A grid's row by its table and its first two cells. */
function gridRow(id: string, label: string, what: string, at = 0): string[] {
  const g = paperGrids(result).find((x) => x.id === id)!;
  const rows = g.rows.filter((r) => r[1] === what && (label === '*' || r[0] === label || label === ''));
  return rows[at];
}

test('units: three significant digits, one unit per set of times (ms only when all ≥ 1 ms, ns only when all < 1 µs)', () => {
  assert.is(sig3(6), '6.00');
  assert.is(sig3(12.345), '12.3');
  assert.is(sig3(123.45), '123');
  assert.is(sig3(999.6), '1000', 'rounding up past 999 gives a whole number, not 1.00e+3');
  assert.is(sig3(12_345), '12300');
  assert.is(sig3(0.0061234), '0.00612');
  assert.is(sig3(0), '0');
  assert.is(sig3(-2.5), '-2.50');
  assert.is(sig3(null), '-');
  assert.is(sig3(NaN), '-');
  assert.is(timeUnit([6_000, 20_000_000]), 'µs', 'a 6 µs figure keeps the set in µs');
  assert.is(timeUnit([1_000_000, 20_000_000]), 'ms');
  assert.is(timeUnit([999_999, 20_000_000]), 'µs');
  assert.is(timeUnit([999, 500]), 'ns');
  assert.is(timeUnit([999, 1_000]), 'µs');
  assert.is(timeUnit([null, NaN, 0]), 'µs', 'nothing to go by: µs');
  assert.is(timeIn(6_000, 'µs'), '6.00');
  assert.is(timeIn(6_000, 'ms'), '0.00600');
  assert.is(timeIn(1_234_567, 'ms'), '1.23');
  assert.is(timeIn(850, 'ns'), '850');
  assert.is(timeIn(null, 'µs'), '-');
  assert.is(timeText(6_000), '6.00 µs');
  assert.is(timeText(1_605_000), '1.61 ms', 'rounded from the integer ns (1.605 as a double is 1.60499...)');
  assert.is(timeText(850), '850 ns');
  // The older fixed-decimal helpers stay for the callers outside the reports.
  assert.is(us(1_234_567), '1234.567');
  assert.is(ms(1_499), '0.001');
  assert.is(mbps(941.5), '941.500');
  assert.is(pct(2.5), '2.500%');
  assert.is(fixed(null, 2), '-');
  assert.is(fixed(Infinity, 2), '-');
});

test('plain tables: first columns left, the rest right-aligned, two spaces apart', () => {
  assert.is(table(['a', 'bb', 'c'], [['xxx', '1', '22'], ['y', '333', '4']], 1), 'a     bb   c\nxxx    1  22\ny    333   4');
  assert.is(table(['a', 'b'], [['xx', 'y']], 2), 'a   b\nxx  y');
});

const CMP = ['ratio', 'ratio 95% CI', 'n (blocks)', 'p (Holm)', 'verdict'];
const NONE = ['', '', '', '', ''];

test('grid: one figure per row with its unit; host and guest in their own columns; the comparison on its row', () => {
  const g = paperGrids(result).find((x) => x.id === 'table1')!;
  assert.equal(g.header, ['servers', 'figure', 'hostOS TCP', 'guestOS TCP', ...CMP]);
  assert.is(g.title, 'Experiment 1, TCP: host OS vs UML guest, no servers running (10 blocks each)');
  assert.equal(g.rows, [
    ['none', 'responses (n)', '100', '100', ...NONE],
    ['', 'min (ms)', '1.00', '5.00', ...NONE],
    ['', 'mean (ms)', '1.10', '7.00', ...NONE],
    // 7 650 000 / 1 230 000 = 6.2195; no CI in the result; Holm p 1.8e-5.
    ['', 'p50 (ms)', '1.23', '7.65', '6.22', '-', '10', '1.8e-5', 'differs'],
    // The fixture's p90 lies halfway between p50 and p99, its p99.9 at the max.
    ['', 'p90 (ms)', '2.35', '10.0', ...NONE],
    ['', 'p99 (ms)', '3.46', '12.3', ...NONE],
    ['', 'p99.9 (ms)', '9.88', '20.0', ...NONE],
    ['', 'max (ms)', '9.88', '20.0', ...NONE],
    ['', 'throughput ± 95% CI (Mbps)', '942 ± 12.3', '123 ± 7.89', '0.131', '-', '10', '0.0432', 'differs'],
  ]);
  const u = paperGrids(result).find((x) => x.id === 'table2')!;
  assert.equal(u.header.slice(2, 4), ['hostOS UDP', 'guestOS UDP']);
  assert.equal(u.rows[3], ['', 'p50 (ms)', '2.11', '6.22', '2.95', '-', '10', '0.5000', 'no effect beyond noise']);
  assert.equal(u.rows[8].slice(4), NONE, 'no throughput comparison given: empty cells');
  assert.equal(u.rows.slice(9), [['', 'UDP sent (Mbps)', '1000', '800', ...NONE], ['', 'UDP loss (%)', '2.50', '86.1', ...NONE]]);
  assert.is(g.rows.length, 9, 'no UDP rows in a TCP table');
});

test('grid: a row whose times straddle 1 ms stays in µs; experiment 2 labels each server; A/A rows', () => {
  const mixed = { ...result, tables: [{ ...tables[0], rows: [{ ...H1, latency: { ...H1.latency, minNs: 6_000 } }, G1] }] };
  assert.equal(paperGrids(mixed)[0].rows[1].slice(1, 4), ['min (µs)', '6.00', '5000'], 'never 0.006 ms');
  const g = paperGrids(result).find((x) => x.id === 'table3')!;
  assert.equal(g.rows.map((r) => r[0]).filter(Boolean), ['none', 'dns (BIND named)']);
  assert.equal(g.rows[1].slice(1, 4), ['min (ns)', '1.00', '4.00']);
  assert.equal(g.rows[8].slice(2), ['850 ± 1.00', '280 ± 1.00', ...NONE]);
  assert.equal(g.rows[17].slice(2), ['840 ± 1.00', '196 ± 1.00', '0.233', '-', '10', '0.0010', 'differs']);
  const aa = { ...result, tables: [{ ...tables[0], comparisons: [...tables[0].comparisons, { servers: 'none' as const, protocol: 'tcp' as const, ...cmp('latency p50', 1, 1.02, 0.7, 'no effect beyond noise'), aa: true, pHolm: NaN }] }] };
  assert.equal(paperGrids(aa)[0].rows[9], ['', 'A/A control: latency p50, host/host', '', '', '1.02', '-', '10', '0.7000 (unadjusted)', 'no effect beyond noise']);
});

test('grid: table 5 has TCP and UDP columns per guest count, comparisons against the fewest in one cell each', () => {
  const g = paperGrids(result).find((x) => x.id === 'table5')!;
  assert.equal(g.header, ['guests', 'figure', 'hostOS TCP', 'hostOS UDP', 'TCP vs fewest guests: ratio [95% CI]; n; p (Holm); verdict', 'UDP vs fewest guests: ratio [95% CI]; n; p (Holm); verdict']);
  assert.equal(g.rows[0], ['0', 'responses (n)', '100', '100', '', '']);
  assert.equal(g.rows[1], ['', 'min (ns)', '999', '500', '', ''], 'below 1 µs: ns');
  assert.equal(g.rows[3], ['', 'p50 (µs)', '1000', '0.650', '', '']);
  assert.equal(g.rows[10], ['', 'UDP loss (%)', '', '1.00', '', '']);
  assert.equal(g.rows[11][0], '4');
  // 1605 µs beside 0.651 µs: one row, one unit (µs).
  assert.equal(g.rows[14], ['', 'p50 (µs)', '1610', '0.651', '1.61; n 10; p 0.0200; differs', '']);
  assert.equal(g.rows[19], ['', 'throughput ± 95% CI (Mbps)', '700 ± 3.00', '601 ± 0', '', '1.02; n 10; too few runs']);
  assert.is(g.rows.length, 22);
});

test('text report: the grid laid out, the preamble and the open questions', () => {
  const t = paperText(result);
  assert.match(t, /^umlperf paper: the study's experiments on \/usr\/bin\/linux\.uml 6\.1, transport vector, image minimal-x\n/);
  assert.match(t, /\n10 blocks per figure, sides in random order per block \(seed -\), an A\/A control per experiment; response 100 B × 1000; throughput 0\.5 s per block \(UDP 1472 B datagrams, unpaced\)\n/);
  // A result of this version says its blocks were counterbalanced; one of an earlier version (no blockOrder) does not.
  const abba = paperText({ ...result, config: { ...result.config, blockOrder: 'abba', seed: 9 } });
  assert.match(abba, /\n10 blocks per figure, sides in random order, mirrored in the next block \(ABBA\) \(seed 9\), an A\/A control/);
  assert.match(t, /clock tsc: resolution 0\.385 ns, 12\.5 ns per timestamp/);
  assert.match(t, /\nTable 1\. Experiment 1, TCP: host OS vs UML guest, no servers running \(10 blocks each\)\nservers  figure\s{2,}hostOS TCP  guestOS TCP  ratio  ratio 95% CI  n \(blocks\)  p \(Holm\)  verdict\n/);
  const line = t.split('\n').find((l) => l.includes('p50 (ms)') && l.includes('1.23'))!;
  assert.match(line, /^\s+p50 \(ms\)\s{2,}1\.23\s{2,}7\.65\s{2,}6\.22\s{2,}-\s{2,}10\s{2,}1\.8e-5\s{2,}differs$/);
  assert.not.match(t, /0\.00\d ms|\(ms\)[^\n]*\b0\.0/, 'no fraction of a millisecond in an ms row');
  // A result with no record of the search (before one-way searches) says it went through the echo.
  assert.match(t, /\n {2}host: TCP 942 Mbps; UDP sent unpaced at 1000 Mbps, 2\.50% lost, 654 Mbps arrived; highest rate with < 0\.1% loss \(through the echo\): 512 Mbps\n/);
  const oneWay = paperText({ ...result, openQuestions: { ...result.openQuestions, rateSearches: [{ side: 'host', lossThresholdPercent: 0.1, maxRateMbps: 512, trials: [], method: 'one-way' }] } });
  assert.match(oneWay, /654 Mbps arrived; highest rate with < 0\.1% loss \(one way, as the receiver counted\): 512 Mbps\n/);
  assert.match(t, /\n {2}guest: TCP 123 Mbps; UDP sent unpaced at 800 Mbps, 86\.1% lost, 98\.8 Mbps arrived\n/);
  assert.match(t, /\n {2}guest TCP: 280 → 196 Mbps \(-30\.0% \[-33\.5%, -26\.3%\]; differs, p \(Holm\) 0\.0007\)\n/);
  assert.match(t, /\n {2}TCP with 4 guest\(s\): p50 1\.61 ms, 700 Mbps\n$/);
  assert.not.match(t, /INCOMPLETE/);
  assert.match(paperText({ ...result, complete: false, error: 'interrupted', warnings: ['g1 retried'] }), /\nINCOMPLETE: interrupted; everything below was measured\nwarning: g1 retried\n/);
});

/** The header rows of every Markdown table: the line before each `|---|` line. */
const mdHeaders = (md: string) => md.split('\n').flatMap((l, i, all) => (/^\|(---\|)+$/.test(all[i + 1] ?? '') ? [l] : []));
const mdCells = (line: string) => line.slice(2, -2).split(/ (?<!\\)\| /);

test('Markdown: the same cells, escaped, one table per study table, no empty header cell', () => {
  const md = paperMarkdown(result);
  assert.match(md, /^# umlperf paper\n\n- umlperf paper: the study's/);
  assert.ok(md.includes('\n| servers | figure | hostOS TCP | guestOS TCP | ratio | ratio 95% CI | n (blocks) | p (Holm) | verdict |\n|---|---|---|---|---|---|---|---|---|\n| none | responses (n) | 100 | 100 |  |  |  |  |  |\n'), md.slice(0, 1200));
  assert.ok(md.includes('\n|  | p50 (ms) | 1.23 | 7.65 | 6.22 | - | 10 | 1.8e-5 | differs |\n'));
  assert.ok(md.includes('\n| 4 | responses (n) | 100 | 100 |  |  |\n'));
  assert.is((md.match(/^## Table \d/gm) ?? []).length, 4);
  const headers = mdHeaders(md);
  assert.is(headers.length, 4);
  for (const h of headers) for (const c of mdCells(h)) assert.ok(c.trim().length > 0, `empty header cell in ${h}`);
  // Complete: every percentile, the count, n, p and the verdict.
  for (const name of ['responses (n)', 'min (', 'mean (', 'p50 (', 'p90 (', 'p99 (', 'p99.9 (', 'max (']) assert.ok(md.includes(`| ${name}`), name);
  assert.match(md, /\n## What the study left open\n\n\*\*UDP vs TCP \("TCP faster but unstable, UDP slower but stable"\):\*\*\n\n- host: TCP 942 Mbps;/);
  assert.not.match(md, /```/);
  const piped = paperMarkdown({ ...result, config: { ...result.config, image: 'a|b' } });
  assert.match(piped, /image a\|b/);
  const g = paperMarkdown({ ...result, tables: [{ ...tables[0], rows: [{ ...H1, servers: 'none' }, G1] }] });
  assert.is(g.split('\n').filter((l) => l.startsWith('|')).length, 2 + 9);
});

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.trimEnd().split('\n')) {
    const cells: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
        else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') cells.push(cur), (cur = '');
      else cur += ch;
    }
    cells.push(cur);
    rows.push(cells);
  }
  return rows;
}

const CSV_HEADER = ['table', 'experiment', 'servers', 'side', 'protocol', 'guests', 'responses', 'min_us', 'mean_us', 'p50_us', 'p90_us', 'p99_us', 'p99.9_us', 'max_us',
  'throughput_Mbps', 'throughput_ci95_Mbps', 'udp_sent_Mbps', 'udp_loss_percent', 'compared_to',
  'p50_ratio', 'p50_ratio_ci95_low', 'p50_ratio_ci95_high', 'p50_n', 'p50_p', 'p50_p_holm', 'p50_verdict',
  'throughput_ratio', 'throughput_ratio_ci95_low', 'throughput_ratio_ci95_high', 'throughput_n', 'throughput_p', 'throughput_p_holm', 'throughput_verdict'];

test('CSV: one unit per column, named in the header; every percentile, n, p and verdict; exact cells', () => {
  const rows = parseCsv(paperCsv(result));
  const header = rows[0];
  assert.equal(header, CSV_HEADER);
  for (const r of rows) assert.is(r.length, header.length, r.join(','));
  assert.is(rows.length, 1 + 2 + 2 + 4 + 4);
  const at = (i: number) => Object.fromEntries(header.map((h, j) => [h, rows[i][j]]));
  const empty = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, '']));
  const cmpKeys = CSV_HEADER.slice(19);
  assert.equal(at(1), {
    table: 'table1', experiment: '1', servers: 'none', side: 'host', protocol: 'tcp', guests: '1', responses: '100',
    min_us: '1000.123', mean_us: '1100.456', p50_us: '1234.567', p90_us: '2345.678', p99_us: '3456.789', 'p99.9_us': '9876.543', max_us: '9876.543',
    throughput_Mbps: '941.5', throughput_ci95_Mbps: '12.25', udp_sent_Mbps: '', udp_loss_percent: '', compared_to: '', ...empty(cmpKeys),
  });
  assert.equal(at(2), {
    table: 'table1', experiment: '1', servers: 'none', side: 'guest', protocol: 'tcp', guests: '1', responses: '100',
    min_us: '5000.001', mean_us: '7000.002', p50_us: '7654.321', p90_us: '10000', p99_us: '12345.678', 'p99.9_us': '19999.999', max_us: '19999.999',
    throughput_Mbps: '123.456', throughput_ci95_Mbps: '7.891', udp_sent_Mbps: '', udp_loss_percent: '', compared_to: 'host',
    p50_ratio: String(7_650_000 / 1_230_000), p50_ratio_ci95_low: '', p50_ratio_ci95_high: '', p50_n: '10', p50_p: '0.000018', p50_p_holm: '0.000018', p50_verdict: 'differs',
    throughput_ratio: String(123.456 / 941.5), throughput_ratio_ci95_low: '', throughput_ratio_ci95_high: '', throughput_n: '10', throughput_p: '0.0432', throughput_p_holm: '0.0432', throughput_verdict: 'differs',
  });
  assert.equal([at(4).side, at(4).udp_sent_Mbps, at(4).udp_loss_percent, at(4).throughput_Mbps, at(4).p50_verdict], ['guest', '800.25', '86.126', '98.765', 'no effect beyond noise']);
  assert.equal([at(7).servers, at(8).servers, at(8).compared_to, at(8).throughput_ratio, at(6).throughput_ratio], ['dns', 'dns', 'host', String(196 / 840), '']);
  // Table 5: the row with 4 guests against the fewest (0); the missing p stays an empty cell.
  const t5 = rows.slice(1).map((_, i) => at(i + 1)).filter((r) => r.table === 'table5');
  assert.equal(t5.map((r) => `${r.protocol} ${r.guests} ${r.compared_to}`), ['tcp 0 ', 'udp 0 ', 'tcp 4 0 guests', 'udp 4 0 guests']);
  assert.equal([t5[2].p50_ratio, t5[2].p50_verdict, t5[2].min_us], [String(1_605_000 / 999_999), 'differs', '1.499']);
  assert.equal([t5[3].throughput_ratio, t5[3].throughput_p, t5[3].throughput_p_holm, t5[3].throughput_verdict], [String(612 / 600), '', '', 'too few runs']);
  // Every figure column holds numbers only, in the column's one unit.
  for (const r of rows.slice(1)) header.forEach((h, j) => /_(us|Mbps|percent|ratio|low|high|p|holm|n)$/.test(h) && r[j] !== '' && assert.ok(Number.isFinite(Number(r[j])), `${h}: ${r[j]}`));
});

test('CSV: cells with commas, quotes or line breaks are quoted', () => {
  const odd = { ...result, tables: [{ ...tables[0], id: 'table1', rows: [{ ...H1, servers: 'a,"b"\nc' as never }] }] } as PaperResult;
  const text = paperCsv(odd);
  assert.ok(text.includes('table1,1,"a,""b""\nc",host,tcp,1,100,1000.123,'), text);
  assert.is(paperCsv({ ...result, tables: [] }), `${CSV_HEADER.join(',')}\n`);
});

/** The page's figures: id, caption, SVG and the CSV its link carries. */
function figures(html: string): { id: string; caption: string; svg: string; csv: string }[] {
  return [...html.matchAll(/<figure id="([^"]+)">(<svg[\s\S]*?<\/svg>)<figcaption>([^<]*)[\s\S]*?href="data:text\/csv;charset=utf-8,([^"]*)"[\s\S]*?<\/figure>/g)]
    .map((m) => ({ id: m[1], svg: m[2], caption: m[3].trim(), csv: decodeURIComponent(m[4]) }));
}

test('HTML: the same cells in the tables, each table and figure with its CSV', () => {
  const html = paperHtml(result);
  assert.ok(html.includes('<tr><td class="l"></td><td class="l">p50 (ms)</td><td>1.23</td><td>7.65</td><td>6.22</td><td>-</td><td>10</td><td>1.8e-5</td><td>differs</td></tr>'));
  assert.ok(html.includes('<th class="l">servers</th><th class="l">figure</th><th>hostOS TCP</th><th>guestOS TCP</th><th>ratio</th>'));
  assert.ok(html.includes('<h2 id="h-table1">Table 1. Experiment 1, TCP: host OS vs UML guest, no servers running (10 blocks each)</h2>'));
  // Each table's CSV is the grid itself.
  const t1 = /<a class="csv" download="table1\.csv" href="data:text\/csv;charset=utf-8,([^"]*)"/.exec(html);
  assert.ok(t1);
  assert.equal(parseCsv(decodeURIComponent(t1![1]))[0], ['servers', 'figure', 'hostOS TCP', 'guestOS TCP', ...CMP]);
  assert.equal(parseCsv(decodeURIComponent(t1![1]))[4], ['', 'p50 (ms)', '1.23', '7.65', '6.22', '-', '10', '1.8e-5', 'differs']);
  // ...and the whole result's CSV is there once.
  const all = /download="umlperf-paper\.csv" href="data:text\/csv;charset=utf-8,([^"]*)"/.exec(html);
  assert.is(decodeURIComponent(all![1]), paperCsv(result));
  assert.match(html, /resolution 0\.385 ns,\n12\.5 ns per timestamp/);
  assert.ok(html.includes('<li>guest TCP: 280 → 196 Mbps (-30.0% [-33.5%, -26.3%]; differs, p (Holm) 0.0007)</li>'));
  assert.match(html, /<h2>What the study left open<\/h2>\n<section class="open">\n<h3>UDP vs TCP/);
  assert.not.match(html, /<pre|<script|src="http|href="http/);
  assert.not.match(html, /class="warn"/);
  assert.not.match(html, / width="640"| height="320"/, 'no fixed size: the viewBox and the page decide');
  const bad = paperHtml({ ...result, complete: false, error: 'a <b> & c', warnings: ['w<1>'] });
  assert.ok(bad.includes('<p class="warn">Incomplete: a &lt;b&gt; &amp; c. Everything shown was measured.</p>'));
  assert.ok(bad.includes('<p class="warn">Warning: w&lt;1&gt;</p>'));
});

test('HTML charts: a CCDF per experiment (log y), means with CI whiskers, guests on whole-number ticks with markers', () => {
  const html = paperHtml(result);
  const figs = figures(html);
  assert.equal(figs.map((f) => f.id), ['ccdf-e1-tcp', 'ccdf-e1-udp', 'ccdf-e2-tcp-host', 'ccdf-e2-tcp-guest', 'p50-e12-tcp', 'throughput-e12-tcp', 'p50-e12-udp', 'throughput-e12-udp', 'ccdf-e3-tcp', 'ccdf-e3-udp', 'p50-e3', 'throughput-e3']);
  assert.is((html.match(/<figure /g) ?? []).length, figs.length, 'every figure has its CSV link');
  const fig = (id: string) => figs.find((f) => f.id === id)!;
  // Experiment 1 TCP from the samples: each value with the fraction at or above it, to 1/n.
  assert.equal(parseCsv(fig('ccdf-e1-tcp').csv), [
    ['series', 'round_trip_us', 'fraction_at_or_above', 'source'],
    ['hostOS TCP', '1000', '1', 'samples'], ['hostOS TCP', '1234.567', String(2 / 3), 'samples'], ['hostOS TCP', '2000', String(1 / 3), 'samples'],
    ['guestOS TCP', '5000', '1', 'samples'], ['guestOS TCP', '7654.321', String(2 / 3), 'samples'], ['guestOS TCP', '9000', String(1 / 3), 'samples'],
  ]);
  assert.match(fig('ccdf-e1-tcp').svg, /stroke="#1f77b4" stroke-width="2" points="/);
  assert.match(fig('ccdf-e1-tcp').svg, /stroke="#d62728" stroke-width="2" points="/);
  // Log y: decades as ticks, 0.1 and 1 for fractions down to 1/3.
  assert.equal([...fig('ccdf-e1-tcp').svg.matchAll(/x="54" y="[\d.]+" text-anchor="end" font-size="12">([^<]+)</g)].map((m) => m[1]), ['0.1', '1']);
  assert.match(fig('ccdf-e1-tcp').svg, />fraction of requests at or above \(log\)</);
  // One sample only: the curve is read from the percentiles (min, p50, p90, p99, p99.9; the max at 1/count is no lower), dashed with markers, and says so.
  assert.equal(parseCsv(fig('ccdf-e1-udp').csv).slice(1, 6), [['hostOS UDP', '2000.1', '1', 'percentiles'], ['hostOS UDP', '2111.222', '0.5', 'percentiles'], ['hostOS UDP', '2455.778', '0.1', 'percentiles'], ['hostOS UDP', '2800.333', '0.01', 'percentiles'], ['hostOS UDP', '2900.3', '0.001', 'percentiles']]);
  assert.match(fig('ccdf-e1-udp').svg, /stroke-dasharray="4 3" points=/);
  assert.is((fig('ccdf-e1-udp').svg.match(/<circle /g) ?? []).length, 10);
  assert.match(html, /<figure id="ccdf-e1-udp">[\s\S]*?read from min, p50, p90, p99, p99\.9 and max/);
  assert.match(fig('ccdf-e2-tcp-guest').svg, />no server</);
  assert.match(fig('ccdf-e2-tcp-guest').svg, />dns \(BIND named\)</);
  // Bars: mean ± CI, a whisker per bar with a CI; the CSV holds the values drawn.
  const tcpBars = fig('throughput-e12-tcp');
  assert.ok(tcpBars.svg.includes('<title>exp. 1 hostOS: 942 ± 12.3</title>'));
  assert.ok(tcpBars.svg.includes('<title>exp. 1 guestOS: 123 ± 7.89</title>'));
  assert.ok(tcpBars.svg.includes('<title>dns guestOS: 196 ± 1.00</title>'));
  assert.match(tcpBars.svg, /<rect [^>]*fill="#1f77b4"><title>exp\. 1 hostOS/);
  assert.match(tcpBars.svg, /<rect [^>]*fill="#d62728"><title>exp\. 1 guestOS/);
  assert.is((tcpBars.svg.match(/class="ci"/g) ?? []).length, 6, 'a whisker per bar');
  assert.equal(parseCsv(tcpBars.csv).slice(0, 2), [['group', 'series', 'mean_Mbps', 'ci95_Mbps'], ['exp. 1', 'hostOS', '941.5', '12.25']]);
  assert.not.match(tcpBars.svg, /exp\. 1 hostOS: 654/, 'TCP bars hold TCP figures only');
  assert.ok(fig('throughput-e12-udp').svg.includes('<title>exp. 1 guestOS: 98.8 ± 0.250</title>'));
  assert.match(fig('p50-e12-tcp').svg, />p50 round trip \(µs\)</);
  // Experiment 3: whole-number ticks only, a marker per point, the CI as a whisker where there is one.
  const e3 = fig('throughput-e3').svg;
  assert.equal([...e3.matchAll(/y="261" text-anchor="(?:middle|end)" font-size="12">([^<]+)</g)].map((m) => m[1]), ['0', '1', '2', '3', '4']);
  assert.is((e3.match(/<circle /g) ?? []).length, 4);
  assert.is((e3.match(/class="ci"/g) ?? []).length, 1, 'TCP with 4 guests: ± 3 Mbps; the others have none');
  assert.equal(parseCsv(fig('throughput-e3').csv), [['series', 'guests', 'mean_Mbps', 'ci95_low_Mbps', 'ci95_high_Mbps'], ['hostOS TCP', '0', '1000', '1000', '1000'], ['hostOS TCP', '4', '700', '697', '703'], ['hostOS UDP', '0', '600', '600', '600'], ['hostOS UDP', '4', '601', '601', '601']]);
  assert.match(fig('p50-e3').svg, />guests running</);
  assert.equal(parseCsv(fig('p50-e3').csv)[2], ['hostOS TCP', '4', '1605', '1605', '1605']);
  assert.is(paperHtml({ ...result, measurements: result.measurements.filter((m) => m.experiment !== 3) }).split('<figure ').length - 1, 8);
  assert.is(paperHtml({ ...result, measurements: [] }).split('<figure ').length - 1, 0);
  assert.not.match(paperHtml({ ...result, openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] } }), /What the study left open/);
});

test('a saved result renders: NaN saved as null (p, ratio, a missing figure) gives "-" and no crash', () => {
  const saved = JSON.parse(paperJson(result, true)) as PaperResult;
  const c = saved.tables[3].comparisons[1];
  assert.is(c.p, null, 'JSON keeps NaN as null');
  saved.tables[0].comparisons[0].ratio = null as unknown as number;
  saved.tables[0].comparisons[0].p = null as unknown as number;
  saved.tables[0].comparisons[0].pHolm = null as unknown as number;
  saved.openQuestions.namedCost[0].p = null as unknown as number;
  saved.openQuestions.namedCost[0].pHolm = null as unknown as number;
  saved.tables[0].rows[0].throughputMbps.mean = null as unknown as number;
  saved.measurements[0].throughputMbps.mean = null as unknown as number;
  saved.openQuestions.hostVsGuests[0].Mbps = null as unknown as number;
  assert.equal(paperGrids(saved)[0].rows[3], ['', 'p50 (ms)', '1.23', '7.65', '-', '-', '10', '-', 'differs']);
  assert.equal(paperGrids(saved)[0].rows[8].slice(2, 4), ['-', '123 ± 7.89']);
  const t = paperText(saved);
  assert.match(t, /280 → 196 Mbps \(-30\.0% \[-33\.5%, -26\.3%\]; differs\)/);
  assert.match(t, /p50 1\.61 ms, - Mbps/);
  assert.match(t, /1\.02; n 10; too few runs/);
  const csv = parseCsv(paperCsv(saved));
  assert.is(csv[1][CSV_HEADER.indexOf('throughput_Mbps')], '');
  assert.is(csv[2][CSV_HEADER.indexOf('p50_p')], '');
  for (const r of csv) assert.is(r.length, csv[0].length);
  assert.match(paperMarkdown(saved), /\| - \| - \| 10 \| - \| differs \|/);
  const html = paperHtml(saved);
  const bars = figures(html).find((f) => f.id === 'throughput-e12-tcp')!;
  assert.not.match(bars.svg, /exp\. 1 hostOS: /, 'a bar without a value is left out');
  assert.match(bars.svg, /exp\. 1 guestOS: 123/);
  assert.not.match(html, /NaN|null/);
});

test('JSON: samples only on request; everything else kept', () => {
  const slim = JSON.parse(paperJson(result));
  assert.ok(slim.measurements.every((m: object) => !('latencySamplesNs' in m)));
  assert.equal(slim.tables, JSON.parse(JSON.stringify(result.tables)));
  const full = JSON.parse(paperJson(result, true));
  assert.equal(full.measurements[0].latencySamplesNs, [1_000_000, 1_234_567, 2_000_000]);
});
// Probe reports: one run, hand-built; times with three significant digits, one unit per column.
const clock = { source: 'tsc' as const, resolutionNs: 0.385, overheadNs: 12.5 };
const cfg = { host: '127.0.0.1', port: 7007, peer: '127.0.0.1:7007', wait: 'block' as const, cpu: null, netns: null };

test('probe response report: times in their column\'s unit, loss and rate', () => {
  const latency = { count: 3, minNs: 12_345, meanNs: 23_456, maxNs: 987_654, p50Ns: 20_001, p90Ns: 30_002, p99Ns: 40_003, p999Ns: 50_004, stddevNs: 6_005, madNs: 1, ci95Ns: 706 };
  const r = { kind: 'response', config: { ...cfg, protocol: 'udp', size: 64, iterations: 1000, warmup: 100, intervalUs: 0, timeoutMs: 200 }, clock, startedAt: '', latency, sent: 1000, received: 990, lost: 10, lossPercent: 1, stale: 0, durationNs: 1e9, requestsPerSecond: 990.4 } as unknown as ResponseTimeResult;
  const t = responseReport([r]);
  assert.match(t, /^response time: UDP 64 B to 127\.0\.0\.1:7007, wait block, 1000 requests per run \(\+100 warm-up\)\n/);
  assert.match(t, /\nclock tsc: resolution 0\.385 ns, 12\.5 ns per timestamp\n/);
  assert.match(t, /\nrun\s+min \(µs\)\s+mean \(µs\)\s+max \(µs\)\s+p50 \(µs\)\s+p90 \(µs\)\s+p99 \(µs\)\s+p99\.9 \(µs\)\s+stddev \(µs\)\s+±95% CI \(ns\)\s+lost\n/);
  assert.match(t, /\nrun 1\s+12\.3\s+23\.5\s+988\s+20\.0\s+30\.0\s+40\.0\s+50\.0\s+6\.01\s+706\s+10\n/);
  assert.match(t, /\nanswered 990 of 1000, lost 10 \(1\.000%\), 990 requests\/s$/);
  const two = responseReport([r, { ...r, latency: { ...latency, p50Ns: 30_001 } }]);
  assert.match(two, /\np50 over 2 runs: 25\.0 µs ± 63\.5 µs \(95% CI\)$/);
});

test('probe throughput and stream reports: Mbps, seconds, loss, confirmation', () => {
  const tp = { kind: 'throughput', config: { ...cfg, protocol: 'udp', size: 1472, bytes: null, durationS: 2 }, clock, startedAt: '', bytes: 123_456_789, bytesSent: 200_000_000, bytesReceived: 123_456_789, datagramsSent: 1000, datagramsReceived: 617, lost: 383, lossPercent: 38.3, durationNs: 2_000_000_001, sendDurationNs: 2e9, Mbps: 493.827, sentMbps: 800, receiverConfirmed: false } as unknown as ThroughputResult;
  const t = throughputReport([tp]);
  assert.match(t, /^throughput: UDP to 127\.0\.0\.1:7007, 1472 B per datagram, 2 s per run, wait block\n/);
  // Not confirmed by the receiver: no rate is claimed, only what was sent.
  assert.match(t, /\nrun 1\s+unconfirmed\s+800\.000\s+123456789\s+2\.000000\s+38\.300%\s+no\s+-\n/);
  assert.match(t, /\nunconfirmed by the receiver: it did not report its count/);
  const tcp = throughputReport([{ ...tp, config: { ...tp.config, protocol: 'tcp', bytes: 1000, durationS: null }, lossPercent: null, receiverConfirmed: true }, { ...tp, Mbps: 506.173, lossPercent: null, receiverConfirmed: true }]);
  assert.match(tcp, /1000 bytes per run/);
  assert.match(tcp, /\nrun 1\s+493\.827\s+800\.000\s+123456789\s+2\.000000\s+-\s+yes\n/);
  assert.match(tcp, /\nmean over 2 runs the receiver confirmed: 500\.000 ± 78\.434 Mbps \(95% CI\)$/);
  const rtt = { count: 1, minNs: 0, meanNs: 0, maxNs: 0, p50Ns: 11_111, p90Ns: 0, p99Ns: 22_222, p999Ns: 0, stddevNs: 0, madNs: 0, ci95Ns: 0 };
  const st = { kind: 'stream', config: { ...cfg, protocol: 'udp', size: 1000, targetRateMbps: 20, durationS: 1 }, clock, startedAt: '', sent: 2500, received: 2400, lost: 100, lossPercent: 4, duplicates: 3, reordered: 7, jitterNs: 4_321, durationNs: 1e9, sentMbps: 20.001, receivedMbps: 19.2, latency: rtt } as unknown as StreamingResult;
  const s = streamReport([st]);
  assert.match(s, /^streaming: UDP 1000 B through echo at 127\.0\.0\.1:7007, 20\.000 Mbps, 1 s, wait block\n/);
  assert.match(s, /\nrun 1\s+2500\s+2400\s+100\s+4\.000%\s+3\s+7\s+4\.32\s+20\.001\s+19\.200\s+11\.1\s+22\.2$/);
  const searched = streamReport([{ ...st, search: { lossThresholdPercent: 0.1, maxRateMbps: 12.5, trials: [{ targetRateMbps: 0, sentMbps: 90, receivedMbps: 10, lossPercent: 88.9, pass: false }, { targetRateMbps: 45, sentMbps: 45, receivedMbps: 12.5, lossPercent: 0.05, pass: true }] } }]);
  assert.match(searched, /rate searched/);
  assert.match(searched, /\n1\s+unpaced\s+90\.000\s+10\.000\s+88\.900%\s+no\n2\s+45\.000\s+45\.000\s+12\.500\s+0\.050%\s+yes\n/);
  assert.match(searched, /highest rate under the threshold: 12\.500 Mbps/);
  assert.match(streamReport([{ ...st, config: { ...st.config, targetRateMbps: 0 } }]), /, unpaced, /);
});

test('preamble: CPUs, the experiment 2 note only with experiment 2, warnings', () => {
  const t = paperText(result).split('\n');
  assert.is(t[2], 'probes on CPU any, guests and servers on CPU any');
  assert.is(t[4], 'mail is Postfix in the role qmail had in the study (qmail is not packaged for current Debian)');
  assert.is(t[5], 'experiment 2 runs on the Debian image with 128M guests; its "no server" rows are the baseline for the servers');
  assert.is(t[6], '');
  const pinned = paperText({ ...result, config: { ...result.config, probeCpu: 3, labCpus: '0-1', experiments: [1, 3] } }).split('\n');
  assert.is(pinned[2], 'probes on CPU 3, guests and servers on CPU 0-1');
  // Without experiment 2 there is no mail server to speak of.
  assert.is(pinned[4], '');
  assert.not.ok(pinned.some((l) => l.includes('Postfix')));
  assert.is(paperText({ ...result, complete: false, warnings: ['w'] }).split('\n')[6], 'INCOMPLETE: stopped part-way; everything below was measured');
  assert.is(paperText({ ...result, warnings: ['w1', 'w2'] }).split('\n').filter((l) => l.startsWith('warning: ')).length, 2);
  const bare = paperText({ ...result, tables: [], openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] } });
  assert.ok(bare.endsWith('baseline for the servers\n\n'), JSON.stringify(bare.slice(-60)));
  const md = paperMarkdown({ ...result, openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] } });
  assert.not.match(md, /What the study left open/);
  assert.match(md, /\n- probes on CPU any, guests and servers on CPU any\n/);
  assert.match(md, /\n## Table 5\. Experiment 3: the host OS measured while UML guests run \(comparisons: against the fewest guests\) \(10 blocks each\)\n\n\| guests \| figure \| hostOS TCP/);
  assert.ok(md.endsWith('|\n'));
  assert.match(paperText(result), /\nTable 5\. Experiment 3[^\n]*\nguests {2}/);
});

test('open questions: the reading of the UDP figures and the named verdicts', () => {
  const lines = paperText(result).split('\n');
  const at = lines.indexOf('UDP vs TCP ("TCP faster but unstable, UDP slower but stable"):');
  assert.ok(at > 0);
  assert.is(lines[at + 3], '  An unpaced UDP sender outruns the receiver and what arrives is capped by loss, not by the link: the "stable" UDP figure is the receiver\'s ceiling. Compare the loss-free rate.');
  assert.is(lines[at + 4], 'What running named costs (throughput, named running vs no server, both on the Debian image):');
  assert.is(lines[at + 6], 'The host against the number of guests running:');
  const q = (pHolm: number, changePercent: number, verdict: 'differs' | 'no effect beyond noise') => paperText({ ...result, openQuestions: { ...result.openQuestions, namedCost: [{ side: 'host', protocol: 'udp', noneMbps: 100, namedMbps: 100 + changePercent, changePercent, changeCi95LowPercent: changePercent - 1, changeCi95HighPercent: changePercent + 1, p: pHolm / 4, pHolm, floorPercent: 3.25, verdict }] } });
  assert.match(q(0.05, 0, 'no effect beyond noise'), /\n {2}host UDP: 100 → 100 Mbps \(\+0\.0% \[-1\.0%, \+1\.0%\]; no effect beyond noise \(±3\.3%\), p \(Holm\) 0\.0500\)\n/);
  assert.match(q(0.0499, 5.5, 'differs'), /\(\+5\.5% \[\+4\.5%, \+6\.5%\]; differs, p \(Holm\) 0\.0499\)/);
  assert.match(q(0.2, -0.04, 'no effect beyond noise'), /\(-0\.0% \[-1\.0%, \+1\.0%\]; no effect beyond noise \(±3\.3%\), p \(Holm\) 0\.2000\)/);
  const g = paperGrids({ ...result, tables: [{ ...tables[0], comparisons: [{ ...tables[0].comparisons[0], p: 0.00002, pHolm: 0.0001 }] }] })[0];
  assert.is(g.rows[3][7], '0.0001');
  assert.is(g.rows[8][8], '', 'no comparison, no verdict');
});
test('probe report headings and column names', () => {
  const stats = { count: 1, minNs: 1, meanNs: 1, maxNs: 1, p50Ns: 1, p90Ns: 1, p99Ns: 1, p999Ns: 1, stddevNs: 0, madNs: 0, ci95Ns: 0 };
  const r = { kind: 'response', config: { ...cfg, netns: 'lab-client', protocol: 'tcp', size: 64, iterations: 10, warmup: 1, intervalUs: 0, timeoutMs: 1 }, clock, startedAt: '', latency: stats, sent: 0, received: 0, lost: 0, lossPercent: 0, stale: 0, durationNs: 1, requestsPerSecond: 10 } as unknown as ResponseTimeResult;
  const t = responseReport([r, { ...r, requestsPerSecond: 30 }]).split('\n');
  assert.is(t[0], 'response time: TCP 64 B to 127.0.0.1:7007 (netns lab-client), wait block, 10 requests per run (+1 warm-up)');
  assert.match(t[2], /^run\s+min \(ns\)\s+mean \(ns\)\s+max \(ns\)\s+p50 \(ns\)\s+p90 \(ns\)\s+p99 \(ns\)\s+p99\.9 \(ns\)\s+stddev \(µs\)\s+±95% CI \(µs\)\s+lost$/);
  assert.match(t[5], /answered 0 of 0, lost 0 \(0\.000%\), 20 requests\/s/);
  const tp = { kind: 'throughput', config: { ...cfg, netns: 'ns1', protocol: 'tcp', size: 8, bytes: null, durationS: 1 }, clock, startedAt: '', bytes: 1, bytesSent: 1, bytesReceived: null, datagramsSent: null, datagramsReceived: null, lost: null, lossPercent: null, durationNs: 1, sendDurationNs: 1, Mbps: 1, sentMbps: 1, receiverConfirmed: false } as unknown as ThroughputResult;
  const tt = throughputReport([tp]).split('\n');
  assert.is(tt[0], 'throughput: TCP to 127.0.0.1:7007 (netns ns1), 8 B per write, 1 s per run, wait block');
  assert.match(tt[2], /^\s+Mbps\s+sent Mbps\s+bytes\s+seconds\s+loss\s+receiver confirmed$/);
  assert.is(tt[4], 'the receiver did not close after our FIN: figures are what was sent');
  assert.is(throughputReport([{ ...tp, receiverConfirmed: true }]).split('\n').length, 4);
  // The mean is over the runs the receiver confirmed only: one confirmed run gives none.
  assert.is(throughputReport([{ ...tp, receiverConfirmed: true }, { ...tp, receiverConfirmed: false }]).split('\n').length, 6);
  assert.match(throughputReport([{ ...tp, receiverConfirmed: true }, { ...tp, receiverConfirmed: false, Mbps: 99 }, { ...tp, receiverConfirmed: true }]),
    /\nmean over 2 runs the receiver confirmed: 1\.000 ± 0\.000 Mbps \(95% CI\)\n/);
  const rtt = { ...stats };
  const st = { kind: 'stream', config: { ...cfg, netns: 'ns2', protocol: 'udp', size: 100, targetRateMbps: 0, durationS: 1 }, clock, startedAt: '', sent: 1, received: 1, lost: 0, lossPercent: 0, duplicates: 0, reordered: 0, jitterNs: 0, durationNs: 1, sentMbps: 1, receivedMbps: 1, latency: rtt, search: { lossThresholdPercent: 0.1, maxRateMbps: 1, trials: [] } } as unknown as StreamingResult;
  const s = streamReport([st]).split('\n');
  assert.is(s[0], 'streaming: UDP 100 B through echo at 127.0.0.1:7007 (netns ns2), rate searched, 1 s, wait block');
  assert.is(s[2], 'run 1: search for the highest rate with loss ≤ 0.1%');
  assert.match(s[3], /^trial\s+target Mbps\s+sent Mbps\s+received Mbps\s+loss\s+pass$/);
  assert.match(s[s.length - 2], /^run\s+sent\s+received\s+lost\s+loss\s+dup\s+reordered\s+jitter \(µs\)\s+sent Mbps\s+recv Mbps\s+rtt p50 \(ns\)\s+rtt p99 \(ns\)$/);
});

test.run();
