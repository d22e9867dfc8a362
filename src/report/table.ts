// Plain-text tables for the terminal: the first `left` columns left-aligned, the rest right-aligned.

export function table(header: string[], rows: string[][], left = 1): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i < left ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A number with `digits` decimals; '-' for what a saved result holds as null (NaN, ±Infinity). */
export const fixed = (v: number | null | undefined, digits: number): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');
/** Nanoseconds as microseconds with 3 decimals (ns resolution). */
export const us = (ns: number) => fixed(typeof ns === 'number' ? ns / 1e3 : ns, 3);
/** Nanoseconds as milliseconds with 3 decimals (µs resolution). */
export const ms = (ns: number) => fixed(typeof ns === 'number' ? ns / 1e6 : ns, 3);
export const mbps = (v: number) => fixed(v, 3);
export const pct = (v: number) => `${fixed(v, 3)}%`;
