// tune's pure parts: the plan, the score, the Pareto front, the knob that mattered, and the
// rendered reports (text and HTML) of a result built by hand.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { BUILTIN_NET, netEffect, parseNetLine } from '../src/lab/net-config.js';
import { clearGain, knobThatMattered, netLine, paretoFront, RESPONSE_RUNS, responseFigures, stepCandidates, tunePlan, tuneScore, withKnob, type KnobStep, type TuneFigures, type TuneRow } from '../src/tune/model.js';
import { tuneHtml, tuneText } from '../src/report/tune.js';
import type { TuneResult } from '../src/tune/run.js';
import { envelope, resultProblems } from '../src/result/envelope.js';
import { tempDir } from './helpers.js';

const fig = (o: Partial<TuneFigures> = {}): TuneFigures => ({
  forwardMbps: 1000, reverseMbps: 1000, tcpP50Ns: 50_000, tcpP99Ns: 200_000, udpP50Ns: 40_000, udpP99Ns: 150_000, udpLossFreeMbps: 100, ...o,
});

test('the plan: quick has fewer knobs; transport after the vector knobs; CPU placement only with 2+ CPUs; offloads only with ethtool', () => {
  const q = tunePlan({ quick: true, cpuCount: 2 }).map((s) => s.knob);
  const f = tunePlan({ quick: false, cpuCount: 2, ethtool: true }).map((s) => s.knob);
  assert.ok(q.length < f.length);
  assert.ok(q.indexOf('transport') > q.indexOf('mtu'));
  assert.ok(q.includes('cpus'));
  assert.not.ok(tunePlan({ quick: true, cpuCount: 1 }).some((s) => s.knob === 'cpus'));
  assert.ok(tunePlan({ quick: true, cpuCount: 2 }).some((s) => s.knob === 'rps'), 'rps with two CPUs or more');
  assert.not.ok(tunePlan({ quick: true, cpuCount: 1 }).some((s) => s.knob === 'rps'));
  assert.not.ok(tunePlan({ cpuCount: 2, ethtool: false }).some((s) => s.knob === 'hostOffload'));
  assert.ok(f.includes('hostOffload'));
  assert.ok(f.indexOf('tcpRmem') > f.indexOf('sockbuf') && !q.includes('tcpRmem'), 'the full sweep tries the kernel\'s TCP receive ceiling');
  assert.not.ok(tunePlan({ transports: ['tap'] }).some((s) => s.knob === 'transport'));
  assert.not.ok(f.includes('gro'), 'gro=0 is known to collapse TCP into the guest');
});

test('a step measures only new effects: not the vector options on tuntap, not tcpRmem under a larger sockbuf, not the current value', () => {
  const fresh = (c: typeof BUILTIN_NET) => new Map([[netEffect(c, 2), netLine(c)]]);
  const lines = (cs: (typeof BUILTIN_NET)[]) => cs.map((c) => `${c.depth}/${c.mtu}/${c.tcpRmem}/${c.vec}`);
  const step = (c: typeof BUILTIN_NET, knob: KnobStep['knob'], values: KnobStep['values'], measured = fresh(c), cpus = 2) => stepCandidates(c, { knob, values }, measured, cpus);
  const t = parseNetLine('transport=tuntap');
  assert.equal(step(t, 'depth', [0, 128, 256]), { candidates: [], same: [] }, 'depth is the vector driver\'s');
  assert.equal(step(t, 'vec', [true, false]).candidates, []);
  assert.equal(step(t, 'mtu', [1500, 4000, 9000]).candidates, [], 'tuntap takes 1500 at most');
  assert.equal(step(t, 'sockbuf', [0, 4 << 20]).candidates.map((c) => c.sockbuf), [4 << 20]);
  // tcpRmem: the larger of it and sockbuf applies, so under sockbuf=4MiB the step makes no new lab, and says so.
  const big = parseNetLine('sockbuf=4MiB');
  assert.equal(step(big, 'tcpRmem', [0, 4 << 20]), { candidates: [], same: [{ line: 'sockbuf=4MiB,tcpRmem=0', as: 'sockbuf=4MiB' }] });
  const small = parseNetLine('sockbuf=1MiB');
  assert.equal(step(small, 'tcpRmem', [0, 4 << 20]).candidates.map((c) => c.tcpRmem), [0]);
  assert.equal(lines(step(BUILTIN_NET, 'depth', [0, 128, 256]).candidates), ['128/1500/4194304/true', '256/1500/4194304/true']);
  // An effect measured in an earlier step is not measured again; nor twice within a step.
  const seen = new Map([[netEffect(BUILTIN_NET, 2), 'builtin'], [netEffect(parseNetLine('depth=128'), 2), 'depth=128']]);
  assert.equal(lines(step(BUILTIN_NET, 'depth', [128, 256, 256], seen).candidates), ['256/1500/4194304/true']);
  // rps's effect depends on the CPUs: with one, it steers nothing.
  assert.equal(step(BUILTIN_NET, 'rps', [false, true], fresh(BUILTIN_NET), 1), { candidates: [], same: [{ line: 'rps=1', as: 'builtin' }] });
  assert.is(step(BUILTIN_NET, 'rps', [false, true]).candidates.length, 1);
  const c = withKnob(parseNetLine('mtu=9000,depth=256,sockbuf=4MiB'), 'transport', 'tuntap');
  assert.is(c.mtu, 1500);
  assert.is(c.depth, 0);
  assert.is(c.sockbuf, 4 << 20);
});

