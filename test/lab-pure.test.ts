// Lab names, addresses and the state file as plain functions: no namespaces, no guests. The
// state file test uses a lab directory of its own under /run/umlperf and removes it.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../src/errors.js';
import {
  BRIDGE, CLIENT_ADDRESS, CLIENT_MAC, DEFAULT_LAB, HOST_ADDRESS, HOST_MAC, MAX_GUESTS, RUN_ROOT, SUBNET_PREFIX, VETH,
  clientNetns, guestAddress, guestId, guestMac, guestNumber, hostNetns, labDir, labTarget, tapName, validateGuestCount, validateLabName,
} from '../src/lab/names.js';
import { listLabs, readState, stateFile, StateRecorder, writeState, type LabState } from '../src/lab/state.js';

const usage = (e: unknown) => e instanceof UsageError && (e as UsageError).code === 'ERR_UMLPERF_USAGE';

test('lab names: a letter then up to 9 of a-z0-9; the message names the bad value', () => {
  for (const ok of ['a', 'umlperf', 'a123456789', 'z9']) assert.is(validateLabName(ok), ok);
  for (const bad of ['', 'A', '1lab', 'lab-1', 'a1234567890', 'lab_x', '../x', 'a b', 'ab\n', ' ab', 7, null, undefined]) assert.throws(() => validateLabName(bad), usage, String(bad));
  assert.throws(() => validateLabName('Bad'), /bad lab name "Bad": 1-10 characters of a-z and 0-9, starting with a letter/);
  assert.is(DEFAULT_LAB, 'umlperf');
});

test('guest counts: whole numbers 0..64', () => {
  for (const ok of [0, 1, 64]) assert.is(validateGuestCount(ok), ok);
  for (const bad of [-1, 65, 1.5, NaN, Infinity, '2', null]) assert.throws(() => validateGuestCount(bad), usage, String(bad));
  assert.throws(() => validateGuestCount(65), /bad guest count 65: a whole number from 0 to 64/);
  assert.is(MAX_GUESTS, 64);
});

test('guest ids: g1..g64, no leading zero', () => {
  assert.is(guestNumber('g1'), 1);
  assert.is(guestNumber('g64'), 64);
  assert.is(guestNumber('g10'), 10);
  for (const bad of ['g0', 'g65', 'g01', 'G1', 'g', 'g1x', 'xg1', 'guest1', '1', 'host', '']) assert.throws(() => guestNumber(bad), usage, bad);
  assert.throws(() => guestNumber('g0'), /bad target "g0": host or g1\.\.g64/);
  assert.is(guestId(7), 'g7');
});

test('the address plan: 198.18.0.0/24 inside the lab, fixed locally administered MACs', () => {
  assert.equal([HOST_ADDRESS, CLIENT_ADDRESS, SUBNET_PREFIX], ['198.18.0.1', '198.18.0.2', 24]);
  assert.equal([HOST_MAC, CLIENT_MAC], ['02:00:c6:12:00:01', '02:00:c6:12:00:02']);
  assert.is(guestAddress(1), '198.18.0.11');
  assert.is(guestAddress(64), '198.18.0.74');
  assert.is(guestMac(1), '02:00:c6:12:00:0b');
  assert.is(guestMac(5), '02:00:c6:12:00:0f');
  assert.is(guestMac(6), '02:00:c6:12:00:10');
  assert.is(guestMac(64), '02:00:c6:12:00:4a');
  assert.equal([VETH, BRIDGE], ['veth0', 'br0']);
});

