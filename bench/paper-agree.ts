// npm run bench:paper [-- A.json B.json]: do two runs of `umlperf paper` agree? For every
// figure (response p50, throughput; per side, protocol, servers, guests), is each run's median
// inside the other's 95% confidence interval of the median? Without files, runs the study twice.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MeanCi, Measurement, PaperResult } from '../src/paper/model.js';
import { packageRoot } from '../src/native.js';

function load(file: string): PaperResult {
  return JSON.parse(readFileSync(file, 'utf8')) as PaperResult;
}

function runStudy(out: string): PaperResult {
  const cli = path.join(packageRoot, 'dist', 'bin', 'umlperf.js');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, 'paper', '--format', 'json', '--out', out, ...process.argv.slice(2).filter((a) => a.startsWith('--'))], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`umlperf paper failed (status ${r.status})`);
  console.log(`umlperf paper took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return load(out);
}

const key = (m: Measurement) => `exp ${m.experiment} ${m.side} ${m.protocol} ${m.servers} ${m.guests}g`;
const inside = (x: number, c: MeanCi) => x >= c.ci95Low && x <= c.ci95High;

function main(): void {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  let a: PaperResult;
  let b: PaperResult;
  if (files.length === 2) {
    a = load(files[0]);
    b = load(files[1]);
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'umlperf-agree-'));
    try {
      a = runStudy(path.join(dir, 'a.json'));
      b = runStudy(path.join(dir, 'b.json'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const other = new Map(b.measurements.map((m) => [key(m), m]));
  let n = 0;
  let agree = 0;
  for (const m of a.measurements) {
    const o = other.get(key(m));
    if (!o || !m.responseP50Ns || !o.responseP50Ns) continue;
    for (const [what, x, y] of [['response p50 (µs)', m.responseP50Ns, o.responseP50Ns, 1e3], ['throughput (Mbps)', m.throughputMbps, o.throughputMbps, 1]] as const) {
      const scale = what.startsWith('response') ? 1e3 : 1;
      const ok = inside(x.median, y) && inside(y.median, x);
      n++;
      if (ok) agree++;
      const f = (c: MeanCi) => `${(c.median / scale).toFixed(1)} [${(c.ci95Low / scale).toFixed(1)}, ${(c.ci95High / scale).toFixed(1)}]`;
      console.log(`${key(m).padEnd(28)} ${what.padEnd(18)} ${f(x).padStart(30)} ${f(y).padStart(30)}  ${ok ? 'agree' : 'DIFFER'}`);
    }
  }
  console.log(`\n${agree} of ${n} figures agree: each run's median inside the other's 95% CI of the median`);
}

main();
