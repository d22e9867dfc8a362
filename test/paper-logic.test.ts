// The study's logic on synthetic runs with known effects: stand-in probes return figures that
// depend only on the address they were sent to and on the step the stage arranged, so every
// cell, comparison, baseline and verdict has one right value. No network, no guests.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blockOrder, type Probes } from '../src/paper/experiments.js';
import type { Experiment, Measurement, PaperResult, ServerRole, Side } from '../src/paper/model.js';
import { checkPaperOptions, runPaper } from '../src/paper/run.js';
import type { Stage } from '../src/paper/stage.js';
import { noiseFloor, pairedRatio } from '../src/paper/paired.js';
import { allowedCpus } from '../src/cpus.js';
import { defaultPlacement, placementFor } from '../src/paper/placement.js';
import { buildTables, judge, measureRatio, openQuestions } from '../src/paper/tables.js';
import { paperText } from '../src/report/paper.js';
import { packageRoot } from '../src/native.js';
import type { ResponseTimeResult, ThroughputResult } from '../src/probes.js';
import { mean, prng } from '../src/stats.js';

const HOST = '198.18.0.1';
const GUEST = '198.18.0.11';
const ECHO = 7007;
const DISCARD = 7008;
const RUNS = 10;

interface Step {
  experiment: Experiment;
  servers: ServerRole;
  guests: number;
}

/** A stage that arranges nothing and records every step and every side it was asked for. */
class RecordingStage implements Stage {
  steps: Step[] = [];
  asked: Side[] = [];
  closed = false;
  step: Step | undefined;
  async arrange(step: Step) {
    this.step = step;
    this.steps.push(step);
  }
  target(side: Side) {
    this.asked.push(side);
    return { netns: 'synthetic-client', host: side === 'host' ? HOST : GUEST, echoPort: ECHO, discardPort: DISCARD };
  }
  labCpus: string | null = null;
  describe() {
    return { transport: 'synthetic', kernel: 'none', image: 'none', labCpus: this.labCpus };
  }
  async close() {
    this.closed = true;
  }
}

// Distinct figures per side and protocol, far apart, so a swap shows.
const P50 = { host: { tcp: 1_234_567, udp: 2_345_678 }, guest: { tcp: 7_654_321, udp: 8_765_432 } };
const MBPS = { host: { tcp: 900, udp: 800 }, guest: { tcp: 300, udp: 200 } };
const SEND_MBPS = { host: 1000, guest: 950 };
const LOSS = { host: 1.5, guest: 60 };
const SEARCH = { host: 500, guest: 50 };

/**
 * Effects, as factors on the figures. Experiment 2's no-server step sits 10% below
 * experiment 1, so reading a server's cost against the wrong baseline shows. Relative to it,
 * www costs 2% ("differs slightly"), dns (named) 30% ("differs"), mail nothing ("no evidence").
 * Experiment 3: the host under N guests against 0 guests.
 */
const SERVER_EFFECT: Record<ServerRole, number> = { none: 0.9, www: 0.9 * 0.98, dns: 0.9 * 0.7, mail: 0.9 };
const GUEST_EFFECT: Record<number, number> = { 0: 1, 1: 1, 2: 1.02, 4: 1.3, 8: 1.049, 16: 1.051 };
const SWEEP = [0, 1, 2, 4, 8, 16];

// Per-run spread of ±0.45%, in a different order where an effect is "none" so the two sides
// interleave instead of coinciding.
const jitter = (run: number, shuffled: boolean) => 1 + 0.001 * (((shuffled ? run * 3 + 1 : run) % 10) - 4.5);
const shuffledStep = (s: Step) => (s.experiment === 2 && s.servers === 'mail') || (s.experiment === 3 && s.guests === 1);

function factor(s: Step, metric: 'response' | 'throughput'): number {
  if (s.experiment === 2) return metric === 'throughput' ? SERVER_EFFECT[s.servers] : 1 / SERVER_EFFECT[s.servers];
  if (s.experiment === 3) return metric === 'response' ? GUEST_EFFECT[s.guests] : 2 - GUEST_EFFECT[s.guests];
  return 1;
}

const sideOf = (host: string): Side => {
  if (host === HOST) return 'host';
  if (host === GUEST) return 'guest';
  throw new Error(`probe aimed at ${host}`);
};

/** The figure a cell's run must carry, from the definition above. */
function expectedRunP50(s: Step, side: Side, protocol: 'tcp' | 'udp', run: number): number {
  return Math.round(P50[side][protocol] * factor(s, 'response') * jitter(run, shuffledStep(s)));
}
function expectedRunMbps(s: Step, side: Side, protocol: 'tcp' | 'udp', run: number): number {
  return MBPS[side][protocol] * factor(s, 'throughput') * jitter(run, shuffledStep(s));
}

interface Call {
  kind: 'response' | 'throughput' | 'search';
  side: Side;
  options: Record<string, unknown>;
  step: Step;
}

const sameStep = (a: Step, b: Step) => a.experiment === b.experiment && a.servers === b.servers && a.guests === b.guests;

/** The first step of each experiment also measures the host a second time per block (A/A). */
const aaStep = (s: Step) => (s.experiment === 1) || (s.experiment === 2 && s.servers === 'none') || (s.experiment === 3 && s.guests === SWEEP[0]);

function syntheticProbes(stage: RecordingStage, calls: Call[]): Probes {
  // Both host measurements of a block (the cell and its A/A replica) get the block's figure.
  const runOf = (kind: Call['kind'], side: Side, protocol: string) =>
    Math.floor((calls.filter((c) => c.kind === kind && c.side === side && c.options.protocol === protocol && sameStep(c.step, stage.step!)).length - 1) /
      (side === 'host' && aaStep(stage.step!) ? 2 : 1));
  const record = (kind: Call['kind'], o: Record<string, unknown>) => {
    const side = sideOf(o.host as string);
    calls.push({ kind, side, options: o, step: stage.step! });
    return side;
  };
  return {
    async responseTime(o) {
      const side = record('response', o as unknown as Record<string, unknown>);
      const protocol = o.protocol as 'tcp' | 'udp';
      const p50 = expectedRunP50(stage.step!, side, protocol, runOf('response', side, protocol));
      // Experiment 3 with 16 guests keeps 250 samples a run: more than the 2000 a cell keeps.
      const many = stage.step!.experiment === 3 && stage.step!.guests === 16;
      const samplesNs = many ? Array.from({ length: 250 }, (_, i) => p50 + i) : [p50 - 1000, p50, p50 + 1000];
      return { latency: { p50Ns: p50 }, samplesNs, sent: samplesNs.length + 1, lost: 1 } as unknown as ResponseTimeResult;
    },
    async throughput(o) {
      if (o.findMaxRate) {
        const side = record('search', o as unknown as Record<string, unknown>);
        return { search: { maxRateMbps: SEARCH[side], trials: [{ targetRateMbps: 0, sentMbps: 1, receivedMbps: SEARCH[side], lossPercent: 0, pass: true }] } } as unknown as ThroughputResult;
      }
      const side = record('throughput', o as unknown as Record<string, unknown>);
      const protocol = o.protocol as 'tcp' | 'udp';
      const mbps = expectedRunMbps(stage.step!, side, protocol, runOf('throughput', side, protocol));
      return { Mbps: mbps, sentMbps: protocol === 'udp' ? SEND_MBPS[side] : mbps, lossPercent: protocol === 'udp' ? LOSS[side] : null } as unknown as ThroughputResult;
    },
  };
}