test('response figures: one run caught by a guest stall does not carry the p99; a tail in every run does', () => {
  const run = (p50: number, p99: number) => ({ p50Ns: p50, p99Ns: p99 });
  assert.is(RESPONSE_RUNS, 3);
  assert.equal(responseFigures([run(90_000, 200_000), run(95_000, 8_700_000), run(92_000, 210_000)]), { p50Ns: 92_000, p99Ns: 210_000 });
  assert.equal(responseFigures([run(90_000, 9_500_000), run(95_000, 9_400_000), run(92_000, 9_600_000)]), { p50Ns: 92_000, p99Ns: 9_500_000 });
  // So a stalled run no longer sinks a configuration's score against a clean reference.
  const ref = fig();
  const stalledOnce = fig({ tcpP99Ns: responseFigures([run(50_000, 200_000), run(50_000, 8_700_000), run(50_000, 190_000)]).p99Ns });
  assert.ok(Math.abs(tuneScore(stalledOnce, ref) - 1) < 1e-12);
});

test('the score: 1 against itself, up with throughput, down with latency, bounded per figure', () => {
  const ref = fig();
  assert.ok(Math.abs(tuneScore(ref, ref) - 1) < 1e-12);
  assert.ok(tuneScore(fig({ forwardMbps: 2000 }), ref) > 1);
  assert.ok(tuneScore(fig({ tcpP50Ns: 100_000 }), ref) < 1);
  // Doubling every figure's goodness doubles the score.
  assert.ok(Math.abs(tuneScore(fig({ forwardMbps: 2000, reverseMbps: 2000, udpLossFreeMbps: 200, tcpP50Ns: 25_000, udpP50Ns: 20_000 }), ref) - 2) < 1e-9);
  // A failed UDP search (0) against one that found 100 Mbit/s counts 4× at most.
  const s = tuneScore(fig({ udpLossFreeMbps: 0 }), ref);
  assert.ok(Math.abs(s - 0.25 ** 0.2) < 1e-9, String(s));
  assert.ok(Number.isFinite(tuneScore(fig({ udpLossFreeMbps: 0 }), fig({ udpLossFreeMbps: 0 }))));
});

test('the score: a p99 beyond twice the reference divides it by the excess, at most 4× per protocol', () => {
  const ref = fig();
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
  // Within twice the reference: no effect (a p99 varies ~1.4× between runs of one configuration).
  near(tuneScore(fig({ udpP99Ns: 290_000, tcpP99Ns: 390_000 }), ref), 1);
  // Three times: 2/3; forty times (rps=1's UDP tail): the floor of 1/4.
  near(tuneScore(fig({ udpP99Ns: 450_000 }), ref), 2 / 3);
  near(tuneScore(fig({ udpP99Ns: 6_000_000 }), ref), 0.25);
  // Both protocols' tails count.
  near(tuneScore(fig({ udpP99Ns: 6_000_000, tcpP99Ns: 8_000_000 }), ref), 1 / 16);
  // Throughput 1.3× both ways does not buy a UDP tail 40× the reference's.
  assert.ok(tuneScore(fig({ forwardMbps: 1300, reverseMbps: 1300, udpP99Ns: 6_000_000 }), ref) < 1);
  // A better tail earns nothing: only throughput and p50 raise a score.
  near(tuneScore(fig({ udpP99Ns: 10_000, tcpP99Ns: 10_000 }), ref), 1);
});

