// Experiment 4 on real guests, kept short (3 s windows): every fault gets a verdict for both
// neighbours, the faulty guest's host cost shows the busy loops, the flood stays within its cap,
// the panicked and crashed guests are replaced, each fault leaves no process of its own behind
// in the faulty guest's cgroup, and the lab leaves nothing behind; then the CLI is interrupted
// mid-fault (SIGINT) and killed mid-fault (SIGKILL + cleanup).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

import { isolate } from '../src/isolate/run.js';
import { FAULTS, FLOOD_MAX_MBPS } from '../src/isolate/faults.js';
import { cgroupPids } from '../src/lab/cgroup.js';
import type { IsolateResult } from '../src/isolate/model.js';
import { labDir } from '../src/lab/names.js';
import { readState } from '../src/lab/state.js';
import { teardownLab } from '../src/lab/teardown.js';
import { assertResult, cliPath, runCli } from './helpers.js';
import { labSnapshot, leftovers, until, type LabSnapshot } from './lab-helpers.js';

let seq = 0;
const nextLab = () => `is${(process.pid % 100000).toString(36)}${(seq++).toString(36)}`.slice(0, 10);
const used: string[] = [];

test.after(async () => {
  for (const l of used) await teardownLab(l, { graceful: false }).catch(() => undefined);
});

/** Watches a lab while something else drives it: its last snapshot, for the leftover check. */
function watch(lab: string): { stop(): LabSnapshot } {
  let snap: LabSnapshot = { processes: [] };
  const seen = new Map<string, LabSnapshot['processes'][0]>();
  const t = setInterval(() => {
    if (!readState(lab)) return;
    const s = labSnapshot(lab);
    for (const p of s.processes) seen.set(`${p.pid}:${p.startTime}`, p);
    snap = { ...s, processes: [...seen.values()] };
  }, 100);
  return {
    stop() {
      clearInterval(t);
      return snap;
    },
  };
}