let stage: RecordingStage;
const calls: Call[] = [];
let result: PaperResult;

const progress: string[] = [];

test.before(async () => {
  stage = new RecordingStage();
  result = await runPaper(stage, { progress: (l) => progress.push(l), runs: RUNS, guestsSweep: SWEEP, responseIterations: 77, responseSizeBytes: 333, throughputSeconds: 0.123, udpDatagramBytes: 1111, probeCpu: 1, probes: syntheticProbes(stage, calls), reference: false, seed: 7 });
});

const find = (experiment: number, side: Side, protocol: string, servers: ServerRole = 'none', guests = 1) =>
  result.measurements.find((m) => m.experiment === experiment && m.side === side && m.protocol === protocol && m.servers === servers && m.guests === guests)!;

test('the run completes, closes the stage, and interleaves the experiments: each round one block of each, every condition once per block, orders drawn per block', () => {
  assert.ok(result.complete, result.error);
  assert.ok(stage.closed);
  const conditions: Record<number, Step[]> = {
    1: [{ experiment: 1, servers: 'none', guests: 1 }],
    2: (['none', 'www', 'dns', 'mail'] as const).map((servers) => ({ experiment: 2, servers, guests: 1 })),
    3: SWEEP.map((guests) => ({ experiment: 3, servers: 'none', guests })),
  };
  const key = (s: Step) => `${s.experiment}/${s.servers}/${s.guests}`;
  // The blocks' measurements, then the loss-free rate search on experiment 1's lab.
  assert.equal(stage.steps.at(-1), conditions[1][0]);
  const steps = stage.steps.slice(0, -1);
  let at = 0;
  const blocks: number[] = [];
  const orders = new Set<string>();
  while (at < steps.length) {
    const group = conditions[steps[at].experiment];
    const got = steps.slice(at, at + group.length);
    at += group.length;
    // Each block holds every condition exactly once: both sides of every comparison alternate.
    assert.equal(got.map(key).sort(), group.map(key).sort(), `block ${blocks.length}`);
    blocks.push(group[0].experiment);
    orders.add(got.map(key).join());
  }
  assert.is(blocks.length, 3 * RUNS);
  const rounds = Array.from({ length: RUNS }, (_, r) => blocks.slice(3 * r, 3 * r + 3));
  // Every round one block of each experiment, so that each figure's blocks spread over the run.
  for (const round of rounds) assert.equal([...round].sort(), [1, 2, 3], JSON.stringify(blocks));
  // Counterbalanced in pairs: odd rounds mirror the even ones before them.
  for (let r = 1; r < RUNS; r += 2) assert.equal(rounds[r], [...rounds[r - 1]].reverse());
  assert.ok(new Set(rounds.map(String)).size > 1, 'the order of the experiments differs between rounds');
  assert.ok(orders.size > 5, 'the order differs between blocks');
});

