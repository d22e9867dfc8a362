// npm run bench:fpu: what the FPU-state adapter costs, measured side by side in one run.
//   1. GETREGSET+SETREGSET(NT_X86_XSTATE) pairs on a traced child: directly with a buffer of
//      the host's size, and through the adapter with a buffer it must widen (576 bytes: the
//      path an AMX host takes for UML's 2696-byte buffer) or copy (host size, forced).
//   2. A syscall-heavy loop inside a guest (getppid, timed by the guest), adapter passing
//      through vs every save/restore forced through its copying path.
//   3. Guest TCP 64 B response time p50 from the lab's client, the same two ways.
// Rounds alternate the variants; medians and their ratio are printed.
import { spawnSync } from 'node:child_process';

import { labDown, labUp } from '../src/lab/lab.js';
import { nativeArtifact } from '../src/artifacts.js';
import { fpuAdapterPath } from '../src/lab/fpu.js';
import { runOneShotGuest } from '../src/lab/oneshot.js';
import { labTarget } from '../src/lab/names.js';
import { responseTime } from '../src/probes.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 200_000);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function pairs(size: number, env: NodeJS.ProcessEnv): number {
  const r = spawnSync(nativeArtifact('umlperf-regset-check'), [String(size), '--pairs', String(PAIRS)], {
    encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH, ...env },
  });
  const j = JSON.parse(r.stdout) as { error: number; nsPerPair: number; hostBytes: number };
  if (j.error) throw new Error(`regset pairs at ${size} B failed: errno ${j.error}`);
  return j.nsPerPair;
}

function row(what: string, unit: string, a: number[], b: number[], aName: string, bName: string): void {
  const ma = median(a), mb = median(b);
  console.log(`${what.padEnd(52)} ${aName} ${ma.toFixed(1).padStart(9)} ${unit}   ${bName} ${mb.toFixed(1).padStart(9)} ${unit}   ratio ${(mb / ma).toFixed(3)}`);
}

async function main(): Promise<void> {
  const lib = fpuAdapterPath();
  const host = JSON.parse(spawnSync(nativeArtifact('umlperf-regset-check'), ['576'], { encoding: 'utf8' }).stdout).hostBytes as number;
  console.log(`host XSAVE area ${host} B; ${ROUNDS} alternating rounds; ${PAIRS} pairs per round`);

  const direct: number[] = [], widened: number[] = [], copied: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    direct.push(pairs(host, {}));
    widened.push(pairs(576, { LD_PRELOAD: lib }));
    copied.push(pairs(host, { LD_PRELOAD: lib, UMLPERF_FPU_ADAPT: 'always' }));
  }
  row('GETREGSET+SETREGSET pair, widened from 576 B', 'ns', direct, widened, 'direct', 'adapter');
  row('GETREGSET+SETREGSET pair, copied at host size', 'ns', direct, copied, 'direct', 'adapter');

  const guestRounds = Math.max(3, Math.ceil(ROUNDS / 2));
  const pass: number[] = [], forced: number[] = [];
  const syscalls = async (env: NodeJS.ProcessEnv) => {
    const r = await runOneShotGuest({ program: nativeArtifact('umlperf-fpcheck'), args: ['--syscalls', '200000'], env: { LD_PRELOAD: lib, ...env }, timeoutMs: 120_000 });
    const m = /syscalls: n=\d+ ns_per_call=(\d+)/.exec(r.log);
    if (!m) throw new Error(`no syscall figure; log ends: ${r.log.slice(-300)}`);
    return Number(m[1]);
  };
  for (let i = 0; i < guestRounds; i++) {
    pass.push(await syscalls({}));
    forced.push(await syscalls({ UMLPERF_FPU_ADAPT: 'always' }));
  }
  row('guest getppid() loop, per call (guest clock)', 'ns', pass, forced, 'pass ', 'copy ');

  const p50 = async (lab: string, force: boolean): Promise<number> => {
    const saved = process.env.UMLPERF_FPU_ADAPT;
    if (force) process.env.UMLPERF_FPU_ADAPT = 'always';
    else delete process.env.UMLPERF_FPU_ADAPT;
    try {
      await labUp({ name: lab, guests: 1 });
    } finally {
      if (saved === undefined) delete process.env.UMLPERF_FPU_ADAPT;
      else process.env.UMLPERF_FPU_ADAPT = saved;
    }
    try {
      const t = labTarget(lab, 'g1');
      const r = await responseTime({ host: t.host, netns: t.netns, protocol: 'tcp', size: 64, iterations: 5000, warmup: 500 });
      return r.latency.p50Ns / 1000;
    } finally {
      await labDown(lab);
    }
  };
  const rtPass: number[] = [], rtForced: number[] = [];
  const lab = `bf${(process.pid % 100000).toString(36)}`;
  for (let i = 0; i < guestRounds; i++) {
    rtPass.push(await p50(lab, false));
    rtForced.push(await p50(lab, true));
  }
  row('guest TCP 64 B response time p50', 'µs', rtPass, rtForced, 'pass ', 'copy ');
}

main().catch((e) => {
  console.error(`bench:fpu: ${(e as Error).message}`);
  process.exit(1);
});
