// Reports pinned cell by cell: a hand-built result with a distinct value in every place, so a
// swapped side, a wrong unit or a dropped column shows in text, Markdown, CSV and HTML alike.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Comparison, Measurement, PaperResult, PaperTable, TableRow } from '../src/paper/model.js';
import type { ResponseTimeResult, StreamingResult, ThroughputResult } from '../src/probes.js';
import { paperGrids } from '../src/report/paper-grid.js';
import { paperHtml } from '../src/report/paper-html.js';
import { paperCsv, paperJson, paperMarkdown, paperText } from '../src/report/paper.js';
import { responseReport, streamReport, throughputReport } from '../src/report/probe.js';
import { fixed, mbps, ms, pct, table, us } from '../src/report/table.js';

type Fig = { min: number; mean: number; max: number; p50: number; p99: number; mbps: number; ci: number; send?: number; loss?: number };

function row(side: 'host' | 'guest', protocol: 'tcp' | 'udp', servers: TableRow['servers'], guests: number, f: Fig): TableRow {
  return {
    side, protocol, servers, guests,
    latency: { count: 100, minNs: f.min, meanNs: f.mean, maxNs: f.max, p50Ns: f.p50, p90Ns: f.p99, p99Ns: f.p99, p999Ns: f.max },
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

test('units at their boundaries: ns → µs → ms, three decimals, and "-" for a missing figure', () => {
  assert.is(us(999), '0.999');
  assert.is(us(1_000), '1.000');
  assert.is(us(1_234_567), '1234.567');
  assert.is(ms(999_999), '1.000');
  assert.is(ms(1_000_000), '1.000');
  assert.is(ms(1_234_567), '1.235');
  assert.is(ms(1_499), '0.001');
  assert.is(ms(400), '0.000');
  assert.is(ms(12_345_678_901), '12345.679');
  assert.is(mbps(941.5), '941.500');
  assert.is(pct(2.5), '2.500%');
  assert.is(fixed(null, 2), '-');
  assert.is(fixed(NaN, 2), '-');
  assert.is(fixed(Infinity, 2), '-');
  assert.is(ms(null as unknown as number), '-');
  assert.is(us(NaN), '-');
});

test('plain tables: first columns left, the rest right-aligned, two spaces apart', () => {
  assert.is(table(['a', 'bb', 'c'], [['xxx', '1', '22'], ['y', '333', '4']], 1), 'a     bb   c\nxxx    1  22\ny    333   4');
  assert.is(table(['a', 'b'], [['xx', 'y']], 2), 'a   b\nxx  y');
});

test('grid: host and guest in their own columns; response in ms; ratio and verdict', () => {
  const g = paperGrids(result).find((x) => x.id === 'table1')!;
  assert.equal(g.header, ['', '', 'hostOS TCP', 'guestOS TCP', 'guest/host [95% CI]', 'verdict']);
  assert.is(g.title, 'Experiment 1, TCP: host OS vs UML guest, no servers running (10 blocks each)');
  assert.equal(g.rows[0], ['', 'Response min, avg, max (ms)', '1.000, 1.100, 9.877', '5.000, 7.000, 20.000', '', '']);
  assert.equal(g.rows[1], ['', 'Response p50, p99 (ms)', '1.235, 3.457', '7.654, 12.346', '6.220', 'differs (Holm p=1.8e-5)']);
  assert.equal(g.rows[2], ['', 'Throughput (Mbps, ±95% CI)', '941.500 ± 12.250', '123.456 ± 7.891', '0.131', 'differs (Holm p=0.0432)']);
  assert.is(g.rows.length, 3, 'no UDP row in a TCP table');
  const u = paperGrids(result).find((x) => x.id === 'table2')!;
  assert.equal(u.header.slice(2, 4), ['hostOS UDP', 'guestOS UDP']);
  assert.equal(u.rows[1].slice(2), ['2.111, 2.800', '6.222, 6.800', '2.947', 'no effect beyond noise (Holm p=0.5000)']);
  assert.equal(u.rows[2].slice(4), ['', ''], 'no throughput comparison given: empty cells');
  assert.equal(u.rows[3], ['', 'UDP sent (Mbps), loss', '1000.500 sent, 2.50% lost', '800.250 sent, 86.13% lost', '', '']);
});

test('grid: experiment 2 labels each server, comparisons land on their own server', () => {
  assert.equal(gridRow('table3', 'no server', 'Response min, avg, max (ms)'), ['no server', 'Response min, avg, max (ms)', '0.000, 0.000, 0.000', '0.000, 0.000, 0.000', '', '']);
  assert.equal(gridRow('table3', 'dns (BIND named)', 'Response min, avg, max (ms)')[0], 'dns (BIND named)');
  assert.equal(gridRow('table3', '*', 'Throughput (Mbps, ±95% CI)', 0).slice(2), ['850.000 ± 1.000', '280.000 ± 1.000', '', '']);
  assert.equal(gridRow('table3', '*', 'Throughput (Mbps, ±95% CI)', 1).slice(2), ['840.000 ± 1.000', '196.000 ± 1.000', '0.233', 'differs (Holm p=0.0010)']);
});

test('grid: table 5 has TCP and UDP columns per guest count, ratios against the fewest', () => {
  const g = paperGrids(result).find((x) => x.id === 'table5')!;
  assert.equal(g.header, ['guests', '', 'hostOS TCP', 'hostOS UDP', 'TCP vs fewest', 'UDP vs fewest']);
  assert.equal(g.rows[0], ['0', 'Response min, avg, max (ms)', '0.001, 0.001, 0.001', '0.001, 0.001, 0.001', '', '']);
  assert.equal(g.rows[1], ['', 'Response p50, p99 (ms)', '1.000, 1.000', '0.001, 0.001', '', '']);
  assert.equal(g.rows[3], ['', 'UDP sent (Mbps), loss', '', '900.000 sent, 1.00% lost', '', '']);
  assert.equal(g.rows[5], ['', 'Response p50, p99 (ms)', '1.605, 2.000', '0.001, 0.001', '1.605, differs (Holm p=0.0200)', '']);
  assert.equal(g.rows[6], ['', 'Throughput (Mbps, ±95% CI)', '700.000 ± 3.000', '601.000 ± 0.000', '', '1.020, too few runs']);
  assert.is(g.rows[4][0], '4');
});

test('text report: the grid laid out, the preamble and the open questions', () => {
  const t = paperText(result);
  assert.match(t, /^umlperf paper: the study's experiments on \/usr\/bin\/linux\.uml 6\.1, transport vector, image minimal-x\n/);
  assert.match(t, /\n10 blocks per figure, sides in random order per block \(seed -\), an A\/A control per experiment; response 100 B × 1000; throughput 0\.5 s per block \(UDP 1472 B datagrams, unpaced\)\n/);
  assert.match(t, /clock tsc: resolution 0\.385 ns, 12\.5 ns per timestamp/);
  assert.match(t, /\nTable 1\. Experiment 1, TCP: host OS vs UML guest, no servers running \(10 blocks each\)\n/);
  const line = t.split('\n').find((l) => l.includes('Response p50, p99') && l.includes('1.235'))!;
  assert.match(line, /^\s+Response p50, p99 \(ms\)\s{2,}1\.235, 3\.457\s{2,}7\.654, 12\.346\s{2,}6\.220\s{2,}differs \(Holm p=1\.8e-5\)$/);
  assert.match(t, /\n {2}host: TCP 941\.5 Mbps; UDP sent unpaced at 1000\.5 Mbps, 2\.5% lost, 654\.3 Mbps arrived; highest rate with < 0\.1% loss: 512\.3 Mbps\n/);
  assert.match(t, /\n {2}guest: TCP 123\.5 Mbps; UDP sent unpaced at 800\.3 Mbps, 86\.1% lost, 98\.8 Mbps arrived\n/);
  assert.match(t, /\n {2}guest TCP: 280\.0 → 196\.0 Mbps \(-30\.0% \[-33\.5%, -26\.3%\]; differs, Holm p=0\.0007\)\n/);
  assert.match(t, /\n {2}TCP with 4 guest\(s\): p50 1\.605 ms, 700\.0 Mbps\n$/);
  assert.not.match(t, /INCOMPLETE/);
  assert.match(paperText({ ...result, complete: false, error: 'interrupted', warnings: ['g1 retried'] }), /\nINCOMPLETE: interrupted; everything below was measured\nwarning: g1 retried\n/);
});

test('Markdown: the same cells, escaped, one table per study table', () => {
  const md = paperMarkdown(result);
  assert.match(md, /^# umlperf paper\n\n- umlperf paper: the study's/);
  assert.ok(md.includes('\n| | | hostOS TCP | guestOS TCP | guest/host [95% CI] | verdict |\n|---|---|---|---|---|---|\n'.replace('| | |', '|  |  |')), md.slice(0, 900));
  assert.ok(md.includes('\n|  | Response p50, p99 (ms) | 1.235, 3.457 | 7.654, 12.346 | 6.220 | differs (Holm p=1.8e-5) |\n'));
  assert.ok(md.includes('\n| 4 | Response min, avg, max (ms) | 0.001, 0.002, 0.002 | 0.001, 0.001, 0.001 |  |  |\n'));
  assert.is((md.match(/^## Table \d/gm) ?? []).length, 4);
  assert.match(md, /\n## What the study left open\n\n```\n/);
  const piped = paperMarkdown({ ...result, config: { ...result.config, image: 'a|b' } });
  assert.match(piped, /image a\|b/);
  const g = paperMarkdown({ ...result, tables: [{ ...tables[0], rows: [{ ...H1, servers: 'none' }, G1] }] });
  assert.is(g.split('\n').filter((l) => l.startsWith('|')).length, 2 + 3);
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

test('CSV: every line as many fields as the header; exact cells; integer ns', () => {
  const rows = parseCsv(paperCsv(result));
  const header = rows[0];
  assert.equal(header, ['table', 'experiment', 'side', 'protocol', 'servers', 'guests', 'minNs', 'meanNs', 'maxNs', 'p50Ns', 'p99Ns', 'throughputMbps', 'throughputCi95Mbps', 'udpSentMbps', 'udpLossPercent']);
  for (const r of rows) assert.is(r.length, header.length, r.join(','));
  assert.is(rows.length, 1 + 2 + 2 + 4 + 4);
  const at = (i: number) => Object.fromEntries(header.map((h, j) => [h, rows[i][j]]));
  assert.equal(at(1), { table: 'table1', experiment: '1', side: 'host', protocol: 'tcp', servers: 'none', guests: '1', minNs: '1000123', meanNs: '1100456', maxNs: '9876543', p50Ns: '1234567', p99Ns: '3456789', throughputMbps: '941.500', throughputCi95Mbps: '12.250', udpSentMbps: '', udpLossPercent: '' });
  assert.equal(at(2).p50Ns, '7654321');
  assert.equal(at(2).side, 'guest');
  assert.equal([at(4).side, at(4).udpSentMbps, at(4).udpLossPercent, at(4).throughputMbps], ['guest', '800.250', '86.126', '98.765']);
  assert.equal([at(7).servers, at(12).guests, at(12).protocol], ['dns', '4', 'udp']);
  const quoted = parseCsv(paperCsv({ ...result, tables: [{ ...tables[0], id: 'table1' }] }));
  assert.is(quoted.length, 3);
});

test('HTML: the same cells in the tables; charts keep host and guest apart', () => {
  const html = paperHtml(result);
  assert.ok(html.includes('<tr><td></td><td>Response p50, p99 (ms)</td><td>1.235, 3.457</td><td>7.654, 12.346</td><td>6.220</td><td>differs (Holm p=1.8e-5)</td></tr>'));
  assert.ok(html.includes('<th>hostOS TCP</th><th>guestOS TCP</th>'));
  assert.ok(html.includes('<h2>Table 1. Experiment 1, TCP: host OS vs UML guest, no servers running (10 blocks each)</h2>'));
  assert.ok(html.includes('<title>exp. 1 hostOS: 941.500 ± 12.250</title>'));
  assert.ok(html.includes('<title>exp. 1 guestOS: 123.456 ± 7.891</title>'));
  assert.ok(html.includes('<title>dns (BIND named) guestOS: 196.000 ± 1.000</title>'));
  assert.match(html, /<rect [^>]*fill="#1f77b4"><title>exp\. 1 hostOS/);
  assert.match(html, /<rect [^>]*fill="#d62728"><title>exp\. 1 guestOS/);
  assert.match(html, /<polyline fill="none" stroke="#1f77b4"[^>]*points="[^"]+"\/>/);
  assert.is((html.match(/<svg /g) ?? []).length, 6);
  assert.match(html, /resolution 0\.385 ns,\n12\.5 ns per timestamp/);
  assert.ok(html.includes('guest TCP: 280.0 → 196.0 Mbps (-30.0% [-33.5%, -26.3%]; differs, Holm p=0.0007)'), html.slice(html.indexOf('guest TCP: 280'), html.indexOf('guest TCP: 280') + 120));
  assert.not.match(html, /class="warn"/);
  const bad = paperHtml({ ...result, complete: false, error: 'a <b> & c', warnings: ['w<1>'] });
  assert.ok(bad.includes('<p class="warn">Incomplete: a &lt;b&gt; &amp; c. Everything shown was measured.</p>'));
  assert.ok(bad.includes('<p class="warn">Warning: w&lt;1&gt;</p>'));
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
  const t = paperText(saved);
  assert.match(t, /Response p50, p99 \(ms\)\s+1\.235, 3\.457\s+7\.654, 12\.346\s+-\s+differs\n/);
  assert.match(t, /Throughput \(Mbps, ±95% CI\)\s+- ± 12\.250/);
  assert.match(t, /280\.0 → 196\.0 Mbps \(-30\.0% \[-33\.5%, -26\.3%\]; differs\)/);
  assert.match(t, /p50 1\.605 ms, - Mbps/);
  assert.match(t, /1\.020, too few runs/);
  const csv = parseCsv(paperCsv(saved));
  assert.is(csv[1][11], '');
  for (const r of csv) assert.is(r.length, csv[0].length);
  assert.match(paperMarkdown(saved), /\| - \| differs \|/);
  const html = paperHtml(saved);
  assert.not.match(html, /exp\. 1 hostOS: (941|-|null|0\.000)/, 'a bar without a value is left out');
  assert.match(html, /exp\. 1 hostOS: 654\.321/);
  assert.match(html, /exp\. 1 guestOS: 123\.456/);
});

test('JSON: samples only on request; everything else kept', () => {
  const slim = JSON.parse(paperJson(result));
  assert.ok(slim.measurements.every((m: object) => !('latencySamplesNs' in m)));
  assert.equal(slim.tables, JSON.parse(JSON.stringify(result.tables)));
  const full = JSON.parse(paperJson(result, true));
  assert.equal(full.measurements[0].latencySamplesNs, [1_000_000, 1_234_567, 2_000_000]);
});

// Probe reports: one run, hand-built, every cell in µs.
const clock = { source: 'tsc' as const, resolutionNs: 0.385, overheadNs: 12.5 };
const cfg = { host: '127.0.0.1', port: 7007, peer: '127.0.0.1:7007', wait: 'block' as const, cpu: null, netns: null };

test('probe response report: µs cells from ns, loss and rate', () => {
  const latency = { count: 3, minNs: 12_345, meanNs: 23_456, maxNs: 987_654, p50Ns: 20_001, p90Ns: 30_002, p99Ns: 40_003, p999Ns: 50_004, stddevNs: 6_005, madNs: 1, ci95Ns: 706 };
  const r = { kind: 'response', config: { ...cfg, protocol: 'udp', size: 64, iterations: 1000, warmup: 100, intervalUs: 0, timeoutMs: 200 }, clock, startedAt: '', latency, sent: 1000, received: 990, lost: 10, lossPercent: 1, stale: 0, durationNs: 1e9, requestsPerSecond: 990.4 } as unknown as ResponseTimeResult;
  const t = responseReport([r]);
  assert.match(t, /^response time: UDP 64 B to 127\.0\.0\.1:7007, wait block, 1000 requests per run \(\+100 warm-up\)\n/);
  assert.match(t, /\nclock tsc: resolution 0\.385 ns, 12\.5 ns per timestamp\n/);
  assert.match(t, /\nrun 1\s+12\.345\s+23\.456\s+987\.654\s+20\.001\s+30\.002\s+40\.003\s+50\.004\s+6\.005\s+0\.706\s+10\n/);
  assert.match(t, /\nanswered 990 of 1000, lost 10 \(1\.000%\), 990 requests\/s$/);
  const two = responseReport([r, { ...r, latency: { ...latency, p50Ns: 30_001 } }]);
  assert.match(two, /\np50 over 2 runs: 25\.001 ± 63\.530 µs \(95% CI\)$/);
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
  assert.match(s, /\nrun 1\s+2500\s+2400\s+100\s+4\.000%\s+3\s+7\s+4\.321\s+20\.001\s+19\.200\s+11\.111\s+22\.222$/);
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
  assert.is(pinned[5], '');
  assert.is(paperText({ ...result, complete: false, warnings: ['w'] }).split('\n')[6], 'INCOMPLETE: stopped part-way; everything below was measured');
  assert.is(paperText({ ...result, warnings: ['w1', 'w2'] }).split('\n').filter((l) => l.startsWith('warning: ')).length, 2);
  const bare = paperText({ ...result, tables: [], openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] } });
  assert.ok(bare.endsWith('baseline for the servers\n\n'), JSON.stringify(bare.slice(-60)));
  const md = paperMarkdown({ ...result, openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] } });
  assert.not.match(md, /What the study left open/);
  assert.match(md, /\n- probes on CPU any, guests and servers on CPU any\n/);
  assert.match(md, /\n## Table 5\. Experiment 3: the host OS measured while UML guests run \(comparisons: against the fewest guests\) \(10 blocks each\)\n\n\| guests \|  \| hostOS TCP/);
  assert.ok(md.endsWith('|\n'));
  assert.match(paperText(result), /\nTable 5\. Experiment 3[^\n]*\nguests {2}/);
});

test('open questions: the reading of the UDP figures and the named verdicts', () => {
  const lines = paperText(result).split('\n');
  const at = lines.indexOf('UDP vs TCP ("TCP faster but unstable, UDP slower but stable"):');
  assert.ok(at > 0);
  assert.is(lines[at + 3], '  An unpaced UDP sender outruns the receiver and what arrives is capped by loss, not by the');
  assert.is(lines[at + 4], '  link: the "stable" UDP figure is the receiver\'s ceiling. Compare the loss-free rate.');
  assert.is(lines[at + 5], 'What running named costs (throughput, named running vs no server, both on the Debian image):');
  assert.is(lines[at + 7], 'The host against the number of guests running:');
  const q = (pHolm: number, changePercent: number, verdict: 'differs' | 'no effect beyond noise') => paperText({ ...result, openQuestions: { ...result.openQuestions, namedCost: [{ side: 'host', protocol: 'udp', noneMbps: 100, namedMbps: 100 + changePercent, changePercent, changeCi95LowPercent: changePercent - 1, changeCi95HighPercent: changePercent + 1, p: pHolm / 4, pHolm, floorPercent: 3.25, verdict }] } });
  assert.match(q(0.05, 0, 'no effect beyond noise'), /\n {2}host UDP: 100\.0 → 100\.0 Mbps \(\+0\.0% \[-1\.0%, \+1\.0%\]; no effect beyond noise \(±3\.3%\), Holm p=0\.0500\)\n/);
  assert.match(q(0.0499, 5.5, 'differs'), /\(\+5\.5% \[\+4\.5%, \+6\.5%\]; differs, Holm p=0\.0499\)/);
  assert.match(q(0.2, -0.04, 'no effect beyond noise'), /\(-0\.0% \[-1\.0%, \+1\.0%\]; no effect beyond noise \(±3\.3%\), Holm p=0\.2000\)/);
  const g = paperGrids({ ...result, tables: [{ ...tables[0], comparisons: [{ ...tables[0].comparisons[0], p: 0.00002, pHolm: 0.0001 }] }] })[0];
  assert.is(g.rows[1][5], 'differs (Holm p=0.0001)');
  assert.is(g.rows[2][5], '', 'no comparison, no verdict');
});

test('CSV: cells with commas, quotes or line breaks are quoted', () => {
  const odd = { ...result, tables: [{ ...tables[0], id: 'table1', rows: [{ ...H1, servers: 'a,"b"\nc' as never }] }] } as PaperResult;
  const text = paperCsv(odd);
  assert.ok(text.includes(',host,tcp,"a,""b""\nc",1,1000123,'), text);
  assert.is(paperCsv({ ...result, tables: [] }), 'table,experiment,side,protocol,servers,guests,minNs,meanNs,maxNs,p50Ns,p99Ns,throughputMbps,throughputCi95Mbps,udpSentMbps,udpLossPercent\n');
});

test('HTML charts: a CDF per protocol (host blue, guest red), throughput bars per protocol, host under guests', () => {
  const html = paperHtml(result);
  const figures = [...html.matchAll(/<figcaption>([^<]*)<\/figcaption>/g)].map((m) => m[1]);
  assert.equal(figures, [
    'Response time distribution, TCP, host vs guest (experiment 1)',
    'Response time distribution, UDP, host vs guest (experiment 1)',
    'Throughput, TCP, mean ± 95% CI (experiments 1, 2)',
    'Throughput, UDP (what arrived), mean ± 95% CI (experiments 1, 2)',
    'Host response p50 against guests running (experiment 3)',
    'Host throughput against guests running (experiment 3)',
  ]);
  const svgs = html.split('<figure>').slice(1);
  // TCP CDF: host 3 samples + the closing point, guest likewise; in µs on a log axis.
  const lines = [...svgs[0].matchAll(/<polyline fill="none" stroke="([^"]+)" stroke-width="2" points="([^"]+)"\/>/g)].map((m) => [m[1], m[2].split(' ').length]);
  assert.equal(lines, [['#1f77b4', 4], ['#d62728', 4]]);
  // Each line holds its own side's samples: the guest's highest (9000 µs) ends at the right edge.
  const ends = [...svgs[0].matchAll(/points="[^"]* ([\d.]+),16\.0"\/>/g)].map((m) => Number(m[1]));
  assert.is(ends.length, 2);
  assert.ok(ends[0] < 600 && ends[1] === 624, `line ends at x ${ends}`);
  assert.match(svgs[0], /fill="#1f77b4"\/><text x="510" y="31" font-size="11">hostOS TCP<\/text>/);
  assert.match(svgs[0], /fill="#d62728"\/><text x="510" y="47" font-size="11">guestOS TCP<\/text>/);
  assert.match(svgs[0], />round trip \(µs, log scale\)</);
  assert.match(svgs[0], />fraction of requests</);
  // The highest sample is reached at fraction 1, at the top of the plot (y 16).
  assert.match(svgs[0], /points="[^"]* 624\.0,16\.0"\/>/);
  assert.match(svgs[2], /<title>no server hostOS: 850\.000 ± 1\.000<\/title>/);
  assert.match(svgs[2], />Mbit\/s</);
  assert.not.match(svgs[2], /exp\. 1 hostOS: 654/, 'TCP bars hold TCP figures only');
  assert.match(svgs[3], /<title>exp\. 1 guestOS: 98\.765 ± 0\.250<\/title>/);
  const e3 = [...svgs[4].matchAll(/<polyline fill="none" stroke="([^"]+)" stroke-width="2" points="([^"]+)"\/>/g)].map((m) => [m[1], m[2]]);
  // Host p50 in µs against guests 0 and 4: TCP 999.999 → 1605 µs, UDP 0.65 → 0.651 µs.
  assert.equal(e3.map((x) => x[0]), ['#1f77b4', '#2ca02c']);
  assert.is(e3[0][1], '64.0,112.5 624.0,16.0');
  // In µs: the axis runs 0..1605, ticks every 500.
  assert.match(svgs[4], /font-size="11">1500<\/text>/);
  assert.match(svgs[5], /font-size="11">1000<\/text>/);
  assert.match(svgs[4], />hostOS UDP</);
  assert.match(svgs[4], />p50 round trip \(µs\)</);
  assert.match(svgs[5], />guests running</);
  assert.is(paperHtml({ ...result, measurements: result.measurements.filter((m) => m.experiment !== 3) }).split('<figure>').length - 1, 4);
  assert.is(paperHtml({ ...result, measurements: [] }).split('<figure>').length - 1, 0);
  assert.not.match(paperHtml({ ...result, openQuestions: { udpVsTcp: [], namedCost: [], hostVsGuests: [], rateSearches: [] } }), /What the study left open/);
  assert.match(html, /<h2>What the study left open<\/h2><pre>UDP vs TCP/);
  assert.match(html, /<tbody><tr><td><\/td><td>Response min, avg, max \(ms\)<\/td>/);
  assert.match(html, /<\/td><\/tr>\n<tr><td><\/td><td>Response p50, p99 \(ms\)/);
});

test('probe report headings and column names', () => {
  const stats = { count: 1, minNs: 1, meanNs: 1, maxNs: 1, p50Ns: 1, p90Ns: 1, p99Ns: 1, p999Ns: 1, stddevNs: 0, madNs: 0, ci95Ns: 0 };
  const r = { kind: 'response', config: { ...cfg, netns: 'lab-client', protocol: 'tcp', size: 64, iterations: 10, warmup: 1, intervalUs: 0, timeoutMs: 1 }, clock, startedAt: '', latency: stats, sent: 0, received: 0, lost: 0, lossPercent: 0, stale: 0, durationNs: 1, requestsPerSecond: 10 } as unknown as ResponseTimeResult;
  const t = responseReport([r, { ...r, requestsPerSecond: 30 }]).split('\n');
  assert.is(t[0], 'response time: TCP 64 B to 127.0.0.1:7007 (netns lab-client), wait block, 10 requests per run (+1 warm-up)');
  assert.match(t[2], /^µs\s+min\s+avg\s+max\s+p50\s+p90\s+p99\s+p99\.9\s+stddev\s+±95%\s+lost$/);
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
  assert.match(s[s.length - 2], /^\s+sent\s+received\s+lost\s+loss\s+dup\s+reordered\s+jitter µs\s+sent Mbps\s+recv Mbps\s+rtt p50 µs\s+rtt p99 µs$/);
});

test.run();