test('a stage that can switch is prepared once per experiment with every server and the most guests; one that can park gets them all first, interleaved', async () => {
  for (const park of [true, false]) {
    const s = new RecordingStage();
    const events: string[] = [];
    const prepared: unknown[] = [];
    (s as Stage).prepare = async (g) => {
      prepared.push(g);
      events.push(`prepare ${g.experiment}`);
    };
    if (park) (s as Stage).canPark = () => true;
    const arrange = s.arrange.bind(s);
    s.arrange = async (step) => {
      events.push(`arrange ${step.experiment}`);
      return arrange(step);
    };
    const r = await runPaper(s, { runs: 2, guestsSweep: [0, 2, 8], probes: syntheticProbes(s, []), reference: false, seed: 3 });
    assert.ok(r.complete, r.error);
    assert.equal(prepared, [
      { experiment: 1, servers: [], guests: 1 },
      { experiment: 2, servers: ['www', 'dns', 'mail'], guests: 1 },
      { experiment: 3, servers: [], guests: 8 },
    ]);
    // Interleaved: every lab first, and experiment 1 again at the end for the rate search.
    // Sequential: [prepare e, arrange e...] ×3, the rate search on experiment 1's lab before the next.
    const runsOf = events.map((e) => e.replace('arrange', 'x')).filter((e, i, a) => e !== a[i - 1]);
    assert.is(r.config.experimentOrder, park ? 'interleaved' : 'sequential');
    assert.match(paperText(r), park ? /\(seed 3\), the experiments' blocks interleaved \(one of each per round\), an A\/A control/ : /\(seed 3\), an A\/A control/);
    if (park) {
      assert.equal(events.slice(0, 3), ['prepare 1', 'prepare 2', 'prepare 3']);
      assert.ok(runsOf.length > 7, `interleaved: ${runsOf.join()}`);
      assert.is(runsOf.at(-1), 'x 1');
    } else assert.equal(runsOf, ['prepare 1', 'x 1', 'prepare 2', 'x 2', 'prepare 3', 'x 3']);
    assert.equal(r.openQuestions.rateSearches.map((x) => x.side), ['host', 'guest']);
  }
});

test('every cell probes the side it is labelled with: each "guest" figure came from the guest address', () => {
  // The stand-in figures depend only on the address probed, so a cell that probed the other
  // side would carry the other side's figures.
  for (const e of [1, 2] as const) {
    for (const side of ['host', 'guest'] as const) {
      for (const protocol of ['tcp', 'udp'] as const) {
        const m = find(e, side, protocol);
        const step = { experiment: e, servers: 'none' as const, guests: 1 };
        assert.equal(m.latencyRunP50Ns, Array.from({ length: RUNS }, (_, r) => expectedRunP50(step, side, protocol, r)), `${e} ${side} ${protocol}`);
        assert.equal(m.throughputRunsMbps, Array.from({ length: RUNS }, (_, r) => expectedRunMbps(step, side, protocol, r)), `${e} ${side} ${protocol}`);
      }
    }
  }
  // Experiment 3 measures the host only.
  assert.ok(result.measurements.filter((m) => m.experiment === 3).every((m) => m.side === 'host'));
  assert.ok(calls.filter((c) => c.step.experiment === 3).every((c) => c.side === 'host'));
  // Each block measures both sides alike, plus the host again in each experiment's first step (A/A).
  const e12 = calls.filter((c) => c.step.experiment !== 3 && c.kind !== 'search');
  const aaCalls = 2 * RUNS * 2 * 2; // experiment 1 and experiment 2's no-server step
  assert.is(e12.filter((c) => c.side === 'guest').length, e12.filter((c) => c.side === 'host').length - aaCalls);
  assert.is(e12.length, 5 * RUNS * 2 * 2 * 2 + aaCalls, '5 steps × blocks × 2 sides × 2 protocols × (response + throughput), + A/A');
  // The A/A replica carries the same figures as its cell here: its ratio is exactly 1.
  for (const m of result.measurements.filter((x) => x.aa)) {
    assert.equal(m.aa!.latencyRunP50Ns, m.latencyRunP50Ns);
    assert.equal(m.aa!.throughputRunsMbps, m.throughputRunsMbps);
  }
  assert.equal(result.measurements.filter((x) => x.aa).map((x) => `${x.experiment}${x.servers}${x.guests}${x.protocol}`),
    ['1none1tcp', '1none1udp', '2none1tcp', '2none1udp', `3none${SWEEP[0]}tcp`, `3none${SWEEP[0]}udp`]);
});

test('probes get the configured sizes, ports, namespace and CPU', () => {
  for (const c of calls) {
    assert.is(c.options.netns, 'synthetic-client');
    assert.is(c.options.host, c.side === 'host' ? HOST : GUEST);
    assert.is(c.options.cpu, 1);
    if (c.kind === 'response') {
      assert.is(c.options.port, ECHO);
      assert.is(c.options.size, 333);
      assert.is(c.options.iterations, 77);
      assert.is(c.options.warmup, 50);
    } else if (c.kind === 'throughput') {
      assert.is(c.options.port, DISCARD);
      assert.is(c.options.durationS, 0.123);
      assert.is(c.options.size, c.options.protocol === 'udp' ? 1111 : undefined);
    } else {
      // The loss-free search: one way into the discard service, beside the unpaced UDP figure.
      assert.is(c.options.port, DISCARD);
      assert.is(c.options.protocol, 'udp');
      assert.is(c.options.size, 1111);
      assert.is(c.options.findMaxRate, true);
      assert.is(c.options.lossThresholdPercent, 0.1);
    }
  }
  assert.equal(calls.filter((c) => c.kind === 'search').map((c) => c.side), ['host', 'guest']);
  assert.equal(result.openQuestions.rateSearches.map((s) => s.method), ['one-way', 'one-way']);
});

test('a cell pools every run: min, mean, max over all samples; sent and lost summed', () => {
  const m = find(1, 'guest', 'tcp');
  const p50s = m.latencyRunP50Ns;
  assert.is(m.latency.minNs, Math.min(...p50s) - 1000);
  assert.is(m.latency.maxNs, Math.max(...p50s) + 1000);
  assert.is(m.latency.meanNs, Math.round(mean(p50s)));
  assert.ok(m.latency.p50Ns >= Math.min(...p50s) && m.latency.p50Ns <= Math.max(...p50s));
  assert.is(m.latency.sent, 4 * RUNS);
  assert.is(m.latency.lost, RUNS);
  assert.is(m.latencySamplesNs!.length, 3 * RUNS);
  assert.is(m.throughputMbps.mean, mean(m.throughputRunsMbps));
  assert.is(m.throughputMbps.n, RUNS);
  const u = find(1, 'guest', 'udp');
  assert.is(u.udp!.sentMbps.mean, SEND_MBPS.guest);
  assert.is(u.udp!.lossPercent.mean, LOSS.guest);
  assert.is(m.udp, undefined, 'TCP cells carry no UDP figures');
});

test('tables 1-4 compare host against guest, not swapped, on the per-run figures', () => {
  for (const t of result.tables.filter((x) => x.id !== 'table5')) {
    for (const c of t.comparisons.filter((x) => !x.aa)) {
      const h = find(t.experiment, 'host', c.protocol, c.servers);
      const g = find(t.experiment, 'guest', c.protocol, c.servers);
      const [hr, gr] = c.metric === 'throughput' ? [h.throughputRunsMbps, g.throughputRunsMbps] : [h.latencyRunP50Ns, g.latencyRunP50Ns];
      assert.is(c.host, mean(hr), `${t.id} ${c.metric} host`);
      assert.is(c.guest, mean(gr), `${t.id} ${c.metric} guest`);
      // Paired: the geometric mean of the per-block ratios guest/host.
      assert.ok(Math.abs(c.ratio - Math.exp(mean(gr.map((x, i) => Math.log(x / hr[i]))))) < 1e-12);
      assert.ok(c.paired);
      assert.is(c.n, RUNS);
      assert.ok(c.ci95Low <= c.ratio && c.ratio <= c.ci95High);
      assert.is(c.verdict, 'differs', 'sides 3-6× apart over 10 blocks');
    }
    for (const c of t.comparisons.filter((x) => x.aa)) {
      assert.is(c.ratio, 1);
      assert.is(c.verdict, 'no effect beyond noise');
      assert.is(c.floorPercent, null);
    }
  }
  const t1 = result.tables.find((t) => t.id === 'table1')!;
  const rt = t1.comparisons.find((c) => c.metric === 'latency p50')!;
  assert.ok(Math.abs(rt.ratio - P50.guest.tcp / P50.host.tcp) < 1e-6, `guest/host ${rt.ratio}`);
  const tp = t1.comparisons.find((c) => c.metric === 'throughput')!;
  assert.ok(Math.abs(tp.ratio - MBPS.guest.tcp / MBPS.host.tcp) < 1e-9, `guest/host ${tp.ratio}`);
  // The rows carry each side's own figures.
  assert.is(t1.rows.find((r) => r.side === 'host')!.latency.p50Ns, find(1, 'host', 'tcp').latency.p50Ns);
  assert.is(t1.rows.find((r) => r.side === 'guest')!.throughputMbps.mean, find(1, 'guest', 'tcp').throughputMbps.mean);
  assert.ok(t1.rows.find((r) => r.side === 'host')!.latency.p50Ns < 2_000_000);
});

test('table 5: each guest count against the fewest guests, paired by block; 2% and 30% "differ", none does not', () => {
  const t5 = result.tables.find((t) => t.id === 'table5')!;
  const verdict = (guests: number, protocol: string, metric: string) => t5.comparisons.find((c) => c.guests === guests && c.protocol === protocol && c.metric === metric && !c.aa)!;
  // The A/A floor here is 0 (the stand-in replica repeats its cell exactly): p decides alone.
  const expect: Record<number, string> = { 1: 'no effect beyond noise', 2: 'differs', 4: 'differs', 8: 'differs', 16: 'differs' };
  for (const protocol of ['tcp', 'udp'] as const) {
    for (const metric of ['latency p50', 'throughput'] as const) {
      for (const [n, v] of Object.entries(expect)) {
        const c = verdict(Number(n), protocol, metric);
        assert.is(c.verdict, v, `${n} guests ${protocol} ${metric}: ratio ${c.ratio} p ${c.p}`);
        const base = find(3, 'host', protocol, 'none', 0);
        assert.is(c.host, metric === 'throughput' ? base.throughputMbps.mean : mean(base.latencyRunP50Ns), 'read against 0 guests');
      }
    }
  }
  const c4 = verdict(4, 'tcp', 'latency p50');
  assert.ok(Math.abs(c4.ratio - 1.3) < 1e-6, `ratio ${c4.ratio}`);
  assert.is(c4.paired, true, 'frozen and running guests alternate in the same blocks: paired');
  assert.is(c4.n, RUNS);
  assert.is(t5.comparisons.filter((c) => c.guests === 0 && !c.aa).length, 0, 'no comparison of the baseline with itself');
  assert.is(t5.comparisons.filter((c) => c.aa).length, 4, 'the A/A control of experiment 3: 2 protocols × 2 metrics');
});

test("named's cost is read against experiment 2's own no-server step, per side and protocol", () => {
  const q = result.openQuestions;
  assert.is(q.namedCost.length, 4);
  for (const n of q.namedCost) {
    const none = find(2, n.side, n.protocol, 'none');
    const named = find(2, n.side, n.protocol, 'dns');
    assert.is(n.noneMbps, none.throughputMbps.mean, `${n.side} ${n.protocol} baseline`);
    assert.is(n.namedMbps, named.throughputMbps.mean);
    assert.ok(Math.abs(n.changePercent - -30) < 1e-9, `${n.side} ${n.protocol}: ${n.changePercent}%`);
    assert.ok(n.p < 0.001, `p ${n.p}`);
    // Its own CI (paired by block: the same jitter on both sides cancels), Holm over named's four
    // comparisons, and experiment 2's A/A floor (0 here).
    assert.ok(Math.abs(n.changeCi95LowPercent - -30) < 1e-6 && Math.abs(n.changeCi95HighPercent - -30) < 1e-6, `${n.changeCi95LowPercent} ${n.changeCi95HighPercent}`);
    assert.ok(n.pHolm >= n.p && n.pHolm <= 4 * n.p + 1e-15, `Holm ${n.pHolm} vs ${n.p}`);
    assert.is(n.floorPercent, 0);
    assert.is(n.verdict, 'differs');
  }
  // Experiment 1's figures are 10% higher: the wrong baseline would read -37%, not -30%.
  assert.ok(Math.abs(find(1, 'host', 'tcp').throughputMbps.mean - MBPS.host.tcp) < 1e-9);
});

test("named's cost against a noisy A/A: the floor is experiment 2's, in percent", () => {
  const ms = result.measurements.map((m) => (m.experiment === 2 && m.servers === 'none' && m.side === 'host' && m.aa
    ? { ...m, aa: { ...m.aa, throughputRunsMbps: m.throughputRunsMbps.map((x, i) => x * (i % 2 ? 1.2 : 0.8)) } } : m));
  const q = openQuestions(ms, []);
  for (const n of q.namedCost) {
    const host = ms.find((m) => m.experiment === 2 && m.servers === 'none' && m.side === 'host' && m.protocol === n.protocol)!;
    const floor = noiseFloor(pairedRatio(host.throughputRunsMbps, host.aa!.throughputRunsMbps));
    assert.ok(Math.abs(n.floorPercent! - (Math.exp(floor) - 1) * 100) < 1e-9, `${n.floorPercent}`);
    assert.ok(n.floorPercent! > 10 && n.floorPercent! < 60, `${n.floorPercent}`);
    assert.is(n.verdict, 'differs', 'a 30% change beyond a floor of ±' + n.floorPercent!.toFixed(0) + '%');
  }
});

test('UDP vs TCP: per side, its own TCP, UDP and loss-free rate', () => {
  const q = result.openQuestions;
  assert.equal(q.udpVsTcp.map((u) => u.side), ['host', 'guest']);
  for (const u of q.udpVsTcp) {
    assert.ok(Math.abs(u.tcpMbps - MBPS[u.side].tcp) < 1e-9, `${u.side} tcp ${u.tcpMbps}`);
    assert.ok(Math.abs(u.udpReceivedMbps - MBPS[u.side].udp) < 1e-9, `${u.side} udp ${u.udpReceivedMbps}`);
    assert.is(u.udpSentMbps, SEND_MBPS[u.side]);
    assert.is(u.udpLossPercent, LOSS[u.side]);
    assert.is(u.lossFreeRateMbps, SEARCH[u.side]);
  }
  assert.equal(q.rateSearches.map((s) => [s.side, s.maxRateMbps, s.lossThresholdPercent]), [['host', 500, 0.1], ['guest', 50, 0.1]]);
  assert.equal(q.hostVsGuests.map((h) => `${h.protocol}${h.guests}`), [...SWEEP.map((g) => `tcp${g}`), ...SWEEP.map((g) => `udp${g}`)]);
  const h4 = q.hostVsGuests.find((h) => h.protocol === 'udp' && h.guests === 4)!;
  assert.is(h4.p50Ns, find(3, 'host', 'udp', 'none', 4).latency.p50Ns);
  assert.is(h4.Mbps, find(3, 'host', 'udp', 'none', 4).throughputMbps.mean);
});

test('without a search or a UDP cell the open questions say so rather than invent figures', () => {
  const ms = result.measurements.filter((m) => m.experiment === 1);
  const q = openQuestions(ms, []);
  assert.equal(q.udpVsTcp.map((u) => u.lossFreeRateMbps), [null, null]);
  const noUdp = ms.filter((m) => !(m.protocol === 'udp' && m.side === 'guest'));
  assert.equal(openQuestions(noUdp, []).udpVsTcp.map((u) => u.side), ['host']);
  const tcpOnly = ms.map((m) => ({ ...m, udp: undefined })) as Measurement[];
  assert.equal(openQuestions(tcpOnly, []).udpVsTcp.map((u) => [u.udpSentMbps, u.udpLossPercent]), [[0, 0], [0, 0]]);
});

// measureRatio and judge alone: baseline first, compared side second; verdicts at the boundaries.
const tenRuns = (base: number, f = 1, shuffled = false) => Array.from({ length: 10 }, (_, r) => base * f * jitter(r, shuffled));

/** One table with an A/A row of a given spread and one comparison, judged. */
function judged(a: number[], b: number[], aaSpread: number, paired = true) {
  const host = tenRuns(1000);
  const aa = { servers: 'none' as const, protocol: 'tcp' as const, aa: true, ...measureRatio('throughput', host, host.map((x, i) => x * (1 + aaSpread * (i % 2 ? 1 : -1))), true) };
  const c = { servers: 'none' as const, protocol: 'tcp' as const, ...measureRatio('throughput', a, b, paired) };
  const [t] = judge([{ id: 'table1', experiment: 1, title: '', rows: [], comparisons: [c, aa] as never }]);
  return { c: t.comparisons[0], aa: t.comparisons[1] };
}

test('verdicts: Holm-adjusted p below 0.05 and an effect beyond the A/A floor', () => {
  const host = tenRuns(1000);
  // A/A alternating ±1%: its CI spans about ±0.75%, the floor.
  const small = judged(host, tenRuns(1000, 1.005), 0.01);
  assert.ok(small.c.p < 0.05, `p ${small.c.p}`);
  assert.is(small.c.verdict, 'no effect beyond noise', 'significant, but within the A/A floor');
  assert.ok(small.c.floorPercent! > 0.5 && small.c.floorPercent! < 1.5, `floor ${small.c.floorPercent}%`);
  assert.is(judged(host, tenRuns(1000, 1.02), 0.01).c.verdict, 'differs');
  assert.is(judged(host, tenRuns(1000, 0.7), 0.01).c.verdict, 'differs');
  assert.is(judged(host, tenRuns(1000, 1.02), 0.05).c.verdict, 'no effect beyond noise', 'a noisier A/A raises the floor past 2%');
  const none = judged(host, tenRuns(1000, 1, true), 0.01).c;
  assert.is(none.verdict, 'no effect beyond noise');
  assert.ok(none.pHolm >= 0.05);
  // The A/A row is judged by p alone, and its own p is Holm-adjusted in its own family.
  const aa = judged(host, tenRuns(1000, 1.3), 0.01).aa;
  assert.is(aa.verdict, 'no effect beyond noise');
  assert.is(aa.floorPercent, null);
});

test('ratios: paired per block or unpaired; host first; too few runs', () => {
  const c = measureRatio('throughput', tenRuns(1000), tenRuns(1000, 1.02), true);
  assert.ok(Math.abs(c.ratio - 1.02) < 1e-12);
  assert.is(c.host, mean(tenRuns(1000)));
  assert.ok(Math.abs(c.guest - 1020) < 1e-9);
  assert.ok(c.ci95Low <= 1.02 && c.ci95High >= 1.02);
  const u = measureRatio('throughput', tenRuns(1000), tenRuns(1000, 1.02, true), false);
  assert.ok(Math.abs(u.ratio - 1.02) < 1e-3);
  assert.is(u.paired, false);
  // Paired t with 3 blocks can see a clear difference (Mann-Whitney could not below p = 0.081).
  const three = judged([10, 11, 12], [20, 22.2, 23.9], 0);
  assert.is(three.c.verdict, 'differs');
  assert.is(judged([10, 11], [20, 21], 0).c.verdict, 'too few runs');
  assert.ok(Number.isNaN(measureRatio('throughput', [0, 0, 0], [1, 2, 3], true).ratio), 'no ratio to a zero host');
});

test('Holm across the run: many comparisons raise each p', () => {
  const tables = buildTables(result.measurements);
  const all = tables.flatMap((t) => t.comparisons.filter((c) => !c.aa && Number.isFinite(c.p)));
  assert.ok(all.length > 10);
  for (const c of all) assert.ok(c.pHolm >= c.p - 1e-15, `${c.pHolm} < ${c.p}`);
  const smallest = all.reduce((m, c) => (c.p < m.p ? c : m));
  assert.ok(Math.abs(smallest.pHolm - Math.min(1, smallest.p * all.length)) < 1e-12 || smallest.pHolm >= smallest.p * all.length - 1e-12);
});

test('the report says what "no server" and fewer guests mean in the paired design (and the old wording for results saved before it)', () => {
  const text = paperText(result);
  assert.match(text, /\nexperiment 2 runs on the Debian image with 128M guests, every server provisioned on both sides; "no server": all of them stopped \(SIGSTOP\)/);
  assert.match(text, /\nexperiment 3 boots the most guests once; those beyond each count are frozen \(cgroup freezer\)\n/);
  const old = paperText({ ...result, measurements: result.measurements.map(({ blockGroup: _, ...m }) => m) });
  assert.match(old, /its "no server" rows are the baseline for the servers/);
  assert.not.match(old, /boots the most guests once/);
});

test('the drift watch flags blocks whose reference strayed', async () => {
  const s = new RecordingStage();
  const probes = syntheticProbes(s, []);
  let k = 0;
  // 20 µs, except the 4th block at 40 µs.
  const r = await runPaper(s, { runs: 5, experiments: [1], probes, reference: async () => (++k === 4 ? 40_000 : 20_000), seed: 1 });
  assert.ok(r.drift);
  assert.is(r.drift!.series.length, 5);
  assert.is(r.drift!.medianReferenceP50Ns, 20_000);
  assert.equal(r.drift!.flagged.map((f) => [f.block, Math.round(f.deviationPercent)]), [[3, 100]]);
  assert.match(r.drift!.flagged[0].step, /experiment 1/);
  const text = paperText(r);
  assert.match(text, /warning: the machine drifted: 1 of 5 blocks had the reference 20\.0 µs \(median of 5 blocks\) off by more than ±25%/);
  assert.match(text, /\n  experiment 1, block 4: reference \+100%\n/);
});

test('the default reference crosses CPUs as the host figures do: probe on the probes\' CPU, endpoint on the lab\'s', async () => {
  const cpus = allowedCpus();
  const [probeCpu, labCpu] = [cpus[0], cpus[cpus.length - 1]];
  const placed = new RecordingStage();
  placed.labCpus = String(labCpu);
  const r = await runPaper(placed, { runs: 2, experiments: [1], probes: syntheticProbes(placed, []), probeCpu, seed: 1 });
  assert.ok(r.complete, r.error);
  const where = labCpu === probeCpu ? `probe and endpoint on CPU ${probeCpu}` : `probe on CPU ${probeCpu}, endpoint on CPU ${labCpu}`;
  assert.is(r.drift?.reference, `TCP 64 B loopback, ${where}`);
  assert.is(r.drift?.series.length, 2);
  assert.ok(r.drift!.series.every((x) => x.referenceP50Ns > 0 && x.referenceP50Ns < 50e6), JSON.stringify(r.drift!.series));
  assert.match(paperText(r), new RegExp(`drift watch: reference [\\d.]+ µs \\(TCP 64 B loopback, ${where}; median of 2 blocks\\)`));
  // Unplaced (no probe CPU given): both ends on one CPU.
  const unplaced = new RecordingStage();
  const u = await runPaper(unplaced, { runs: 1, experiments: [1], probes: syntheticProbes(unplaced, []), seed: 1 });
  assert.match(u.drift?.reference ?? '', /^TCP 64 B loopback, probe and endpoint on CPU \d+$/);
});

/** A stage that also records each experiment's preparation; `onPrepare` runs after the first. */
class PreparingStage extends RecordingStage {
  prepared = 0;
  onPrepare = () => {};
  async prepare() {
    if (this.prepared++ > 0) this.onPrepare();
  }
}

test('after the lab changes, the next experiment waits for the reference to settle: bounded, cancellable, and said', async () => {
  // The reference: 20 µs, but 80 µs for the next `busy` probes after each preparation but the first.
  let busy = 0;
  const reference = async () => (busy-- > 0 ? 80_000 : 20_000);
  const run = async (busyAfter: number, extra: Partial<Parameters<typeof runPaper>[1]> = {}) => {
    const s = new PreparingStage();
    s.onPrepare = () => { busy = busyAfter; };
    busy = 0;
    return runPaper(s, { runs: 2, experiments: [1, 3], guestsSweep: [0, 1], probes: syntheticProbes(s, []), reference, seed: 1, ...extra });
  };
  const r = await run(3);
  assert.ok(r.complete, r.error);
  assert.equal(r.drift!.settles!.map((x) => [x.step, x.probes, x.settled, x.lastReferenceP50Ns]), [['experiment 3: 0/1 guests', 4, true, 20_000]]);
  assert.ok(r.drift!.settles![0].waitedMs >= 3 * 250 - 20, String(r.drift!.settles![0].waitedMs));
  assert.is(r.drift!.flagged.length, 0, 'experiment 3 measured once the lab had settled');
  assert.match(paperText(r), /\ndrift watch: experiment 3: 0\/1 guests waited \d+\.\d s after the lab changed for the reference to come back within \+25% \(4 reference probes\)\n/);
  // A lab that settles at once: no wait recorded.
  assert.is((await run(0)).drift!.settles, undefined);
  // One that never settles: the wait is bounded, the run measures anyway and says so.
  const t0 = Date.now();
  const n = await run(1e9, { settleMaxMs: 600 });
  assert.ok(n.complete, n.error);
  const w = n.drift!.settles![0];
  assert.equal([w.settled, w.lastReferenceP50Ns], [false, 80_000]);
  assert.ok(w.waitedMs >= 600 && Date.now() - t0 < 5000, `${w.waitedMs} ms`);
  assert.match(paperText(n), /\nwarning: experiment 3: 0\/1 guests: the reference was not back within \+25% \d+\.\d s after the lab changed \(80\.0 µs\); measured anyway\n/);
  // A stage that parks: every lab first, then one wait, against the reference taken before the first lab.
  const parked = new PreparingStage();
  (parked as Stage).canPark = () => true;
  parked.onPrepare = () => { busy = 3; };
  busy = 0;
  const p = await runPaper(parked, { runs: 2, experiments: [1, 3], guestsSweep: [0, 1], probes: syntheticProbes(parked, []), reference, seed: 1 });
  assert.ok(p.complete, p.error);
  assert.equal(p.drift!.settles!.map((x) => [x.step, x.probes, x.settled]), [['experiment 1; experiment 3: 0/1 guests', 4, true]]);
  assert.is(p.drift!.series.length, 4, 'a reference before each block; the one before the labs is not a block\'s');
  assert.is(n.measurements.filter((m) => m.experiment === 3).length, 4);
  // Cancelled while waiting: the run ends at once as interrupted, keeping experiment 1.
  const ac = new AbortController();
  const cs = new PreparingStage();
  let changed = false, k = 0;
  cs.onPrepare = () => { changed = true; };
  const c0 = Date.now();
  const c = await runPaper(cs, {
    runs: 2, experiments: [1, 3], guestsSweep: [0, 1], probes: syntheticProbes(cs, []), seed: 1, signal: ac.signal, settleMaxMs: 60_000,
    reference: async () => {
      if (changed && ++k === 2) setTimeout(() => ac.abort(), 50);  // in the wait between probes
      return changed ? 80_000 : 20_000;
    },
  });
  assert.is(c.error, 'interrupted');
  assert.ok(Date.now() - c0 < 5000, `${Date.now() - c0} ms`);
  assert.ok(c.measurements.some((m) => m.experiment === 1) && !c.measurements.some((m) => m.experiment === 3));
});

test('blocks are counterbalanced in pairs (ABBA): every other block mirrors the one before, so each side comes first once per pair', async () => {
  // Pure: a random order, then its mirror; over the pair every item precedes every other once.
  const rnd = prng(11);
  const items = ['host', 'guest', 'host A/A', 'x', 'y'];
  let prev: string[] | undefined;
  const orders: string[][] = [];
  for (let block = 0; block < 8; block++) orders.push((prev = blockOrder(items, block, rnd, prev)));
  for (let b = 0; b < 8; b += 2) {
    assert.equal([...orders[b]].sort(), [...items].sort());
    assert.equal(orders[b + 1], [...orders[b]].reverse());
    for (const x of items) for (const y of items) if (x !== y) {
      const before = (o: string[]) => o.indexOf(x) < o.indexOf(y);
      assert.is.not(before(orders[b]), before(orders[b + 1]), `${x} before ${y} in both blocks ${b} and ${b + 1}`);
    }
  }
  assert.ok(new Set(orders.filter((_, i) => i % 2 === 0).map((o) => o.join())).size > 1, 'the even blocks are drawn anew');
  // In a run: the conditions of experiments 2 and 3, and the sides measured in experiment 1.
  const key = (s: Step) => `${s.servers}/${s.guests}`;
  for (const [experiment, n] of [[2, 4], [3, SWEEP.length]] as const) {
    const steps = stage.steps.filter((s) => s.experiment === experiment).map(key);
    for (let b = 0; b + 1 < RUNS; b += 2) assert.equal(steps.slice((b + 1) * n, (b + 2) * n), steps.slice(b * n, (b + 1) * n).reverse(), `experiment ${experiment} blocks ${b}, ${b + 1}`);
  }
  const s = new RecordingStage();
  await runPaper(s, { runs: 6, experiments: [1], probes: syntheticProbes(s, []), reference: false, seed: 5 });
  // Three slots (host, guest, host A/A) of two cells (TCP, UDP) each: six targets a block.
  const blocks = Array.from({ length: 6 }, (_, b) => s.asked.slice(b * 6, b * 6 + 6));
  for (let b = 0; b < 6; b += 2) assert.equal(blocks[b + 1], [...blocks[b]].reverse(), `experiment 1 blocks ${b}, ${b + 1}`);
});

test('the block order is drawn per block from the seed: reproducible, and both orders occur', async () => {
  const order = async (seed: number) => {
    const s = new RecordingStage();
    await runPaper(s, { runs: 8, experiments: [1], probes: syntheticProbes(s, []), reference: false, seed });
    return s.asked.filter((_, i) => i % 2 === 0).join(',');
  };
  const a = await order(3);
  assert.is(a, await order(3));
  assert.is.not(a, await order(4));
});

test('adaptive runs: blocks are added until the CIs are narrow enough, up to the maximum', async () => {
  // Every measurement wobbles by up to 1%, so no ratio's CI can shrink to a millionth of a percent.
  const noisy = (st: RecordingStage): Probes => {
    const p = syntheticProbes(st, []);
    let k = 0;
    return { ...p, responseTime: async (o) => {
      const r = await p.responseTime(o);
      return { ...r, latency: { ...r.latency, p50Ns: r.latency.p50Ns * (1 + 0.01 * Math.sin(++k)) } };
    } };
  };
  const s = new RecordingStage();
  const r = await runPaper(s, { runs: 3, experiments: [1], probes: noisy(s), reference: false, ciTargetPercent: 0.0001, maxRuns: 6, seed: 2 });
  assert.is(r.measurements[0].latencyRunP50Ns.length, 6, 'the target cannot be met: every allowed block is run');
  const s2 = new RecordingStage();
  const r2 = await runPaper(s2, { runs: 3, experiments: [1], probes: noisy(s2), reference: false, ciTargetPercent: 50, maxRuns: 6, seed: 2 });
  assert.is(r2.measurements[0].latencyRunP50Ns.length, 3, 'met at once: no block added');
  assert.is(r2.config.ciTargetPercent, 50);
});

test("the default UDP datagram fills one frame of the stage's MTU; the stage is asked, no presets file", async () => {
  assert.is(checkPaperOptions({}, 9000).udpDatagramBytes, 8972);
  assert.is(checkPaperOptions({ udpDatagramBytes: 1000 }, 9000).udpDatagramBytes, 1000, 'an asked size wins');
  class JumboStage extends RecordingStage {
    netMtu() {
      return 4000;
    }
  }
  const stage = new JumboStage();
  const got: Call[] = [];
  const r = await runPaper(stage, { experiments: [1], runs: 2, responseIterations: 10, throughputSeconds: 0.1, probes: syntheticProbes(stage, got), reference: false, seed: 1 });
  assert.is(r.complete, true, r.error);
  assert.is(r.config.udpDatagramBytes, 3972);
  const udp = got.filter((c) => c.kind !== 'response' && c.options.protocol === 'udp');
  assert.ok(udp.length > 0);
  for (const c of udp) assert.is(c.options.size, 3972);
});

test('the default run count is 10 (enough for Mann-Whitney to find a difference)', () => {
  const cfg = checkPaperOptions({});
  assert.is(cfg.runs, 10);
  assert.equal(cfg.experiments, [1, 2, 3]);
  assert.equal(cfg.guestsSweep, [0, 1, 2, 4, 8]);
  assert.equal(cfg.servers, ['www', 'dns', 'mail']);
  assert.equal([cfg.responseSizeBytes, cfg.responseIterations, cfg.throughputSeconds, cfg.udpDatagramBytes], [100, 1000, 0.5, 1472]);
  assert.is('probeCpu' in cfg, false);
  assert.equal(checkPaperOptions({ experiments: [3, 1, 3], guestsSweep: [8, 0, 8] }).experiments, [1, 3]);
  assert.equal(checkPaperOptions({ guestsSweep: [8, 0, 8, 10] }).guestsSweep, [0, 8, 10]);
  for (const bad of [{ runs: 0 }, { runs: 1001 }, { runs: 2.5 }, { ciTargetPercent: 0 }, { ciTargetPercent: 101 }, { runs: 10, maxRuns: 5 }, { seed: -1 }, { seed: 1.5 }, { experiments: [] }, { experiments: [4] }, { guestsSweep: [] }, { guestsSweep: [65] }, { guestsSweep: [-1] }, { servers: ['ftp'] }, { probeCpu: -1 }, { probeCpu: 1.5 }])
    assert.throws(() => checkPaperOptions(bad as never), (e: { code?: string }) => e.code === 'ERR_UMLPERF_USAGE', JSON.stringify(bad));
  assert.is(checkPaperOptions({ runs: 1000, guestsSweep: [64, 0], probeCpu: 0 }).runs, 1000);
});

test('a probe failing part-way: the run keeps what it measured and names the error', async () => {
  const s = new RecordingStage();
  const c: Call[] = [];
  const probes = syntheticProbes(s, c);
  let n = 0;
  const failing: Probes = { ...probes, throughput: async (o) => (++n === 7 ? Promise.reject(new Error('peer went away\nsecond line')) : probes.throughput(o)) };
  const r = await runPaper(s, { runs: 3, experiments: [1, 3], guestsSweep: [0], probes: failing, reference: false });
  assert.is(r.complete, false);
  assert.is(r.error, 'peer went away');
  assert.ok(s.closed);
  // Kept: the blocks finished before the failure, whole (every cell of a kept experiment has
  // the same blocks); the block it broke off is not.
  const kept = new Set(r.measurements.map((m) => m.experiment));
  assert.is(kept.size, 1, 'one block of one experiment finished before the 7th throughput probe');
  for (const m of r.measurements) assert.equal([m.latencyRunP50Ns.length, m.throughputRunsMbps.length, m.aa?.throughputRunsMbps.length ?? 1], [1, 1, 1]);
});

test('progress names the step and the run; samples beyond 2000 are thinned evenly', () => {
  // Step k of n (one block of one experiment each), the block, elapsed time, and an estimate once a step is done.
  assert.match(progress[0], /^step 1\/30 \(experiment [123][^)]*\): block 1\/10; 0:\d\d elapsed$/);
  assert.ok(progress.some((l) => /^step 30\/30 \(experiment [123][^)]*\): block 10\/10; 0:\d\d elapsed, about \d+:\d\d left$/.test(l)), progress.join('\n'));
  assert.ok(progress.includes('experiment 1: loss-free UDP rate, guest'));
  assert.ok(progress.some((l) => /^step \d+\/30 \(experiment 2: servers none\/www\/dns\/mail\): block 3\/10;/.test(l)));
  assert.ok(progress.some((l) => /^step \d+\/30 \(experiment 3: 0\/1\/2\/4\/8\/16 guests\): block 1\/10;/.test(l)));
  assert.equal(progress.filter((l) => l.startsWith('step ')).map((l) => Number(l.split(/[ /]/)[1])), Array.from({ length: 30 }, (_, i) => i + 1));
  const m = find(3, 'host', 'tcp', 'none', 16);
  assert.is(m.latencySamplesNs!.length, 2000);
  const all = m.latencyRunP50Ns.flatMap((p50) => Array.from({ length: 250 }, (_, i) => p50 + i));
  // 2500 → 2000: every 1.25th sample, from the first.
  assert.equal(m.latencySamplesNs!.slice(0, 5), [all[0], all[1], all[2], all[3], all[5]]);
  assert.is(m.latencySamplesNs![1999], all[Math.floor(1999 * 1.25)]);
  assert.is(find(3, 'host', 'tcp', 'none', 8).latencySamplesNs!.length, 30, 'fewer are kept as they are');
});

