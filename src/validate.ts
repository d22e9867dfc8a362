// Option checks at the library's edge: each failure is a UsageError with one clear line.
import { UsageError } from './errors.js';

export function int(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (got ${fmt(v)})`);
  }
  return v;
}

export function num(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`${name} must be a number from ${min} to ${max} (got ${fmt(v)})`);
  }
  return v;
}

export function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got ${fmt(v)})`);
  }
  return v as T;
}

export function text(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 255) {
    throw new UsageError(`${name} must be a non-empty string (got ${fmt(v)})`);
  }
  return v;
}

function fmt(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
