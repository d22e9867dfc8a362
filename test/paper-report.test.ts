// The paper pipeline and its report formats, on a loopback stage (two endpoints standing in for
// host and guest): what the tables, JSON schema, CSV, Markdown and HTML contain.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startEndpoint, type Endpoint } from '../src/endpoint.js';
import type { PaperResult } from '../src/paper/model.js';
import { runPaper } from '../src/paper/run.js';
import type { Stage } from '../src/paper/stage.js';
import { paperHtml } from '../src/report/paper-html.js';
import { paperCsv, paperJson, paperMarkdown, paperText } from '../src/report/paper.js';
import { pairedRatio } from '../src/paper/paired.js';
import { mean } from '../src/stats.js';

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

test('runs all three experiments in order and closes the stage', () => {
  assert.ok(result.complete, result.error);
  assert.ok(stage.closed);
  assert.equal(stage.arranged, [
    { servers: 'none', guests: 1, experiment: 1 },
    { servers: 'none', guests: 1, experiment: 2 },
    { servers: 'www', guests: 1, experiment: 2 },
    { servers: 'dns', guests: 1, experiment: 2 },
    { servers: 'mail', guests: 1, experiment: 2 },
    { servers: 'none', guests: 0, experiment: 3 },
    { servers: 'none', guests: 2, experiment: 3 },
  ]);
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

test('terminal tables: the study layout in ms with µs decimals', () => {
  const t = paperText(result);
  assert.match(t, /Table 1\. Experiment 1, TCP/);
  assert.match(t, /hostOS TCP\s+guestOS TCP/);
  assert.match(t, /Response min, avg, max \(ms\)\s+\d+\.\d{3}, \d+\.\d{3}, \d+\.\d{3}/);
  assert.match(t, /Throughput \(Mbps, ±95% CI\)/);
  assert.match(t, /mail \(Postfix\)/);
  assert.match(t, /Table 5\. Experiment 3/);
  assert.match(t, /UDP vs TCP/);
});

test('CSV: a header and one line per table row', () => {
  const lines = paperCsv(result).trim().split('\n');
  const rows = result.tables.reduce((n, t) => n + t.rows.length, 0);
  assert.is(lines.length, rows + 1);
  assert.match(lines[0], /^table,experiment,side,protocol,servers,guests,minNs/);
  assert.match(lines[1], /^table1,1,host,tcp,none,1,\d+/);
});

test('Markdown: a table per study table', () => {
  const md = paperMarkdown(result);
  assert.is((md.match(/^## Table \d/gm) ?? []).length, 5);
  assert.match(md, /\|---\|---\|/);
});

test('an interrupted run keeps what it measured and says so', async () => {
  const ac = new AbortController();
  const s = new LoopbackStage(host, guest);
  const p = runPaper(s, { runs: 5, responseIterations: 200, throughputSeconds: 0.05, experiments: [1, 2], signal: ac.signal, progress: (l) => l.includes('experiment 2') && ac.abort() });
  const r = await p;
  assert.is(r.complete, false);
  assert.is(r.error, 'interrupted');
  assert.ok(s.closed);
  assert.ok(r.tables.some((t) => t.id === 'table1'), 'experiment 1 was kept');
});

test('HTML: self-contained, renders in headless Chromium with its charts', () => {
  const html = paperHtml(result);
  assert.not.match(html, /<script|src="http|href="http/);
  assert.is((html.match(/<svg /g) ?? []).length, 6);
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  if (!chromium) throw new Error('chromium is not installed: apt-get install chromium (.ci/run installs it)');
  const dir = mkdtempSync(path.join(tmpdir(), 'umlperf-html-'));
  try {
    const file = path.join(dir, 'paper.html');
    writeFileSync(file, html);
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`];
    const dom = spawnSync(chromium, [...args, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    assert.is(dom.status, 0, dom.stderr);
    assert.is((dom.stdout.match(/<svg /g) ?? []).length, 6, 'every chart is in the rendered DOM');
    assert.match(dom.stdout, /<polyline/);
    const png = path.join(dir, 'shot.png');
    const shot = spawnSync(chromium, [...args, `--screenshot=${png}`, '--window-size=1200,2400', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    assert.is(shot.status, 0, shot.stderr);
    assert.ok(readFileSync(png).length > 10_000, 'a screenshot with content');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
