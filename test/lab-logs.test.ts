// Console logs of failed guests are kept where no other user can plant anything: a root-owned
// 0700 directory, files made with O_EXCL|O_NOFOLLOW under unpredictable names, a bounded count.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { KEPT_LOGS, keepFile } from '../src/lab/logs.js';
import { KEPT_LOGS_DIR } from '../src/lab/names.js';
import { tempDir } from './helpers.js';

const tmp = tempDir(path.join(os.tmpdir(), 'umlperf-hll-'));
const src = path.join(tmp, 'g1.log');
const dir = path.join(tmp, 'kept');

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the default place is root\'s 0700 directory under /var/lib/umlperf; the copy is 0600', () => {
  fs.writeFileSync(src, 'console\n');
  const kept = keepFile(src, 'hltest-g1');
  try {
    assert.is(path.dirname(kept), KEPT_LOGS_DIR);
    assert.not.ok(kept.startsWith('/tmp/'));
    const d = fs.lstatSync(KEPT_LOGS_DIR);
    assert.ok(d.isDirectory() && d.uid === 0 && (d.mode & 0o777) === 0o700);
    assert.is(fs.statSync(kept).mode & 0o777, 0o600);
    assert.is(fs.readFileSync(kept, 'utf8'), 'console\n');
  } finally {
    fs.rmSync(kept, { force: true });
  }
});

test('two copies of the same log get distinct names (nothing to predict and plant)', () => {
  fs.mkdirSync(dir, { mode: 0o700 });
  const a = keepFile(src, 'lab-g1', dir);
  const b = keepFile(src, 'lab-g1', dir);
  assert.is.not(a, b);
});

test('a directory that others can enter, or a symlink to one, is refused', () => {
  const open = path.join(tmp, 'open');
  fs.mkdirSync(open, { mode: 0o755 });
  fs.chmodSync(open, 0o755);
  const link = path.join(tmp, 'link');
  fs.symlinkSync(dir, link);
  for (const d of [open, link]) {
    try {
      keepFile(src, 'x', d);
      assert.unreachable(`${d} accepted`);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'ERR_UMLPERF_UNSAFE');
    }
  }
  assert.is(fs.readdirSync(open).length, 0);
});

test(`at most ${KEPT_LOGS} logs are kept, the newest`, () => {
  let last = '';
  for (let i = 0; i < KEPT_LOGS + 5; i++) last = keepFile(src, `lab-g${i}`, dir);
  const left = fs.readdirSync(dir);
  assert.is(left.length, KEPT_LOGS);
  assert.ok(left.includes(path.basename(last)));
});

test.run();
