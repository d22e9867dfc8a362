// The one wait every lab, health check and isolation run uses: done, too late, or cancelled.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pollUntil, sleep } from '../src/wait.js';

test('pollUntil: true at the first try that holds, without waiting out the deadline', async () => {
  let calls = 0;
  const t0 = performance.now();
  assert.is(await pollUntil(() => ++calls === 3, { timeoutMs: 10_000, intervalMs: 10 }), true);
  assert.is(calls, 3);
  assert.ok(performance.now() - t0 < 5000);
});

test('pollUntil: false once the deadline has passed, after a last try at or after it', async () => {
  const t0 = performance.now();
  let calls = 0;
  let lastAt = 0;
  assert.is(await pollUntil(() => {
    calls++;
    lastAt = performance.now() - t0;
    return false;
  }, { timeoutMs: 200, intervalMs: 30 }), false);
  assert.ok(lastAt >= 200, `the last try came at ${lastAt} ms, before the deadline`);
  assert.ok(calls >= 2 && calls <= 200 / 30 + 3, `${calls} tries`);
  // A condition that comes true only at the deadline is still seen.
  const t1 = performance.now();
  assert.is(await pollUntil(() => performance.now() - t1 >= 150, { timeoutMs: 150, intervalMs: 100 }), true);
});

test('pollUntil: async tries; a try that does work each round', async () => {
  let n = 0;
  assert.is(await pollUntil(async () => {
    await sleep(1);
    return ++n >= 2;
  }, { timeoutMs: 5000, intervalMs: 5 }), true);
  assert.is(n, 2);
});

test('pollUntil: cancel rejects with an AbortError, before the deadline; an aborted signal tries nothing', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const t0 = performance.now();
  const e = await pollUntil(() => false, { timeoutMs: 60_000, intervalMs: 1000, signal: ac.signal }).then(() => null, (x) => x);
  assert.ok(e, 'cancelled');
  assert.is(e.name, 'AbortError');
  assert.is(e.code, 'ABORT_ERR');
  assert.ok(performance.now() - t0 < 30_000);
  let calls = 0;
  const e2 = await pollUntil(() => ++calls > 0, { timeoutMs: 1000, intervalMs: 10, signal: ac.signal }).then(() => null, (x) => x);
  assert.is(e2?.name, 'AbortError');
  assert.is(calls, 0);
});

test('sleep: resolves after the time; rejects at once on cancel', async () => {
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 29);
  const ac = new AbortController();
  const p = sleep(60_000, ac.signal);
  ac.abort();
  const e = await p.then(() => null, (x) => x);
  assert.is(e?.name, 'AbortError');
});

test.run();
