// The paper pipeline and its report formats, on a loopback stage (two endpoints standing in for
// host and guest): what the tables, JSON schema, CSV, Markdown and HTML contain.
import { copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startEndpoint, type Endpoint } from '../src/endpoint.js';
import type { PaperResult } from '../src/paper/model.js';
import { runPaper } from '../src/paper/run.js';
import type { Stage } from '../src/paper/stage.js';
import { paperHtml } from '../src/report/paper-html.js';
import { renderPaper } from '../src/report/render.js';
import { resultProblems } from '../src/result/envelope.js';
import { findChromium, pngSize, renderAt } from './chromium.js';
import { paperFixture } from './fixtures/paper-result.js';
import { paperCsv, paperJson, paperMarkdown, paperText } from '../src/report/paper.js';
import { pairedRatio } from '../src/paper/paired.js';
import { mean } from '../src/stats.js';
import { tempDir } from './helpers.js';

class LoopbackStage implements Stage {
  arranged: { servers: string; guests: number; experiment: number }[] = [];
  closed = false;
  constructor(private host: Endpoint, private guest: Endpoint) {}
  async arrange(step: { experiment: 1 | 2 | 3; servers: 'none' | 'www' | 'dns' | 'mail'; guests: number }) {
    this.arranged.push({ servers: step.servers, guests: step.guests, experiment: step.experiment });
  }
  target(side: 'host' | 'guest') {
    const ep = side === 'host' ? this.host : this.guest;
    return { host: '127.0.0.1', echoPort: ep.echoPort, discardPort: ep.discardPort };
  }
  describe() {
    return { transport: 'loopback', kernel: 'host', image: 'none', labCpus: null };
  }
  async close() {
    this.closed = true;
  }
}

let host: Endpoint;
let guest: Endpoint;
let result: PaperResult;
let stage: LoopbackStage;

test.before(async () => {
  host = await startEndpoint({ port: 0 });
  guest = await startEndpoint({ port: 0 });
  stage = new LoopbackStage(host, guest);
  result = await runPaper(stage, { runs: 3, guestsSweep: [0, 2], responseIterations: 200, throughputSeconds: 0.05 });
});
test.after(async () => {
  await host.close();
  await guest.close();
});

test('runs all three experiments and closes the stage', () => {
  assert.ok(result.complete, result.error);
  assert.ok(stage.closed);
  // Every condition of an experiment once per block (3 blocks), then experiment 1 again for the rate search.
  const seen = (e: number) => [...new Set(stage.arranged.filter((x) => x.experiment === e).map((x) => `${x.servers}/${x.guests}`))].sort();
  assert.equal(stage.arranged.map((x) => x.experiment).sort(), [1, 1, 1, 1, ...Array(12).fill(2), ...Array(6).fill(3)]);
  assert.is(stage.arranged.at(-1)!.experiment, 1);
  assert.equal(seen(2), ['dns/1', 'mail/1', 'none/1', 'www/1']);
  assert.equal(seen(3), ['none/0', 'none/2']);
});

test('JSON schema: tables 1-5 with side, servers, guests, response and throughput', () => {
  const j = JSON.parse(paperJson(result));
  assert.equal(j.tables.map((t: { id: string }) => t.id), ['table1', 'table2', 'table3', 'table4', 'table5']);
  for (const t of j.tables) {
    for (const r of t.rows) {
      assert.ok(['host', 'guest'].includes(r.side));
      assert.ok(['none', 'www', 'dns', 'mail'].includes(r.servers));
      assert.type(r.guests, 'number');
      for (const k of ['minNs', 'meanNs', 'maxNs', 'p50Ns', 'p99Ns']) assert.ok(Number.isInteger(r.latency[k]), k);
      assert.type(r.throughputMbps.mean, 'number');
      assert.type(r.throughputMbps.ci95, 'number');
      assert.ok(r.latency.minNs <= r.latency.p50Ns && r.latency.p50Ns <= r.latency.maxNs);
    }
  }
  assert.is(j.tables[0].rows.length, 2);
  assert.is(j.tables[2].rows.length, 8, 'no server and three servers, × two sides');
  assert.is(j.tables[4].rows.length, 4, 'two guest counts × two protocols');
  assert.ok(j.tables[4].rows.every((r: { side: string }) => r.side === 'host'));
  assert.ok(j.measurements.every((m: object) => !('latencySamplesNs' in m)), 'samples only on request');
});

