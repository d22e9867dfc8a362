// Reading a saved `umlperf paper` result back (compare, report): every way a file can be wrong
// is a usage error of one line.
import fs from 'node:fs';
import { resultProblems } from '../result/envelope.js';
import { SCHEMA_VERSION } from '../result/schema.js';

import { UsageError } from '../errors.js';
import type { PaperResult } from './model.js';

export function loadPaperResult(file: string): PaperResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : code ?? 'error'}`);
  }
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON (save a run with umlperf paper --format json --out FILE)`);
  }
  const o = r as Partial<PaperResult> | null;
  if (!o || typeof o !== 'object' || o.tool !== 'umlperf' || !Array.isArray(o.measurements) || !Array.isArray(o.tables) || typeof o.config !== 'object')
    throw new UsageError(`${file} is not a saved umlperf paper result (no tool, config, measurements or tables)`);
  if ((o as { schemaVersion?: unknown }).schemaVersion !== SCHEMA_VERSION)
    throw new UsageError(`${file} was saved by an older umlperf (schemaVersion ${JSON.stringify((o as { schemaVersion?: unknown }).schemaVersion ?? 1)}); this one reads schemaVersion ${SCHEMA_VERSION}: measure again, or render it with the umlperf that saved it`);
  const problems = resultProblems(o, 1);
  if (problems.length) throw new UsageError(`${file} is not a valid umlperf paper result: ${problems[0]}`);
  return o as PaperResult;
}
