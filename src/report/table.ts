// Plain-text tables for the terminal: the first `left` columns left-aligned, the rest right-aligned.

export function table(header: string[], rows: string[][], left = 1): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i < left ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Nanoseconds as microseconds with 3 decimals (ns resolution). */
export const us = (ns: number) => (ns / 1e3).toFixed(3);
/** Nanoseconds as milliseconds with 3 decimals (µs resolution). */
export const ms = (ns: number) => (ns / 1e6).toFixed(3);
export const mbps = (v: number) => v.toFixed(3);
export const pct = (v: number) => `${v.toFixed(3)}%`;
