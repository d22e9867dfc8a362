// Flag checks at parse time (yargs `coerce`): a bad value is a UsageError naming the flag,
// raised before any command starts work — no doctor, no image build, no lab, no file.
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { MAX_CPU, parseCpuList } from '../src/cpus.js';
import { UsageError } from '../src/errors.js';
import { formatDuration, formatSize, parseDuration, parseSize } from '../src/units.js';

export { formatDuration, formatSize, parseDuration, parseSize };
import { parseServers, SERVER_NAMES, type ServerName } from '../src/servers/start.js';

type Check<T> = (v: unknown) => T;

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** yargs gives an array when a flag is repeated; every flag here takes one value. */
function one(flag: string, v: unknown): unknown {
  if (Array.isArray(v)) throw new UsageError(`--${flag} given more than once`);
  return v;
}

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A whole number in [min, max]; flags declared as strings so the message can quote the text. */
export function intFlag(flag: string, min: number, max: number): Check<number | undefined> {
  return (raw) => {
    const v = one(flag, raw);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && INT.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max} (got ${show(v)})`);
    return n;
  };
}

/** A finite number in [min, max], or (min, max] with `above`. */
export function numFlag(flag: string, min: number, max: number, o: { above?: boolean; unit?: string } = {}): Check<number | undefined> {
  return (raw) => {
    const v = one(flag, raw);
    if (v === undefined) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && NUM.test(v.trim()) ? Number(v) : NaN;
    const unit = o.unit ? ` ${o.unit}` : '';
    if (!Number.isFinite(n) || n > max || (o.above ? n <= min : n < min))
      throw new UsageError(`--${flag} must be a number ${o.above ? `above ${min}` : `from ${min}`} to ${max}${unit} (got ${show(v)})`);
    return n;
  };
}

/** A non-empty string without control characters (names, paths, lists). */
export function textFlag(flag: string, max = 255): Check<string | undefined> {
  return (raw) => {
    const v = one(flag, raw);
    if (v === undefined) return undefined;
    // eslint-disable-next-line no-control-regex
    if (typeof v !== 'string' || v.trim() === '' || v.length > max || /[\x00-\x1f]/.test(v))
      throw new UsageError(`--${flag} must be a non-empty word of at most ${max} characters (got ${show(v)})`);
    return v;
  };
}

/** A numeric IPv4 or IPv6 address (no name lookup for a bind address). */
export function addressFlag(flag: string): Check<string | undefined> {
  return (raw) => {
    const v = textFlag(flag)(raw);
    if (v !== undefined && isIP(v) === 0) throw new UsageError(`--${flag} must be a numeric IPv4 or IPv6 address (got ${show(v)})`);
    return v;
  };
}

/** An executable file that exists (a UML kernel). */
export function executableFlag(flag: string): Check<string | undefined> {
  return (raw) => {
    const v = textFlag(flag, 4096)(raw);
    if (v === undefined) return undefined;
    let st: fs.Stats;
    try {
      st = fs.statSync(v);
    } catch {
      throw new UsageError(`--${flag}: no such file ${show(v)}`);
    }
    if (!st.isFile()) throw new UsageError(`--${flag}: ${show(v)} is not a file`);
    try {
      fs.accessSync(v, fs.constants.X_OK);
    } catch {
      throw new UsageError(`--${flag}: ${show(v)} is not executable`);
    }
    return v;
  };
}

function writableDir(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Pseudo file systems where nothing of ours may be made (and where mkdir -p may never return). */
function onPseudoFs(p: string): boolean {
  const abs = path.resolve(p);
  return ['/proc', '/sys', '/dev'].some((d) => abs === d || abs.startsWith(`${d}/`));
}

/**
 * A file we may write at the end of a long run: not a directory, in an existing directory we
 * can write, and (when it exists) a regular file we can write. Checked now, so the run is not
 * lost at its end; nothing is created.
 */
export function outFileFlag(flag: string): Check<string | undefined> {
  return (raw) => {
    const v = textFlag(flag, 4096)(raw);
    if (v === undefined) return undefined;
    if (v.endsWith('/')) throw new UsageError(`--${flag} ${show(v)} is a directory; name a file`);
    if (onPseudoFs(v)) throw new UsageError(`--${flag} ${show(v)}: not a place for a report`);
    const dir = path.dirname(path.resolve(v));
    if (!writableDir(dir)) throw new UsageError(`--${flag} ${show(v)}: directory ${dir} does not exist or is not writable`);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(v);
    } catch {
      return v; // a new file in a writable directory
    }
    if (st.isDirectory()) throw new UsageError(`--${flag} ${show(v)} is a directory; name a file`);
    if (!st.isFile()) throw new UsageError(`--${flag} ${show(v)} is not a regular file`);
    try {
      fs.accessSync(v, fs.constants.W_OK);
    } catch {
      throw new UsageError(`--${flag} ${show(v)} is not writable`);
    }
    return v;
  };
}

/**
 * A directory that exists or can be made: its nearest existing ancestor is a writable directory
 * on a real file system. (Node's recursive mkdir never returns for a path under /proc.)
 */
export function dirFlag(flag: string): Check<string | undefined> {
  return (raw) => {
    const v = textFlag(flag, 4096)(raw);
    if (v === undefined) return undefined;
    const abs = path.resolve(v);
    if (onPseudoFs(abs)) throw new UsageError(`--${flag} ${show(v)}: not a place for files (a pseudo file system)`);
    let p = abs;
    for (;;) {
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(p);
      } catch {
        // does not exist yet: look at its parent
      }
      if (st) {
        if (!st.isDirectory()) throw new UsageError(`--${flag} ${show(v)}: ${p} is not a directory`);
        if (!writableDir(p)) throw new UsageError(`--${flag} ${show(v)}: ${p} is not writable`);
        return v;
      }
      const up = path.dirname(p);
      if (up === p) throw new UsageError(`--${flag} ${show(v)}: no such directory`);
      p = up;
    }
  };
}

/** A comma-separated list of whole numbers in [min, max], at least one. */
export function intListFlag(flag: string, min: number, max: number): Check<number[] | undefined> {
  return (raw) => {
    const v = textFlag(flag)(raw);
    if (v === undefined) return undefined;
    const parts = v.split(',').map((s) => s.trim());
    const xs = parts.map((s) => (INT.test(s) ? Number(s) : NaN));
    if (xs.some((x) => !Number.isSafeInteger(x) || x < min || x > max))
      throw new UsageError(`--${flag} takes a comma-separated list of whole numbers from ${min} to ${max} (got ${show(v)})`);
    return xs;
  };
}

/** A comma-separated list of names from `allowed`, at least one. */
export function nameListFlag<T extends string>(flag: string, allowed: readonly T[]): Check<T[] | undefined> {
  return (raw) => {
    const v = textFlag(flag)(raw);
    if (v === undefined) return undefined;
    const xs = v.split(',').map((s) => s.trim());
    const bad = xs.find((x) => !(allowed as readonly string[]).includes(x));
    if (bad !== undefined) throw new UsageError(`--${flag}: unknown ${show(bad)} (known: ${allowed.join(', ')})`);
    return [...new Set(xs)] as T[];
  };
}

/** A check that must pass on a text flag (e.g. a lab name or memory size). */
export function textWith(flag: string, check: (v: string) => unknown): Check<string | undefined> {
  return (raw) => {
    const v = textFlag(flag)(raw);
    if (v === undefined) return v;
    try {
      check(v);
    } catch (e) {
      throw new UsageError(`--${flag}: ${(e as Error).message}`);
    }
    return v;
  };
}

/** A duration with its unit (100ms, 1s, 0.5s, 2m), in [minMs, maxMs]; returns ms. */
export function durationFlag(flag: string, minMs: number, maxMs: number): Check<number | undefined> {
  return (raw) => {
    const v = one(flag, raw);
    if (v === undefined) return undefined;
    const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(String(v)) : undefined;
    if (ms === undefined || ms < minMs || ms > maxMs)
      throw new UsageError(`--${flag} must be a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, with a unit: 500ms, 2s, 1m (got ${show(v)})`);
    return ms;
  };
}

/** A whole number of bytes in [min, max], with an optional unit (64KiB, 1.5MB, 1G); returns bytes. */
export function sizeFlag(flag: string, min: number, max: number): Check<number | undefined> {
  return (raw) => {
    const v = one(flag, raw);
    if (v === undefined) return undefined;
    const bytes = typeof v === 'string' || typeof v === 'number' ? parseSize(String(v)) : undefined;
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < min || bytes > max)
      throw new UsageError(`--${flag} must be a whole number of bytes from ${formatSize(min)} to ${formatSize(max)}, with or without a unit: 64KiB, 1.5MB, 1G (got ${show(v)})`);
    return bytes;
  };
}

/**
 * Guest memory (UML's mem=): a size with the units above, a whole number of KiB from 1MiB to
 * 64GiB; returns it as UML writes it (128M, 195313K).
 */
export function memFlag(flag: string): Check<string | undefined> {
  return (raw) => {
    const v = one(flag, raw);
    if (v === undefined) return undefined;
    const bytes = typeof v === 'string' || typeof v === 'number' ? parseSize(String(v)) : undefined;
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes % 1024 !== 0 || bytes < 2 ** 20 || bytes > 64 * 2 ** 30)
      throw new UsageError(`--${flag} must be a memory size from 1MiB to 64GiB in whole KiB, e.g. 128M, 1G, 256MiB (got ${show(v)})`);
    return bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20}M` : `${bytes / 1024}K`;
  };
}

