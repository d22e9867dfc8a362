// A process using umlperf must exit cleanly whatever is running: forked children at each stage.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageRoot } from '../src/native.js';
import path from 'node:path';

const index = path.join(packageRoot, 'dist', 'src', 'index.js');

function child(body: string): { status: number | null; signal: string | null; stderr: string; stdout: string; ms: number } {
  const code = `import * as u from ${JSON.stringify(index)};\n${body}`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout, ms: Date.now() - t0 };
}

test('process.exit() with an endpoint and a probe running', () => {
  const r = child(`
    const ep = await u.startEndpoint({ port: 0 });
    u.responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 1e8 }).catch(() => {});
    setTimeout(() => process.exit(0), 200);`);
  assert.is(r.signal, null, r.stderr);
  assert.is(r.status, 0, r.stderr);
});

test('an uncaught exception with a spinning probe running', () => {
  const r = child(`
    const ep = await u.startEndpoint({ port: 0 });
    u.responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 1e8, wait: 'spin' }).catch(() => {});
    setTimeout(() => { throw new Error('boom'); }, 200);`);
  assert.is(r.signal, null, r.stderr);
  assert.is(r.status, 1);
  assert.match(r.stderr, /boom/);
});

test('after an abort the process ends on its own once the endpoint closes', () => {
  const r = child(`
    const ep = await u.startEndpoint({ port: 0 });
    const ac = new AbortController();
    const p = u.throughput({ host: '127.0.0.1', port: ep.discardPort, durationS: 60, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    try { await p } catch (e) { console.log(e.name) }
    await ep.close();`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'AbortError');
});

test('an unref()ed endpoint does not keep the process alive; a ref()ed one does until closed', () => {
  const r = child(`const ep = await u.startEndpoint({ port: 0 }); ep.unref(); console.log('bye');`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'bye');
  const k = child(`const ep = await u.startEndpoint({ port: 0 }); setTimeout(() => ep.close(), 300);`);
  assert.is(k.status, 0, k.stderr);
  assert.ok(k.ms >= 300, 'kept alive until close');
});

test('worker thread teardown joins a running probe', () => {
  const r = child(`
    const { Worker } = await import('node:worker_threads');
    const ep = await u.startEndpoint({ port: 0 });
    const w = new Worker(\`
      import(${JSON.stringify(index)}).then((u) => {
        u.responseTime({ host: '127.0.0.1', port: \${ep.echoPort}, iterations: 1e8 }).catch(() => {});
      });\`, { eval: true });
    setTimeout(async () => { await w.terminate(); await ep.close(); console.log('terminated'); }, 300);`);
  assert.is(r.signal, null, r.stderr);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'terminated');
});

test.run();
