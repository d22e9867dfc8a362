// npm run bench:net [-- A B]: two network configurations (lab up --net lines or presets;
// default builtin against mtu=9000) side by side, in alternating order (ABBA…), each round in
// fresh labs: guest and host TCP throughput both ways, TCP p50, the guest's loss-free UDP rate.
// Prints per-round figures, medians, guest/host ratios and B/A ratios of medians.
// BENCH_ROUNDS (default 4). Needs a quiet machine for figures worth quoting.
import os from 'node:os';

import { resolveNet } from '../src/lab/net-config.js';
import { measureNet, TUNE_SHAPES, type HostFigures } from '../src/tune/run.js';
import type { TuneFigures } from '../src/tune/model.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const [a = 'builtin', b = 'mtu=9000'] = process.argv.slice(2);
const configs = { A: resolveNet(a), B: resolveNet(b) };
const got: Record<'A' | 'B', { g: TuneFigures; h: HostFigures }[]> = { A: [], B: [] };
const prefix = `tb${(process.pid % 1296).toString(36)}`;
const ac = new AbortController();
process.once('SIGINT', () => ac.abort());
const t0 = performance.now();
let n = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (const k of (r % 2 === 0 ? ['A', 'B'] : ['B', 'A']) as ('A' | 'B')[]) {
    const m = await measureNet(`${prefix}${(n++).toString(36)}`, configs[k].config, TUNE_SHAPES.full, true, ac.signal);
    got[k].push({ g: m.figures, h: m.host! });
    console.log(`round ${r + 1} ${k}: in ${m.figures.forwardMbps.toFixed(0)} out ${m.figures.reverseMbps.toFixed(0)} Mbps (host ${m.host!.forwardMbps.toFixed(0)} / ${m.host!.reverseMbps.toFixed(0)}), TCP p50 ${(m.figures.tcpP50Ns / 1000).toFixed(1)} µs (host ${(m.host!.tcpP50Ns / 1000).toFixed(1)}), UDP loss-free ${m.figures.udpLossFreeMbps.toFixed(0)} Mbps`);
  }
}
const med = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows: [string, (x: { g: TuneFigures; h: HostFigures }) => number][] = [
  ['guest TCP in Mbps', (x) => x.g.forwardMbps],
  ['guest TCP out Mbps', (x) => x.g.reverseMbps],
  ['guest/host TCP in', (x) => x.g.forwardMbps / x.h.forwardMbps],
  ['guest/host TCP out', (x) => x.g.reverseMbps / x.h.reverseMbps],
  ['guest TCP p50 µs', (x) => x.g.tcpP50Ns / 1000],
  ['guest/host TCP p50', (x) => x.g.tcpP50Ns / x.h.tcpP50Ns],
  ['guest UDP loss-free Mbps', (x) => x.g.udpLossFreeMbps],
];
console.log(`\nA = ${configs.A.line || 'builtin'}, B = ${configs.B.line || 'builtin'}; ${ROUNDS} rounds, medians; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log(`${'figure'.padEnd(26)} ${'A'.padStart(10)} ${'B'.padStart(10)} ${'B/A'.padStart(7)}`);
for (const [name, f] of rows) {
  const ma = med(got.A.map(f)), mb = med(got.B.map(f));
  console.log(`${name.padEnd(26)} ${ma.toFixed(2).padStart(10)} ${mb.toFixed(2).padStart(10)} ${(mb / ma).toFixed(2).padStart(7)}`);
}
