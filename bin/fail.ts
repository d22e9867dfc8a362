// How the CLI ends on an error: one line on stderr, exit 2 for usage, 1 for failures, 130 for
// an interrupt. A stack trace only with UMLPERF_DEBUG=1.
import { isUsageError } from '../src/errors.js';
import { interruptedBy } from './progress.js';

export function exitCodeFor(e: unknown): number {
  const err = e as { name?: string; code?: string };
  // 128 + the signal's number, as a shell reports it: 130 for SIGINT, 143 for SIGTERM.
  if (err?.name === 'AbortError' || err?.code === 'ABORT_ERR') return interruptedBy === 'SIGTERM' ? 143 : 130;
  return isUsageError(e) ? 2 : 1;
}

export function reportError(e: unknown): never {
  const err = e as Error & { code?: string };
  const message = (err?.message ?? String(e)).split('\n')[0];
  process.stderr.write(`umlperf: ${message}\n`);
  if (process.env.UMLPERF_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  process.exit(exitCodeFor(e));
}
