// Lab names, addresses and the mconsole wire format: pure functions, no guests. And the CLI's
// exit 2 for bad lab names and guest counts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { UsageError } from '../src/errors.js';
import { decodeNotify, decodeReply, encodeRequest, MCONSOLE_MAGIC, NotifyType } from '../src/lab/mconsole.js';
import { guestAddress, guestMac, labTarget, tapName, validateGuestCount, validateLabName } from '../src/lab/names.js';
import { runCli } from './helpers.js';

test('lab names: short [a-z0-9] so that <lab>g<N> fits IFNAMSIZ', () => {
  assert.is(validateLabName('umlperf'), 'umlperf');
  assert.is(validateLabName('a1234567890'.slice(0, 10)), 'a123456789');
  for (const bad of ['', 'A', '1lab', 'lab-1', 'a12345678901', 'lab_x', '../x', 7]) assert.throws(() => validateLabName(bad), (e: unknown) => e instanceof UsageError, String(bad));
  assert.ok(tapName('a123456789', 64).length <= 15);
});

test('guest counts: whole numbers 0..64', () => {
  assert.is(validateGuestCount(4), 4);
  for (const bad of [-1, 65, 1.5, NaN, '2']) assert.throws(() => validateGuestCount(bad), (e: unknown) => e instanceof UsageError, String(bad));
});

test('addresses stay in 198.18.0.0/15; MACs are fixed and locally administered', () => {
  assert.is(guestAddress(1), '198.18.0.11');
  assert.is(guestAddress(64), '198.18.0.74');
  assert.is(guestMac(1), '02:00:c6:12:00:0b');
  assert.equal(labTarget('lab1', 'host'), { netns: 'lab1-client', host: '198.18.0.1' });
  assert.equal(labTarget('lab1', 'g3'), { netns: 'lab1-client', host: '198.18.0.13' });
  for (const bad of ['g0', 'g65', 'guest1', '1', 'g01']) assert.throws(() => labTarget('lab1', bad), (e: unknown) => e instanceof UsageError, bad);
});

test('mconsole wire format: request, reply and notify as in arch/um mconsole.h', () => {
  const req = encodeRequest('version');
  assert.is(req.length, 12 + 512);
  assert.is(req.readUInt32LE(0), MCONSOLE_MAGIC);
  assert.is(req.readUInt32LE(4), 2);
  assert.is(req.readUInt32LE(8), 7);
  assert.is(req.subarray(12, 19).toString(), 'version');
  assert.throws(() => encodeRequest('x'.repeat(600)));

  const reply = Buffer.alloc(12 + 512);
  reply.writeUInt32LE(1, 0);
  reply.writeUInt32LE(1, 4);
  reply.writeUInt32LE(5, 8);
  reply.write('hello', 12);
  assert.equal(decodeReply(reply), { err: 1, more: true, text: 'hello' });

  const n = Buffer.alloc(16 + 512);
  n.writeUInt32LE(MCONSOLE_MAGIC, 0);
  n.writeUInt32LE(2, 4);
  n.writeUInt32LE(NotifyType.User, 8);
  n.writeUInt32LE(20, 12);
  n.write('umlperf ready id=g1\n', 16);
  assert.equal(decodeNotify(n), { type: NotifyType.User, text: 'umlperf ready id=g1\n' });
  n.writeUInt32LE(0xdeadbeef, 0);
  assert.is(decodeNotify(n), undefined, 'bad magic is ignored');
});

test('CLI: bad lab names and guest counts exit 2 with one line', () => {
  for (const args of [['lab', 'up', '--lab', 'Bad-Name'], ['lab', 'up', '--lab', 'ok', '--guests', '65'], ['lab', 'up', '--guests', '-1'],
    ['lab', 'status', '--lab', 'x_y'], ['cleanup', '--lab', 'NO'], ['cleanup', '--lab', 'a', '--all'], ['lab', 'up', '--transport', 'slirp']]) {
    const r = runCli(args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^umlperf: /);
  }
});

test.run();