test('comparisons read host and guest from their own measurements, per run', () => {
  for (const t of result.tables.filter((x) => x.id !== 'table5')) {
    assert.ok(t.comparisons.length > 0, t.id);
    for (const c of t.comparisons.filter((x) => !x.aa)) {
      const m = (side: string) => result.measurements.find((x) => x.experiment === t.experiment && x.protocol === c.protocol && x.servers === c.servers && x.side === side)!;
      const runs = (side: string) => (c.metric === 'throughput' ? m(side).throughputRunsMbps : m(side).latencyRunP50Ns);
      assert.is(runs('host').length, 3);
      assert.is(c.host, mean(runs('host')), `${t.id} ${c.servers} ${c.metric} host`);
      assert.is(c.guest, mean(runs('guest')), `${t.id} ${c.servers} ${c.metric} guest`);
      assert.is(c.p, pairedRatio(runs('host'), runs('guest')).p, 'paired by block');
    }
  }
  // The two loopback endpoints stand in for host and guest, so each side's probes went to its
  // own endpoint: one TCP connection per response and per throughput probe of a TCP cell.
  const tcpProbes = (side: string) => result.measurements.filter((m) => m.side === side && m.protocol === 'tcp').length * 3 * 2;
  assert.is(guest.stats().tcpConnections, tcpProbes('guest'));
  // ...and the host endpoint twice per block in each experiment's first step (the A/A control).
  assert.is(host.stats().tcpConnections, tcpProbes('host') + 3 * 3 * 2, 'A/A in experiments 1, 2 and 3');
  assert.is(tcpProbes('guest'), 5 * 3 * 2, 'experiments 1 and 2: five steps, three runs, two probes');
});

test('open questions carry the figures of the cells they name', () => {
  const q = result.openQuestions;
  const m = (e: number, side: string, protocol: string, servers = 'none') => result.measurements.find((x) => x.experiment === e && x.side === side && x.protocol === protocol && x.servers === servers)!;
  assert.equal(q.udpVsTcp.map((u) => u.side), ['host', 'guest']);
  for (const u of q.udpVsTcp) {
    assert.is(u.tcpMbps, m(1, u.side, 'tcp').throughputMbps.mean);
    assert.is(u.udpReceivedMbps, m(1, u.side, 'udp').throughputMbps.mean);
    assert.is(u.lossFreeRateMbps, q.rateSearches.find((s) => s.side === u.side)!.maxRateMbps);
  }
  for (const n of q.namedCost) {
    assert.is(n.noneMbps, m(2, n.side, n.protocol).throughputMbps.mean, 'against experiment 2 without servers');
    assert.is(n.namedMbps, m(2, n.side, n.protocol, 'dns').throughputMbps.mean);
  }
  assert.equal(q.hostVsGuests.map((h) => `${h.protocol} ${h.guests}`), ['tcp 0', 'tcp 2', 'udp 0', 'udp 2']);
});

test('terminal tables: the study layout, one figure per row with its unit, three significant digits', () => {
  const t = paperText(result);
  assert.match(t, /Table 1\. Experiment 1, TCP/);
  assert.match(t, /servers\s+figure\s+hostOS TCP\s+guestOS TCP\s+ratio\s+ratio 95% CI\s+n \(blocks\)\s+p \(Holm\)\s+verdict/);
  for (const f of ['min', 'mean', 'p50', 'p99', 'p99.9', 'max']) assert.match(t, new RegExp(`\\n\\s+${f.replace('.', '\\.')} \\((ns|µs|ms)\\)\\s+\\d[\\d.]*\\s+\\d[\\d.]*`), f);
  // Three significant digits: the host and guest cells of every time row.
  const cells = t.split('\n').filter((l) => /\((ns|µs|ms)\)/.test(l)).flatMap((l) => l.replace(/^.*\((ns|µs|ms)\)/, '').trim().split(/\s{2,}/).slice(0, 2));
  assert.ok(cells.length >= 5 * 7 * 2, `${cells.length} time cells`);
  for (const c of cells) assert.ok(c === '-' || (/^\d+(\.\d+)?$/.test(c) && c.replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length <= 3), c);
  assert.match(t, /throughput ± 95% CI \(Mbps\)/);
  assert.match(t, /mail \(Postfix\)/);
  assert.match(t, /Table 5\. Experiment 3/);
  assert.match(t, /UDP vs TCP/);
});

