// Waiting with a deadline and a cancel: one sleep and one "poll until done or too late" for
// every wait of the lab, the servers' health checks and the isolation runs.
import { abortError } from './errors.js';

/** Resolves after `ms`; rejects with an AbortError (code ABORT_ERR) as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal.reason));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal?.reason));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface PollOptions {
  /** How long to keep trying, on the monotonic clock. */
  timeoutMs: number;
  /** Pause between tries. */
  intervalMs: number;
  /** Cancel: the wait rejects with an AbortError. */
  signal?: AbortSignal;
}

/**
 * Calls `ok` until it returns true (then true) or the deadline has passed (then false). The
 * last try is made at or after the deadline, so a condition met while the wait slept is seen.
 * `ok` may do work of its own each round (send a signal again, retry a write) and may be async.
 */
export async function pollUntil(ok: () => boolean | Promise<boolean>, o: PollOptions): Promise<boolean> {
  const end = performance.now() + o.timeoutMs;
  for (;;) {
    if (o.signal?.aborted) throw abortError(o.signal.reason);
    if (await ok()) return true;
    const left = end - performance.now();
    if (left <= 0) return false;
    await sleep(Math.min(o.intervalMs, left), o.signal);
  }
}