test('every fault in g1: a verdict per neighbour, the host cost of the fault, the flood capped, broken guests replaced, nothing left after each fault or the run', async () => {
  const lab = nextLab();
  used.push(lab);
  const w = watch(lab);
  // g1's host processes when each fault is injected, and once its verdict is in (undone by then).
  const g1 = new Map<string, { at: number; after?: number }>();
  const progress = (line: string) => {
    const m = /^ {2}(\w+): (injected|g2 )/.exec(line);
    if (!m) return;
    const n = cgroupPids(lab, 'g1').length;
    if (m[2] === 'injected') g1.set(m[1], { at: n });
    else if (g1.has(m[1])) g1.get(m[1])!.after = n;
  };
  let r: IsolateResult;
  try {
    r = await isolate({ name: lab, windowS: 3, afterMaxS: 4, progress });
  } finally {
    const snap = w.stop();
    assert.equal(leftovers(lab, snap), [], 'the lab is gone after the run');
  }
  assertResult(JSON.parse(JSON.stringify(r)), 'isolate');
  const faults = r.passes[0].faults;
  assert.equal(faults.map((f) => f.fault), [...FAULTS]);
  for (const f of faults) {
    assert.is(f.unsupported, undefined, `${f.fault}: ${f.outcome}`);
    assert.equal(f.neighbours.map((n) => n.neighbour).sort(), ['g2', 'host'], `${f.fault}: both neighbours judged`);
    for (const n of f.neighbours) assert.ok(['isolated', 'degraded', 'broken'].includes(n.verdict.kind), `${f.fault} ${n.neighbour}`);
    assert.ok(f.endMs - f.startMs >= 3000, `${f.fault} lasted its window (${f.endMs - f.startMs} ms)`);
    for (const ph of ['before', 'during', 'after'] as const)
      assert.ok(f.metrics.some((m) => m.neighbour === 'g2' && m.metric === 'tcpP50Ns' && m[ph] !== null), `${f.fault}: g2 measured ${ph}`);
    // Undone: the fault's processes (busy loops, the bomb, allocators, writers) are gone from
    // g1's cgroup by its verdict, or at the latest when the next fault starts (processes the OOM
    // killer hit can take seconds to leave under memory pressure); none lingers into the next.
    const c = g1.get(f.fault);
    assert.ok(c && c.after !== undefined, `${f.fault}: g1 counted`);
    const next = g1.get(FAULTS[FAULTS.indexOf(f.fault) + 1] ?? '');
    const settled = Math.min(c!.after!, next?.at ?? Infinity);
    assert.ok(settled <= c!.at + 3, `${f.fault}: ${c!.after} host processes in g1 after it, ${next?.at ?? '-'} when the next fault started, ${c!.at} when it started`);
  }
  const by = Object.fromEntries(faults.map((f) => [f.fault, f]));
  assert.match(by.cpu.outcome, /cpu: 4 loops for 3 s/);
  // The busy loops show in the faulty guest's cgroup (generous: the machine is shared).
  assert.ok((by.cpu.hostCost.cpuDuring ?? 0) > 0.1 && (by.cpu.hostCost.cpuDuring ?? 0) > (by.cpu.hostCost.cpuBefore ?? 0) * 5, JSON.stringify(by.cpu.hostCost));
  assert.ok((by.fork.hostCost.memPeakBytesDuring ?? 0) > (by.fork.hostCost.memBytesBefore ?? Infinity), `the bomb's processes cost host memory: ${JSON.stringify(by.fork.hostCost)}`);
  assert.ok(by.fork.outlived || /fork: \d+ processes left/.test(by.fork.outcome), by.fork.outcome);
  assert.ok(by.flood.floodBytes !== undefined && by.flood.floodBytes > 0, by.flood.outcome);
  assert.ok(by.flood.floodBytes! <= (FLOOD_MAX_MBPS * 1e6 / 8) * 3 + 1472, `${by.flood.floodBytes} bytes in 3 s`);
  assert.is(by.panic.replaced, true);
  assert.match(by.panic.outcome, /the guest is down/);
  assert.is(by.crash.replaced, true);
  assert.match(by.crash.outcome, /crash: umlperf-endpoint pid/);
  assert.ok(r.config.baselineSlices! >= 2);
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

/** Starts `umlperf isolate` with a long fork bomb and waits until the bomb runs (g1's exec channel is held). */
async function midFault(lab: string): Promise<{ child: ChildProcess; done: ReturnType<typeof exited>; w: ReturnType<typeof watch> }> {
  used.push(lab);
  const child = spawn(process.execPath, [cliPath, 'isolate', '--lab', lab, '--faults', 'fork', '--window', '30s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = exited(child);
  const w = watch(lab);
  const running = await until(() => fs.existsSync(`${labDir(lab)}/g1.exec-in.lock`), 90_000);
  assert.ok(running, 'the fault started');
  await new Promise((r) => setTimeout(r, 2000));
  return { child, done, w };
}

test('SIGINT mid-fault: the CLI stops, tears the lab down, leaves nothing', async () => {
  const lab = nextLab();
  const { child, done, w } = await midFault(lab);
  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([done, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), 60_000)))]);
  clearTimeout(timer);
  assert.ok(r, 'the CLI ended within 60 s of SIGINT');
  assert.is.not(r!.code, 0, r!.stderr);
  assert.not.match(r!.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(leftovers(lab, w.stop()), []);
});

test('SIGKILL mid-fault, then umlperf cleanup: nothing left', async () => {
  const lab = nextLab();
  const { child, done, w } = await midFault(lab);
  child.kill('SIGKILL');
  await done;
  const c = runCli(['cleanup', '--lab', lab]);
  assert.is(c.status, 0, c.stderr);
  assert.equal(leftovers(lab, w.stop()), []);
});

test('bad input: one line, exit status 2, before any lab is made', async () => {
  for (const [args, re] of [
    [['isolate', '--faults', 'cpu,nope'], /"nope" is not one of/],
    [['isolate', '--limit', 'mem=64M'], /below the guest's mem=64M/],
    [['isolate', '--limit', 'cpu=50'], /bad --limit/],
    [['isolate', '--window', '0'], /--window/],
    [['isolate', '--servers', 'dns'], /needs --image debian/],
    [['lab', 'up', '--lab', 'isbad', '--limit', 'swap=1G'], /unknown limit "swap"/],
  ] as [string[], RegExp][]) {
    const r = runCli(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.not.ok(fs.existsSync(labDir('isbad')));
});

test.run();
