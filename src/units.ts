// Units of durations and sizes, one definition for the command line and the library (README,
// "Units"). Durations: a number with its unit, ns, us (or µs), ms, s, m or h; a bare number only for 0
// (a bare 2000 was milliseconds in one flag and seconds in another: now it says which).
// Sizes: a bare number is bytes; K, M, G, T and Ki, Mi, Gi, Ti (with or without a trailing B)
// are powers of 1024, as the kernel counts memory (mem=64M); KB, MB, GB, TB are powers of 1000.
const DURATION = /^(?:(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)|(0+\.?0*))$/;
const DURATION_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "2s", "1.5m", "50us", "0" → milliseconds; undefined when it is not a duration with its unit. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  if (m[3] !== undefined) return 0;
  const ms = Number(m[1]) * DURATION_MS[m[2]];
  return Number.isFinite(ms) ? ms : undefined;
}

/** Milliseconds as a person writes them: 0.05 → 50us, 500 → 500ms, 60000 → 60s. */
export function formatDuration(ms: number): string {
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1 && Number.isInteger(ms)) return `${ms}ms`;
  return `${Math.round(ms * 1e6) / 1e3}us`;
}

const SIZE = /^(\d+\.?\d*|\.\d+)\s*(?:([kmgt])(i?)(b?)|(b))?$/i;
const POWER: Record<string, number> = { k: 1, m: 2, g: 3, t: 4 };

/** "64KiB", "1.5MB", "1G", "4096" → bytes (maybe fractional); undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const [, num, prefix, binary, b] = m;
  // K, Ki, KiB: 1024; KB (a decimal prefix spelt with its B): 1000.
  const base = prefix && !binary && b ? 1000 : 1024;
  const bytes = Number(num) * (prefix ? base ** POWER[prefix.toLowerCase()] : 1);
  return Number.isFinite(bytes) ? bytes : undefined;
}

/** Bytes as a person writes them: 65536 → 64KiB, 1500000 → 1500000 B. */
export function formatSize(bytes: number): string {
  for (const [unit, p] of [['TiB', 4], ['GiB', 3], ['MiB', 2], ['KiB', 1]] as const) {
    if (bytes >= 1024 ** p && bytes % 1024 ** p === 0) return `${bytes / 1024 ** p}${unit}`;
  }
  return `${bytes} B`;
}

