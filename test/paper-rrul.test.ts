// paper's opt-in latency-under-load row: absent by default; with rrul, one row per side,
// measured against that side's target (two endpoints on loopback stand in for host and guest).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { latencyUnderLoad, responseTime, startEndpoint, throughput, type Endpoint } from '../src/index.js';
import type { Probes } from '../src/paper/experiments.js';
import { checkPaperOptions, runPaper } from '../src/paper/run.js';
import type { Stage } from '../src/paper/stage.js';
import type { Side } from '../src/paper/model.js';
import { paperCsv, paperMarkdown, paperText } from '../src/report/paper.js';
import { paperHtml } from '../src/report/paper-html.js';
import { assertResult } from './helpers.js';

class LoopbackStage implements Stage {
  constructor(private eps: Record<Side, Endpoint>) {}
  async arrange(): Promise<void> {}
  target(side: Side) {
    const e = this.eps[side];
    return { host: '127.0.0.1', echoPort: e.echoPort, discardPort: e.discardPort, sourcePort: e.chargenPort };
  }
  describe() {
    return { transport: 'loopback', kernel: 'none', image: 'none', labCpus: null };
  }
  async close(): Promise<void> {}
}

async function study(rrul: boolean) {
  const host = await startEndpoint({ port: 0 });
  const guest = await startEndpoint({ port: 0 });
  const calls: { echoPort: number; sourcePort: number; streams: number }[] = [];
  const probes: Probes = {
    responseTime,
    throughput: (o) => throughput(o.findMaxRate ? { ...o, durationS: 0.05, maxTrials: 2 } : o),
    latencyUnderLoad: (o) => {
      calls.push({ echoPort: o.echoPort!, sourcePort: o.sourcePort!, streams: o.streams! });
      return latencyUnderLoad(o);
    },
  };
  try {
    const r = await runPaper(new LoopbackStage({ host, guest }), {
      experiments: [1], runs: 3, responseIterations: 20, throughputSeconds: 0.05, probes, reference: false,
      ...(rrul ? { rrul: { streams: 2, durationS: 0.5 } } : {}),
    });
    return { r, calls, host, guest };
  } finally {
    await host.close();
    await guest.close();
  }
}

test('paper: no rrul row unless asked for', async () => {
  const { r, calls } = await study(false);
  assert.ok(r.complete, r.error);
  assert.is(r.rrul, undefined);
  assert.is(calls.length, 0);
  assert.not.match(paperText(r), /Latency under load/);
  assert.not.match(paperMarkdown(r), /Latency under load/);
  assert.not.match(paperHtml(r), /id="h-rrul"/);
  assert.not.match(paperCsv(r), /^rrul/m);
  // Experiment 1 alone has no mail server to speak of.
  assert.not.match(paperText(r), /Postfix/);
  assert.not.match(paperHtml(r), /Postfix/);
});

test('paper --rrul: a row per side, each against its own side\'s echo and chargen', async () => {
  const { r, calls, host, guest } = await study(true);
  assert.ok(r.complete, r.error);
  assert.equal(r.rrul!.map((x) => x.side), ['host', 'guest']);
  assert.equal(calls, [
    { echoPort: host.echoPort, sourcePort: host.chargenPort, streams: 2 },
    { echoPort: guest.echoPort, sourcePort: guest.chargenPort, streams: 2 },
  ]);
  for (const row of r.rrul!) {
    assert.ok(row.tcp.loaded.latency.count > 0 && row.udp.idle.latency.count > 0);
    assert.ok(row.bulk.sentMbps > 0 && row.bulk.receivedMbps > 0);
  }
  assert.match(paperText(r), /Latency under load \(RRUL\): 2 bulk TCP streams each way/);
  assert.match(paperMarkdown(r), /## Latency under load \(RRUL\)[^\n]*\n\n\| side \| protocol \| p50 idle/);
  assert.match(paperHtml(r), /<h2 id="h-rrul">Latency under load/);
  // CSV: per side and protocol an idle and a loaded row; the loaded one carries the bulk rate.
  const lines = paperCsv(r).trim().split('\n');
  const head = lines[0].split(',');
  const rows = lines.slice(1).map((l) => l.split(',')).filter((c) => c[0].startsWith('rrul'));
  assert.is(rows.length, 8);
  const col = (name: string) => head.indexOf(name);
  for (const x of r.rrul!) {
    const loaded = rows.find((c) => c[0] === 'rrul-loaded' && c[col('side')] === x.side && c[col('protocol')] === 'tcp')!;
    const idle = rows.find((c) => c[0] === 'rrul-idle' && c[col('side')] === x.side && c[col('protocol')] === 'udp')!;
    assert.ok(Math.abs(Number(loaded[col('p50_us')]) - x.tcp.loaded.latency.p50Ns / 1e3) < 0.001);
    assert.ok(Math.abs(Number(idle[col('p99_us')]) - x.udp.idle.latency.p99Ns / 1e3) < 0.001);
    assert.ok(Math.abs(Number(loaded[col('throughput_Mbps')]) - x.bulk.Mbps) < 1e-6);
    assert.is(idle[col('throughput_Mbps')], '');
  }
  assertResult(JSON.parse(JSON.stringify(r)), 'paper');
});

test('paper rrul options are checked before anything runs', () => {
  assert.throws(() => checkPaperOptions({ rrul: { streams: 0 } }), /rrul streams/);
  assert.throws(() => checkPaperOptions({ rrul: { durationS: 0.1 } }), /rrul durationS/);
  assert.equal(checkPaperOptions({ rrul: true }).rrul, { streams: 4, durationS: 4 });
  assert.is(checkPaperOptions({}).rrul, undefined);
});

test.run();
