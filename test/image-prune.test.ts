// image prune: removes outdated image directories and unfinished builds whose builder is gone;
// keeps today's recipes, what it is asked to keep, live builds, and anything not an image's.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { floodBinary } from '../src/guest/flood.js';
import { endpointBinary, findBusybox, minimalRecipeName } from '../src/images/minimal.js';
import { pruneImages } from '../src/images/prune.js';
import { jsonResult, runCli, tempDir } from './helpers.js';

function cache(): { dir: string; current: string; dead: number } {
  const dir = tempDir(path.join(os.tmpdir(), 'umlperf-prune-'));
  const dead = spawnSync('true').pid!; // exited: its build is abandoned
  const outside = tempDir(path.join(os.tmpdir(), 'umlperf-prune-outside-'));
  fs.writeFileSync(path.join(outside, 'keep-me'), 'x');
  for (const d of ['minimal-0123456789abcdef', 'debian-fedcba9876543210', 'debian-aaaaaaaaaaaaaaaa', `minimal-1111111111111111.tmp-${dead}`, `debian-2222222222222222.tmp-${process.pid}`, 'not-an-image']) {
    fs.mkdirSync(path.join(dir, d, 'root'), { recursive: true });
    fs.writeFileSync(path.join(dir, d, 'base.ext2'), Buffer.alloc(64 * 1024, 1));
  }
  fs.symlinkSync(outside, path.join(dir, 'minimal-3333333333333333'));
  fs.writeFileSync(path.join(dir, 'minimal-4444444444444444'), 'a file, not an image directory');
  return { dir, current: '', dead };
}

test('prune: outdated images and abandoned builds go; current, kept, live and foreign entries stay', async () => {
  const c = cache();
  const current = await minimalRecipeName(await findBusybox(), endpointBinary(), floodBinary());
  fs.mkdirSync(path.join(c.dir, current));
  const r = await pruneImages({ cacheDir: c.dir, keep: ['debian-aaaaaaaaaaaaaaaa'] });
  assert.equal(r.removed.map((x) => x.name).sort(), ['debian-fedcba9876543210', 'minimal-0123456789abcdef', `minimal-1111111111111111.tmp-${c.dead}`].sort());
  assert.equal(r.removed.find((x) => x.name.includes('.tmp-'))!.reason, 'unfinished build');
  assert.ok(r.removed.every((x) => x.bytes >= 64 * 1024), 'each counts its allocated bytes');
  assert.is(r.bytesFreed, r.removed.reduce((a, x) => a + x.bytes, 0));
  assert.equal(fs.readdirSync(c.dir).sort(), ['debian-2222222222222222.tmp-' + process.pid, 'debian-aaaaaaaaaaaaaaaa', current, 'minimal-3333333333333333', 'minimal-4444444444444444', 'not-an-image'].sort());
  assert.equal(r.kept.find((k) => k.name === current)?.why, "today's recipe");
  // The symlink was not followed: what it points at is untouched.
  assert.ok(fs.existsSync(path.join(fs.readlinkSync(path.join(c.dir, 'minimal-3333333333333333')), 'keep-me')));
});

test('image prune CLI: --dry-run removes nothing and says what would go; JSON fits the schema; a bad cache dir is a usage error', () => {
  const c = cache();
  const before = fs.readdirSync(c.dir).sort();
  const dry = runCli(['image', 'prune', '--cache-dir', c.dir, '--dry-run', '--json']);
  assert.is(dry.status, 0, dry.stderr);
  const d = jsonResult(dry.stdout, 'image-prune');
  assert.is(d.dryRun, true);
  assert.is(d.removed.length, 4);
  assert.equal(fs.readdirSync(c.dir).sort(), before);
  const real = runCli(['image', 'prune', '--cache-dir', c.dir]);
  assert.is(real.status, 0, real.stderr);
  assert.match(real.stdout, /removed minimal-0123456789abcdef \(outdated recipe, \d+ MiB\)/);
  assert.match(real.stdout, /^freed \d+ MiB in /m);
  assert.is(fs.readdirSync(c.dir).length, before.length - 4);
  const bad = runCli(['image', 'prune', '--cache-dir', '/proc/umlperf']);
  assert.is(bad.status, 2);
  assert.is(bad.stderr.trim().split('\n').length, 1);
});

test.run();
