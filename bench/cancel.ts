// npm run bench:cancel: how long an aborted probe takes to settle, for every probe, protocol,
// phase and wait mode, against a peer that never answers (the cases of test/cancel.test.ts).
// Prints the median and the largest time from abort() to the promise settling, over
// BENCH_ROUNDS rounds (default 10), and whether every case stayed within 100 ms.
// Needs a quiet machine for figures worth quoting; busy-poll needs CAP_NET_ADMIN.
import { cancelCases, runCancelCase } from '../test/fixtures/cancel-cases.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const TARGET_MS = 100;

const rows: { name: string; wait: string; medianMs: number; maxMs: number; ok: boolean }[] = [];
for (const c of cancelCases) {
  const times: number[] = [];
  let ok = true;
  for (let i = 0; i < ROUNDS; i++) {
    const out = await runCancelCase(c, 5000);
    ok &&= out.settled && out.errorName === 'AbortError' && out.causeIsReason === true;
    times.push(out.settled ? out.settleMs : Infinity);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const medianMs = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  rows.push({ name: c.name, wait: c.wait, medianMs, maxMs: times[times.length - 1], ok });
}

const w = Math.max(...rows.map((r) => r.name.length));
console.log(`abort -> settle, ${ROUNDS} rounds per case (ms)`);
console.log(`${'probe'.padEnd(w)}  ${'wait'.padEnd(9)}  ${'median'.padStart(8)}  ${'max'.padStart(8)}  AbortError`);
for (const r of rows) {
  console.log(`${r.name.padEnd(w)}  ${r.wait.padEnd(9)}  ${r.medianMs.toFixed(2).padStart(8)}  ${r.maxMs.toFixed(2).padStart(8)}  ${r.ok ? 'yes' : 'NO'}`);
}
const worst = Math.max(...rows.map((r) => r.maxMs));
const within = rows.every((r) => r.ok && r.maxMs <= TARGET_MS);
console.log(`worst case ${worst.toFixed(2)} ms: ${within ? `every probe settled within ${TARGET_MS} ms` : `NOT every probe settled within ${TARGET_MS} ms`}`);
process.exit(within ? 0 : 1);