test('tables: ids, titles and rows for each experiment', () => {
  assert.equal(result.tables.map((t) => [t.id, t.experiment]), [['table1', 1], ['table2', 1], ['table3', 2], ['table4', 2], ['table5', 3]]);
  assert.equal(result.tables.map((t) => t.title), [
    'Experiment 1, TCP: host OS vs UML guest, no servers running',
    'Experiment 1, UDP: host OS vs UML guest, no servers running',
    'Experiment 2, TCP: host OS vs UML guest, each server alone running on both sides (the others stopped; none: all stopped)',
    'Experiment 2, UDP: host OS vs UML guest, each server alone running on both sides (the others stopped; none: all stopped)',
    'Experiment 3: the host OS measured while UML guests run, the others frozen (comparisons: against the fewest guests)',
  ]);
  const t4 = result.tables[3];
  assert.equal(t4.rows.map((r) => `${r.side} ${r.protocol} ${r.servers}`), ['host udp none', 'guest udp none', 'host udp www', 'guest udp www', 'host udp dns', 'guest udp dns', 'host udp mail', 'guest udp mail']);
  assert.equal(t4.rows[1].udp, { sentMbps: SEND_MBPS.guest, lossPercent: LOSS.guest });
  assert.is(result.tables[2].rows[0].udp, undefined);
  assert.is(t4.comparisons.filter((c) => !c.aa).length, 8, 'response and throughput for each of four steps');
  assert.is(t4.comparisons.filter((c) => c.aa).length, 2, 'and the A/A control of the no-server step');
  assert.equal(result.tables[4].rows.map((r) => `${r.protocol}${r.guests}`).slice(0, 3), ['tcp0', 'udp0', 'tcp1']);
  const r = t4.rows[0];
  const m = find(2, 'host', 'udp');
  assert.equal(r.latency, { count: m.latency.count, minNs: m.latency.minNs, meanNs: m.latency.meanNs, maxNs: m.latency.maxNs, p50Ns: m.latency.p50Ns, p90Ns: m.latency.p90Ns, p99Ns: m.latency.p99Ns, p999Ns: m.latency.p999Ns });
  assert.equal(r.throughputMbps, { mean: m.throughputMbps.mean, ci95: m.throughputMbps.ci95, n: m.throughputMbps.n, median: m.throughputMbps.median, ci95Low: m.throughputMbps.ci95Low, ci95High: m.throughputMbps.ci95High });
});

