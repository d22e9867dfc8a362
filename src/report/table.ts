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

const finiteNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Three significant digits: 6.00, 12.3, 123, and from 1000 up the whole number rounded to three
 * significant digits (12300) - never an exponent. '-' for a missing figure.
 */
export function sig3(v: number | null | undefined): string {
  if (!finiteNum(v)) return '-';
  if (v === 0) return '0';
  const r = Number(v.toPrecision(3));
  return Math.abs(r) >= 1000 ? String(r) : r.toPrecision(3);
}

export type TimeUnit = 'ns' | 'µs' | 'ms';
const NS_PER: Record<TimeUnit, number> = { ns: 1, 'µs': 1e3, ms: 1e6 };
/** The unit's spelling in a CSV column name (ASCII). */
export const UNIT_ASCII: Record<TimeUnit, string> = { ns: 'ns', 'µs': 'us', ms: 'ms' };

/**
 * One unit for a set of times in ns shown together (a column, or a row of a study table): ms
 * when every one is at least 1 ms, ns when every one is below 1 µs, else µs. So a small figure
 * never shows as a fraction of a large unit (no 0.006 ms).
 */
export function timeUnit(valuesNs: readonly (number | null | undefined)[]): TimeUnit {
  const v = valuesNs.filter(finiteNum).map(Math.abs).filter((x) => x > 0);
  if (v.length === 0) return 'µs';
  if (Math.min(...v) >= 1e6) return 'ms';
  if (Math.max(...v) < 1e3) return 'ns';
  return 'µs';
}

/** A time in ns in the given unit, three significant digits. */
// Rounded in ns first (exact for integer ns), so 1 605 000 ns is 1.61 ms, not 1.60 from 1.60499...
export const timeIn = (ns: number | null | undefined, unit: TimeUnit): string => (finiteNum(ns) ? sig3(Number(ns.toPrecision(3)) / NS_PER[unit]) : '-');
/** A time in ns with its own unit (ns below 1 µs, ms from 1 ms): for sentences, not columns. */
export const timeText = (ns: number | null | undefined): string => {
  if (!finiteNum(ns)) return '-';
  const u = timeUnit([ns]);
  return `${timeIn(ns, u)} ${u}`;
};
/** Nanoseconds as µs in a CSV cell: ns resolution, no rounding beyond it. */
export const csvUs = (ns: number | null | undefined): string => (finiteNum(ns) ? String(Math.round(ns) / 1e3) : '');
