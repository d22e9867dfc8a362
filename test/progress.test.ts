// The CLI's progress lines on a pipe or a log: the first is written at once, later ones at most
// every `everyMs` (the latest text), and nothing is rewritten in place.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { progressSink } from '../bin/progress.js';

/** Runs `fn` with stderr as a non-terminal whose writes are collected. */
function captureStderr(fn: () => void): string[] {
  const written: string[] = [];
  const write = process.stderr.write;
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
    if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
  }
  return written;
}

test('progressSink off a terminal: the first line at once, then none until everyMs has passed', () => {
  // everyMs far longer than this process has run: a first line held back until then would
  // never show (the sink once compared a monotonic clock against 0).
  const lines = captureStderr(() => {
    const s = progressSink('umlperf paper', 1e12);
    s.line('step 1/30');
    s.line('step 2/30');
    s.done();
  });
  assert.equal(lines, ['umlperf paper: step 1/30\n']);
});

test('progressSink off a terminal with everyMs 0: every line, each on its own line', () => {
  const lines = captureStderr(() => {
    const s = progressSink('umlperf paper', 0);
    s.line('a');
    s.line('b');
  });
  assert.equal(lines, ['umlperf paper: a\n', 'umlperf paper: b\n']);
});

test.run();