test('the Pareto front counts the worse of TCP and UDP p99', () => {
  const rows = [
    row('a', fig({ forwardMbps: 1000, reverseMbps: 1000, tcpP99Ns: 100, udpP99Ns: 100 })),
    // More throughput and a better TCP p99, but a UDP tail far worse than a's: both stay.
    row('b', fig({ forwardMbps: 1300, reverseMbps: 1300, tcpP99Ns: 90, udpP99Ns: 9000 })),
    // Beaten by a: its UDP p99 is worse, though its TCP p99 is better than a's.
    row('c', fig({ forwardMbps: 900, reverseMbps: 900, tcpP99Ns: 50, udpP99Ns: 200 })),
  ];
  assert.equal(paretoFront(rows), [0, 1]);
});

const row = (knob: string, f: TuneFigures, score?: number): TuneRow => ({ knob, line: knob, config: BUILTIN_NET, figures: f, score });

test('the Pareto front: rows no other beats on both throughput and p99', () => {
  const rows = [
    row('a', fig({ forwardMbps: 1000, reverseMbps: 1000, tcpP99Ns: 100, udpP99Ns: 10 })),
    row('b', fig({ forwardMbps: 2000, reverseMbps: 2000, tcpP99Ns: 200, udpP99Ns: 10 })),
    row('c', fig({ forwardMbps: 900, reverseMbps: 900, tcpP99Ns: 300, udpP99Ns: 10 })),  // beaten by a and b
    row('d', fig({ forwardMbps: 2000, reverseMbps: 2000, tcpP99Ns: 250, udpP99Ns: 10 })), // beaten by b
    { knob: 'e', line: 'e', config: BUILTIN_NET, error: 'failed' },
  ];
  assert.equal(paretoFront(rows), [0, 1]);
});

test('the knob that mattered: the widest spread of scores, counting the row it started from', () => {
  const step = (knob: string, stepScore: number): TuneRow => ({ ...row(knob, fig(), 1), stepScore });
  const rows = [row('baseline', fig(), 1), step('mtu', 1.6), row('again', fig(), 3), step('sockbuf', 1.2), step('sockbuf', 0.8), step('depth', 1.05), row('confirm', fig(), 9)];
  const m = knobThatMattered(rows)!;
  assert.is(m.knob, 'mtu');
  assert.ok(Math.abs(m.spread - 1.6) < 1e-9);
  // A knob whose values are all worse than its step's start matters too.
  assert.is(knobThatMattered([step('mtu', 1.2), step('qdisc', 0.5)])!.knob, 'qdisc');
  assert.is(knobThatMattered([row('baseline', fig(), 1)]), undefined);
  assert.ok(clearGain([1.2, 1.3]));
  assert.not.ok(clearGain([1.2, 1.05]));
  assert.not.ok(clearGain([]));
});