test('tables from partial measurements: a side missing, guests out of order', () => {
  const onlyHost = result.measurements.filter((m) => !(m.experiment === 2 && m.servers === 'dns' && m.side === 'guest'));
  const t3 = buildTables(onlyHost).find((t) => t.id === 'table3')!;
  assert.not.ok(t3.comparisons.some((c) => c.servers === 'dns'), 'no comparison without both sides');
  assert.is(t3.comparisons.filter((c) => !c.aa).length, 6);
  const q = openQuestions(onlyHost, []);
  assert.equal(q.namedCost.map((n) => `${n.side} ${n.protocol}`), ['host tcp', 'host udp']);
  const reversed = [...result.measurements].reverse();
  for (const t of buildTables(reversed).filter((x) => x.id !== 'table5'))
    for (const c of t.comparisons.filter((x) => !x.aa)) assert.is(c.host, mean((c.metric === 'throughput' ? find(t.experiment, 'host', c.protocol, c.servers).throughputRunsMbps : find(t.experiment, 'host', c.protocol, c.servers).latencyRunP50Ns)), `${t.id} host whatever the order`);
  const t5 = buildTables(reversed).find((t) => t.id === 'table5')!;
  const c = t5.comparisons.find((x) => x.guests === 4 && x.protocol === 'tcp' && x.metric === 'throughput' && !x.aa)!;
  assert.is(c.host, find(3, 'host', 'tcp', 'none', 0).throughputMbps.mean, 'against 0 guests whatever the order');
  assert.equal(t5.comparisons.filter((x) => x.protocol === 'udp' && x.metric === 'throughput' && !x.aa).map((x) => x.guests), [1, 2, 4, 8, 16]);
  assert.equal(openQuestions(reversed, []).hostVsGuests.map((h) => `${h.protocol}${h.guests}`).slice(0, 3), ['tcp0', 'tcp1', 'tcp2']);
  assert.equal(buildTables(result.measurements.filter((m) => m.experiment === 1)).map((t) => t.id), ['table1', 'table2']);
  assert.equal(buildTables([]), []);
});

