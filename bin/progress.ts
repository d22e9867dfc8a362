// Progress on stderr, only when it is a terminal; stdout stays pipeable.
export function progressLine(label: string): { update(fraction: number): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = -1;
  return {
    update(fraction) {
      if (!tty) return;
      const p = Math.floor(fraction * 100);
      if (p === last) return;
      last = p;
      process.stderr.write(`\r${label} ${p}%`);
    },
    done() {
      if (tty && last >= 0) process.stderr.write('\r\x1b[K');
      last = -1;
    },
  };
}

/**
 * Progress lines of a long job: rewritten in place on a terminal; on a pipe or a log, a plain
 * line at most every `everyMs` (the latest), so a CI log shows the job is alive.
 */
export function progressSink(prefix: string, everyMs = 10_000): { line(text: string): void; done(): void } {
  const tty = process.stderr.isTTY;
  let lastAt = -Infinity; // the first line is always written
  return {
    line(text) {
      if (tty) {
        process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 100) - 1)}`);
        return;
      }
      const now = performance.now();
      if (now - lastAt < everyMs) return;
      lastAt = now;
      process.stderr.write(`${prefix}: ${text}\n`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

/** An AbortSignal fired by SIGINT/SIGTERM while `fn` runs. */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  const stop = (sig: NodeJS.Signals) => {
    interruptedBy = sig;
    ac.abort(Object.assign(new Error(`interrupted by ${sig}`), { name: 'AbortError', code: 'ABORT_ERR', signal: sig }));
  };
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/** The signal that interrupted the last interruptible job, if any: the CLI exits 128 + its number. */
export let interruptedBy: NodeJS.Signals | undefined;