/** A CPU list as taskset writes it (0, 0-3, 0,2,4-5) → the CPUs, sorted, each once. */
export function cpuListFlag(flag: string, o: { one?: boolean } = {}): Check<number[] | undefined> {
  return (raw) => {
    const v = textFlag(flag)(raw);
    if (v === undefined) return undefined;
    const list = parseCpuList(v);
    if (!list) throw new UsageError(`--${flag} must be a CPU list from 0 to ${MAX_CPU} such as 0, 0-1 or 0,2 (got ${show(v)})`);
    if (o.one && list.length !== 1) throw new UsageError(`--${flag} takes one CPU here (the probe is one thread; got ${show(v)})`);
    return list;
  };
}

export { cpuListText } from '../src/cpus.js';

/** Server names, the same in every command: dns, www, mail (a comma-separated list, at least one). */
export function serverListFlag(flag: string): Check<ServerName[] | undefined> {
  return (raw) => {
    const v = textFlag(flag)(raw);
    if (v === undefined) return undefined;
    let xs: ServerName[];
    try {
      xs = parseServers(v);
    } catch (e) {
      throw new UsageError(`--${flag}: ${(e as Error).message}`);
    }
    if (!xs.length) throw new UsageError(`--${flag}: name at least one of ${SERVER_NAMES.join(', ')}`);
    return xs;
  };
}

/**
 * Options that do not apply are an error, never ignored: `rejectGiven(a, ['guests'], why)`
 * names the first of these flags the user gave (flags declared without a yargs default, so
 * `undefined` means not given).
 */
export function rejectGiven(a: Record<string, unknown>, flags: readonly string[], why: string): void {
  const given = flags.find((f) => a[f] !== undefined);
  if (given !== undefined) throw new UsageError(`--${given} ${why}`);
}

/** Help text width: the terminal's, at least 80 (COLUMNS when stdout is not a terminal). */
export function helpWidth(): number {
  const cols = process.stdout.columns ?? Number(process.env.COLUMNS);
  return Math.max(80, Math.min(200, Number.isFinite(cols) && cols > 0 ? cols : 80));
}
