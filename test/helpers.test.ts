// The test helpers' own guarantees: a child a test started always ends, whatever it does with SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { stop } from './helpers.js';

const started = async (script: string) => {
  const child = spawn('sh', ['-c', `${script}; echo ready; while :; do sleep 0.05; done`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await once(child.stdout!, 'data');
  return child;
};

test('stop: a child that honours SIGTERM ends by it', async () => {
  const child = await started(':');
  await stop(child, 5000);
  assert.is(child.signalCode, 'SIGTERM');
});

test('stop: a child that ignores SIGTERM is killed once the grace is over, so no test waits on it forever', async () => {
  const child = await started('trap "" TERM');
  const t0 = Date.now();
  await stop(child, 200);
  assert.is(child.signalCode, 'SIGKILL');
  assert.ok(Date.now() - t0 >= 150, `${Date.now() - t0} ms`);
  // Already gone: resolves at once.
  await stop(child, 200);
});

test.run();