test('CSV: a header with a unit per figure column, one line per table row, every percentile the result holds', () => {
  const lines = paperCsv(result).trim().split('\n');
  const rows = result.tables.reduce((n, t) => n + t.rows.length, 0);
  assert.is(lines.length, rows + 1);
  assert.match(lines[0], /^table,experiment,servers,side,protocol,guests,responses,min_us,mean_us,p50_us,p90_us,p99_us,p99\.9_us,max_us,throughput_Mbps,/);
  assert.match(lines[1], /^table1,1,none,host,tcp,1,600,\d+(\.\d+)?,/);
  const header = lines[0].split(',');
  for (const l of lines.slice(1)) {
    const cells = l.split(',');
    for (const k of ['min_us', 'p50_us', 'p99_us', 'p99.9_us', 'max_us', 'throughput_Mbps']) assert.ok(Number.isFinite(Number(cells[header.indexOf(k)])) && cells[header.indexOf(k)] !== '', `${k} in ${l}`);
  }
});

test('Markdown: a table per study table', () => {
  const md = paperMarkdown(result);
  assert.is((md.match(/^## Table \d/gm) ?? []).length, 5);
  assert.match(md, /\|---\|---\|/);
});

test('an interrupted run keeps what it measured and says so', async () => {
  const ac = new AbortController();
  const s = new LoopbackStage(host, guest);
  // Interrupted as the third round begins: two blocks of each experiment done, a third of neither.
  const p = runPaper(s, { runs: 5, responseIterations: 200, throughputSeconds: 0.05, experiments: [1, 2], signal: ac.signal, progress: (l) => l.startsWith('step 5/') && ac.abort() });
  const r = await p;
  assert.is(r.complete, false);
  assert.is(r.error, 'interrupted');
  assert.ok(s.closed);
  assert.ok(r.tables.some((t) => t.id === 'table1'), 'experiment 1 was kept');
  assert.ok(r.tables.some((t) => t.id === 'table3'), 'experiment 2 was kept');
  assert.is(r.measurements.length, 2 * 2 + 4 * 2 * 2);
  for (const m of r.measurements) assert.equal([m.latencyRunP50Ns.length, m.throughputRunsMbps.length], [2, 2], `${m.experiment} ${m.side} ${m.servers}`);
});

test('HTML of a measured result: self-contained, every chart laid out in headless Chromium', () => {
  const html = paperHtml(result);
  assert.not.match(html, /<script|src="http|href="http/);
  const charts = (html.match(/<svg /g) ?? []).length;
  // A CCDF per protocol in experiments 1 and 3, per protocol and side in experiment 2; p50 and
  // throughput bars per protocol; experiment 3's two lines.
  assert.is(charts, 2 + 4 + 4 + 2 + 2);
  const dir = tempDir(path.join(tmpdir(), 'umlperf-html-'));
  try {
    const l = renderAt(findChromium(), dir, html, 1280);
    assert.is(l.charts.length, charts, 'every chart is in the rendered page');
    for (const c of l.charts) assert.ok(c.width > 200 && c.height > 100, JSON.stringify(c));
    assert.equal(l.wide, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The representative result (all experiments, experiment 4, missing p-values) at a desktop and a
 * phone width. UMLPERF_KEEP_SCREENSHOTS=DIR keeps the screenshots there to be looked at.
 */
test('HTML layout at 1280 and 400 px: nothing wider than the viewport, every chart drawn inside its frame, the open questions inside their box', () => {
  // The fixture is a result as a run saves it: valid against the published schema.
  assert.equal(resultProblems(JSON.parse(JSON.stringify(paperFixture()))), []);
  const html = renderPaper(paperFixture({ samples: false }), 'html');
  const withSamples = renderPaper(paperFixture(), 'html');
  assert.is(paperHtml(paperFixture()), withSamples, 'the library\'s paperHtml carries experiment 4 as the CLI does');
  assert.match(withSamples, /<h1>Experiment 4: a buggy guest and its neighbours<\/h1>[\s\S]*<h2>Table 6\. A buggy guest/);
  const expected = (withSamples.match(/<svg [^>]*class="chart"/g) ?? []).length;
  assert.is(expected, 14 + 6, 'the study\'s 14 and experiment 4\'s six (three faults, two passes)');
  assert.is((html.match(/<svg [^>]*class="chart"/g) ?? []).length, expected);
  const chromium = findChromium();
  const dir = tempDir(path.join(tmpdir(), 'umlperf-layout-'));
  const keep = process.env.UMLPERF_KEEP_SCREENSHOTS;
  try {
    for (const [name, page] of [['samples', withSamples], ['percentiles', html]] as const) {
      for (const width of [1280, 400]) {
        const png = path.join(dir, `paper-${name}-${width}.png`);
        const l = renderAt(chromium, dir, page, width, png);
        const at = `${name} at ${width} px`;
        assert.is(l.viewport, width, `${at}: the frame is the viewport`);
        assert.ok(l.pageWidth <= width, `${at}: the page is ${l.pageWidth} px wide`);
        assert.equal(l.wide, [], `${at}: elements reaching past the viewport`);
        assert.equal(l.wideBoxes, [], `${at}: a scroll box reaching past the viewport`);
        assert.is(l.charts.length, expected, at);
        for (const c of l.charts) {
          assert.ok(c.width >= Math.min(300, width - 40) && c.height > 150, `${at}: ${c.id} is ${c.width}×${c.height}`);
          assert.ok(c.left >= 0 && c.right <= width, `${at}: ${c.id} spans ${c.left}..${c.right}`);
          assert.ok(c.inViewBox, `${at}: ${c.id} draws outside its frame: ${c.outside.join(' | ')}`);
          assert.is(c.ciOverLegend, 0, `${at}: ${c.id} has whiskers over its legend`);
        }
        assert.ok(l.charts.reduce((n, c) => n + c.ciCount, 0) >= 4 * 10 + 2 * 8, `${at}: whiskers on every bar and guest point`);
        assert.ok(l.openBox && l.openBox.width <= width && l.openBox.height > 50, `${at}: the open-questions block ${JSON.stringify(l.openBox)}`);
        assert.equal(l.openOverflow, [], `${at}: text overflowing the open-questions block`);
        assert.is(l.csvLinks.length, expected, `${at}: one figure per chart`);
        for (const c of l.csvLinks) assert.match(c.href, /^data:text\/csv;charset=utf-8,[^,]*%2C/, `${at}: ${c.figure} has its data as CSV`);
        const size = pngSize(png);
        assert.equal(size, { width: Math.max(width, 500), height: l.shotHeight }, `${at}: the screenshot`);
        assert.is(l.shotHeight, Math.ceil(l.pageHeight), `${at}: the whole page is in the screenshot`);
        if (keep) copyFileSync(png, path.join(keep, path.basename(png)));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the layout check fails on a page that overflows: a wide block and a preformatted open-questions line', () => {
  const long = 'x'.repeat(300);
  const bad = renderPaper(paperFixture({ samples: false }), 'html')
    .replace('<section class="open">', `<section class="open"><pre>${long}</pre>`)
    .replace('<h2>Charts</h2>', '<h2>Charts</h2><div style="width:900px">fixed</div>')
    .replace(/class="chart"/, 'class="chart" style="max-width:none;width:640px"');
  const dir = tempDir(path.join(tmpdir(), 'umlperf-layout-'));
  try {
    const l = renderAt(findChromium(), dir, bad, 400);
    assert.ok(l.wide.some((w) => w.startsWith('div ')), l.wide.join(', '));
    assert.ok(l.wide.some((w) => w.startsWith('svg.chart')), 'a fixed-width chart is caught');
    assert.ok(l.openOverflow.includes('pre'), l.openOverflow.join(', '));
    assert.ok(l.pageWidth > 400);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