test('reports: the table names the winner line and the knob; the HTML page has both charts and escapes text', () => {
  const rows = [row('baseline', fig(), 1), { ...row('mtu', fig({ forwardMbps: 3000 }), 1.3), line: 'mtu=9000', pareto: true }, { knob: 'depth', line: 'depth=256', config: BUILTIN_NET, error: 'guest <g1> failed' }];
  const r: TuneResult = {
    ...envelope('tune', '2026-01-01T00:00:00.000Z'), clock: { source: 'clock_monotonic_raw', resolutionNs: 1, overheadNs: 20 }, config: { quick: true, transports: ['tap'], reference: 'default', loadAverage: [3, 2, 1], cpus: 2 },
    rows, pareto: [1], winner: { line: 'mtu=9000', config: parseNetLine('mtu=9000'), score: 1.3 }, mattered: { knob: 'mtu', spread: 1.3 },
    skipped: ['hostOffload: ethtool is not installed on this host'], truncated: false, durationMs: 1000,
  };
  assert.equal(resultProblems(JSON.parse(JSON.stringify(r))), [], 'the result conforms to the published schema');
  assert.ok(resultProblems({ ...r, rows: [{ ...rows[0], figures: { forwardMbps: '1' } }] }).length > 0, 'the schema checks the rows');
  const t = tuneText(r);
  assert.match(t, /Use: umlperf lab up --net mtu=9000/);
  // How the loss-free rate was measured: one way since the result says so, else through the echo.
  assert.match(t, /UDP loss-free: .* through the guest's echo service/);
  const oneWay = { ...r, config: { ...r.config, udpLossFree: 'one-way' as const } };
  assert.equal(resultProblems(JSON.parse(JSON.stringify(oneWay))), []);
  assert.match(tuneText(oneWay), /UDP loss-free: .* of 1472-byte datagrams into the guest's discard service .* as the receiver counted it/);
  // Since datagrams follow the configuration's MTU, the result says so, and the text too.
  const mtuSized = { ...oneWay, config: { ...oneWay.config, udpDatagram: 'mtu' as const } };
  assert.equal(resultProblems(JSON.parse(JSON.stringify(mtuSized))), []);
  assert.match(tuneText(mtuSized), /UDP loss-free: the highest rate of datagrams of the configuration's MTU - 28 bytes \(1472 at 1500\) into/);
  assert.ok(resultProblems({ ...r, config: { ...r.config, udpLossFree: 'echo' } }).length > 0, 'only one-way is a value');
  // Response time from several runs: the result says how many, and the text says what its figures are.
  assert.not.match(tuneText(mtuSized), /median over/, 'an older result made one run');
  const medianOf3 = { ...mtuSized, config: { ...mtuSized.config, responseRuns: 3 } };
  assert.equal(resultProblems(JSON.parse(JSON.stringify(medianOf3))), []);
  assert.match(tuneText(medianOf3), /p50 and p99: the median over 3 response-time runs per protocol/);
  assert.match(t, /knob that mattered most: mtu/);
  assert.match(t, /2\*\s+mtu\s+mtu=9000\s+3\.00G/);
  assert.match(t, /failed: guest <g1> failed/);
  assert.match(t, /load average 3 2 1/);
  const h = tuneHtml(r);
  assert.is((h.match(/<svg /g) ?? []).length, 2);
  assert.match(h, /TCP throughput per configuration/);
  assert.match(h, /p99 per configuration/);
  assert.match(h, /guest &lt;g1&gt; failed/);
  assert.not.match(h, /<script/);
  layoutCheck(h);
});

/**
 * Renders the page in headless Chromium at a narrow width, with a check script appended to a
 * copy: no element wider than the viewport, both charts visible with a size.
 */
function layoutCheck(html: string): void {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  if (!chromium) throw new Error('chromium is not installed: apt-get install chromium');
  const dir = tempDir(path.join(tmpdir(), 'umlperf-tune-html-'));
  try {
    const file = path.join(dir, 'tune.html');
    const check = `<script>addEventListener('load', () => {
      const w = document.documentElement.clientWidth, bad = [];
      for (const e of document.querySelectorAll('body *')) {
        const r = e.getBoundingClientRect();
        if (r.right > w + 1 && !e.closest('.table')) bad.push(e.tagName + ' ' + Math.round(r.right));
      }
      const svgs = [...document.querySelectorAll('svg')].map((s) => s.getBoundingClientRect()).filter((r) => r.width > 100 && r.height > 50);
      const out = document.createElement('pre');
      out.id = 'layout';
      out.textContent = 'LAYOUT wide=' + bad.length + ' charts=' + svgs.length + ' scroll=' + (document.documentElement.scrollWidth > w ? 1 : 0) + ' ' + bad.slice(0, 3).join(';');
      document.body.appendChild(out);
    });</script>`;
    writeFileSync(file, html.replace('</body>', `${check}</body>`));
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--window-size=600,2000', '--virtual-time-budget=3000'];
    const dom = spawnSync(chromium, [...args, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    assert.is(dom.status, 0, dom.stderr);
    const m = /LAYOUT wide=(\d+) charts=(\d+) scroll=(\d)([^<]*)/.exec(dom.stdout);
    assert.ok(m, 'the check ran');
    assert.is(m![1], '0', `elements wider than the viewport: ${m![4]}`);
    assert.is(m![2], '2', 'both charts visible');
    assert.is(m![3], '0', 'no horizontal scroll');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test.run();