test('names of what a lab makes: namespaces, TAPs within IFNAMSIZ, its directory', () => {
  assert.is(clientNetns('lab1'), 'lab1-client');
  assert.is(hostNetns('lab1'), 'lab1-host');
  assert.is(tapName('lab1', 3), 'lab1g3');
  assert.ok(tapName('a123456789', 64).length <= 15);
  assert.is(RUN_ROOT, '/run/umlperf');
  assert.is(labDir('lab1'), '/run/umlperf/lab1');
  assert.is(stateFile('lab1'), '/run/umlperf/lab1/state.json');
  assert.equal(labTarget('lab1', 'host'), { netns: 'lab1-client', host: '198.18.0.1' });
  assert.equal(labTarget('lab1', 'g3'), { netns: 'lab1-client', host: '198.18.0.13' });
  assert.throws(() => labTarget('Lab', 'host'), usage);
  assert.throws(() => labTarget('lab1', 'g0'), usage);
});

const LAB = `hc${(process.pid % 46656).toString(36)}st`;

function blank(): LabState {
  return {
    version: 1, name: LAB, status: 'starting', createdAt: '2026-01-01T00:00:00.000Z', creatorPid: process.pid, dir: labDir(LAB),
    netns: [], links: [], processes: [], files: [], guests: [],
    client: { netns: clientNetns(LAB), address: CLIENT_ADDRESS }, host: { netns: hostNetns(LAB), address: HOST_ADDRESS },
  };
}

test('the state file: absent reads as undefined; each record is on disk at once, whole, owner-only', () => {
  fs.mkdirSync(labDir(LAB), { recursive: true, mode: 0o700 });
  try {
    assert.is(readState(LAB), undefined);
    const rec = new StateRecorder(blank());
    rec.record((s) => s.netns.push(clientNetns(LAB)));
    assert.equal(readState(LAB)!.netns, [clientNetns(LAB)], 'recorded before the call returns');
    rec.record((s) => s.links.push({ netns: hostNetns(LAB), name: tapName(LAB, 1), kind: 'tap' }));
    assert.equal(readState(LAB), rec.state);
    assert.is(fs.statSync(stateFile(LAB)).mode & 0o777, 0o600);
    assert.equal(fs.readdirSync(labDir(LAB)), ['state.json'], 'no temp file left');
    assert.ok(fs.readFileSync(stateFile(LAB), 'utf8').endsWith('}\n'));
    writeState({ ...rec.state, status: 'up' });
    assert.is(readState(LAB)!.status, 'up');
    assert.ok(listLabs().includes(LAB));
    fs.writeFileSync(stateFile(LAB), '{"version": 1, "name"');
    assert.throws(() => readState(LAB), (e: { code?: string; message: string }) => e.code === 'ERR_UMLPERF_STATE' && e.message === `corrupt state file ${stateFile(LAB)}: run umlperf cleanup --lab ${LAB}`);
    fs.rmSync(stateFile(LAB));
    fs.mkdirSync(stateFile(LAB));
    assert.throws(() => readState(LAB), (e: { code?: string }) => e.code === 'EISDIR', 'other read errors are not "absent"');
  } finally {
    fs.rmSync(labDir(LAB), { recursive: true, force: true });
  }
  assert.not.ok(listLabs().includes(LAB));
});

test('listLabs: directories under /run/umlperf only, sorted', () => {
  const file = path.join(RUN_ROOT, `${LAB}f`);
  const dirs = [`${LAB}b`, `${LAB}a`].map((d) => path.join(RUN_ROOT, d));
  fs.mkdirSync(RUN_ROOT, { recursive: true });
  fs.writeFileSync(file, '');
  for (const d of dirs) fs.mkdirSync(d);
  let labs: string[];
  try {
    labs = listLabs();
  } finally {
    fs.rmSync(file, { force: true });
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
  assert.not.ok(labs.includes(`${LAB}f`), 'a file is no lab');
  const mine = labs.filter((l) => l.startsWith(LAB));
  assert.equal(mine, [`${LAB}a`, `${LAB}b`]);
  assert.equal(labs, [...labs].sort());
  for (const l of labs.filter((x) => !x.startsWith(LAB) && fs.existsSync(path.join(RUN_ROOT, x)))) assert.ok(fs.statSync(path.join(RUN_ROOT, l)).isDirectory(), l);
});

test.run();
