// The exec channel's reply format, host side: what the guest agent writes on the console line
// (src/guest/init.ts) and how parseExecReply reads it, without a guest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { encodeExecRequest, parseExecReply, shellQuote } from '../src/lab/exec.js';
import { EXEC_LOST_STATUS } from '../src/guest/init.js';
import { UsageError } from '../src/errors.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const reply = (nonce: string, out: string, err: string, end: string) =>
  `UMLPERF-OUT ${nonce}\r\n${b64(out)}\r\nUMLPERF-ERR ${nonce}\r\n${b64(err)}\r\nUMLPERF-END ${nonce} ${end}\r\n`;

test('a whole reply gives output, errors and status; an unfinished one gives nothing yet', () => {
  const text = reply('ab12', 'hello\n', 'warn\n', '3');
  assert.equal(parseExecReply(text, 'ab12'), { status: 3, stdout: Buffer.from('hello\n'), stderr: Buffer.from('warn\n') });
  assert.is(parseExecReply(text.slice(0, text.indexOf('UMLPERF-END')), 'ab12'), undefined);
  assert.is(parseExecReply(text, 'other'), undefined, 'another request\'s reply is not ours');
  assert.is(parseExecReply(reply('ab12', '', '', 'x'), 'ab12')?.status, 255, 'a status that is no number');
});

test('a command that exits 125 is not a lost reply; the agent\'s lost reply is, and the last reply begun wins', () => {
  const own = parseExecReply(reply('n1', '', 'mine\n', '125'), 'n1')!;
  assert.is(own.status, 125);
  assert.is(own.lost, undefined);
  // A reply whose encoding broke, followed by the agent's lost reply for the same request.
  const broken = 'UMLPERF-OUT n1\r\nUMLPERF-ERR n1\r\n';
  const lost = parseExecReply(broken + reply('n1', '', 'could not start a program\n', `${EXEC_LOST_STATUS} lost`), 'n1')!;
  assert.equal(lost, { status: EXEC_LOST_STATUS, stdout: Buffer.alloc(0), stderr: Buffer.from('could not start a program\n'), lost: true });
});

test('requests: one shell word per argument, and too long a command is a usage error', () => {
  assert.is(shellQuote(['echo', "it's", '$HOME']), `'echo' 'it'\\''s' '$HOME'`);
  assert.match(encodeExecRequest('n', 5, 'true'), /^UMLPERF-EXEC n 5 dHJ1ZQ==\n$/);
  assert.throws(() => encodeExecRequest('n', 5, 'x'.repeat(4000)), (e: unknown) => e instanceof UsageError);
});

test.run();