test('one experiment alone: only its steps, probes and tables', async () => {
  for (const [experiments, ids] of [[[2], ['table3', 'table4']], [[3], ['table5']], [[1], ['table1', 'table2']]] as const) {
    const s = new RecordingStage();
    const c: Call[] = [];
    const r = await runPaper(s, { runs: 3, experiments: [...experiments], guestsSweep: [0, 2], probes: syntheticProbes(s, c), reference: false });
    assert.equal(r.tables.map((t) => t.id), ids);
    assert.ok(s.steps.every((x) => x.experiment === experiments[0]));
    assert.equal(r.config.experiments, [...experiments]);
  }
});

test('the result records what ran: tool, version, config with the stage, clock, times', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  assert.is(result.tool, 'umlperf');
  assert.is(result.version, pkg.version);
  assert.is(result.complete, true);
  assert.not.ok('error' in result);
  assert.equal(result.warnings, []);
  assert.equal({ ...result.config }, {
    experiments: [1, 2, 3], runs: RUNS, guestsSweep: SWEEP, servers: ['www', 'dns', 'mail'], responseSizeBytes: 333, responseIterations: 77,
    throughputSeconds: 0.123, udpDatagramBytes: 1111, probeCpu: 1, transport: 'synthetic', kernel: 'none', image: 'none', labCpus: null,
    seed: 7, maxRuns: RUNS, blockOrder: 'abba', experimentOrder: 'interleaved',
  });
  assert.ok(['tsc', 'clock_monotonic_raw'].includes(result.clock.source));
  assert.ok(result.startedAt <= result.finishedAt && /^\d{4}-\d\d-\d\dT/.test(result.startedAt));
  const s = new RecordingStage();
  (s as unknown as { describe: () => object }).describe = () => ({ transport: 't', kernel: 'k', image: 'i', labCpus: '0', warnings: ['g1 retried'] });
  const r = await runPaper(s, { runs: 3, experiments: [3], guestsSweep: [0], probes: syntheticProbes(s, []), reference: false });
  assert.equal(r.warnings, ['g1 retried']);
  assert.is(r.config.probeCpu, null);
  assert.is(r.config.labCpus, '0');
  assert.not.ok('warnings' in r.config);
});

