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

/** An AbortSignal fired by SIGINT/SIGTERM while `fn` runs. */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