test('interrupted, or a teardown that fails: the result says which', async () => {
  const s = new RecordingStage();
  const probes = syntheticProbes(s, []);
  const abort: Probes = { ...probes, throughput: async () => Promise.reject(Object.assign(new Error('the operation was aborted'), { name: 'AbortError' })) };
  const r = await runPaper(s, { runs: 3, experiments: [1], probes: abort });
  assert.equal([r.complete, r.error], [false, 'interrupted']);
  const t = new RecordingStage();
  t.close = async () => Promise.reject(new Error('netns busy'));
  const r2 = await runPaper(t, { runs: 3, experiments: [3], guestsSweep: [0], probes: syntheticProbes(t, []) });
  assert.equal([r2.complete, r2.error], [false, 'teardown failed: netns busy']);
  assert.is(r2.tables.length, 1, 'what was measured is kept');
  const u = new RecordingStage();
  u.close = async () => Promise.reject(new Error('netns busy'));
  const r3 = await runPaper(u, { runs: 3, experiments: [1], probes: abort });
  assert.is(r3.error, 'interrupted', 'the first error is the one reported');
});

test('option errors name the option and its range', () => {
  const msg = (o: object) => {
    try {
      checkPaperOptions(o as never);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.is(msg({ runs: 0 }), 'runs must be an integer from 1 to 1000 (got 0)');
  assert.is(msg({ runs: 1001 }), 'runs must be an integer from 1 to 1000 (got 1001)');
  assert.is(msg({ experiments: [0] }), 'experiments are 1, 2 and 3');
  assert.is(msg({ guestsSweep: [1, 65] }), 'guest counts are integers from 0 to 64');
  assert.is(msg({ servers: ['dns', 'ftp'] }), 'servers are www, dns and mail');
  assert.is(msg({ probeCpu: -1 }), 'probeCpu is a CPU number');
  for (const ok of [{ runs: 1 }, { guestsSweep: [0] }, { guestsSweep: [64] }, { probeCpu: 0 }, { experiments: [2] }, { servers: ['mail'] }, { servers: [] }]) assert.is(msg(ok), 'no error', JSON.stringify(ok));
  assert.equal(checkPaperOptions({ probeCpu: 0 }).probeCpu, 0);
});

test('placement: by default the lab on the last allowed CPU and the probes on the first; --cpu LIST and any', () => {
  assert.equal(defaultPlacement([0, 1]), { probeCpu: 0, labCpus: '1' });
  assert.equal(defaultPlacement([2, 5, 6]), { probeCpu: 2, labCpus: '6' });
  assert.equal(defaultPlacement([3]), {});
  assert.equal(placementFor(undefined, [0, 1]), { probeCpu: 0, labCpus: '1' });
  assert.equal(placementFor('any', [0, 1]), {});
  assert.equal(placementFor([0], [0, 1]), { probeCpu: 1, labCpus: '0' });
  assert.equal(placementFor([1, 2, 3], [0, 1, 2, 3]), { probeCpu: 0, labCpus: '1-3' });
  assert.throws(() => placementFor([0, 1], [0, 1]), /--cpu 0-1 leaves no CPU for the probes/);
  assert.throws(() => placementFor([4], [0, 1]), /--cpu 4: this machine has CPUs 0-1 for umlperf/);
});

test.run();
