// The fields every result starts with, and checking a document against its kind's schema.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { UmlperfError } from '../errors.js';
import { packageRoot } from '../native.js';
import { publishedSchema, RESULT_SCHEMAS, SCHEMA_VERSION, TOOL, type ResultKind } from './schema.js';

let cachedVersion: string | undefined;
let ajv: Ajv2020 | undefined;
const validators = new Map<ResultKind, ValidateFunction>();

/** A compiled check of one kind against the published schema (ajv, JSON Schema 2020-12). */
function validator(kind: ResultKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    ajv ??= new Ajv2020({ allErrors: false, strict: false }).addSchema(publishedSchema());
    v = ajv.getSchema(`urn:umlperf:result#/$defs/${kind}`)!;
    validators.set(kind, v);
  }
  return v;
}

/** This package's version (package.json), or "unknown". */
export function toolVersion(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

export function envelope<K extends ResultKind>(kind: K, startedAt: string = new Date().toISOString()) {
  return { tool: TOOL, version: toolVersion(), schemaVersion: SCHEMA_VERSION, kind, startedAt } as const;
}

/** `body` as a result document of `kind`: the envelope's fields first. */
export function asResult<K extends ResultKind, B extends object>(kind: K, body: B, startedAt?: string) {
  return { ...envelope(kind, startedAt), ...body };
}

/** Problems with `doc` as a result of its own `kind` (empty: it conforms). At most `max` listed. */
export function resultProblems(doc: unknown, max = 5): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return ['not a JSON object'];
  const kind = (doc as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(kind in RESULT_SCHEMAS)) return [`unknown kind ${JSON.stringify(kind)}`];
  const version = (doc as { schemaVersion?: unknown }).schemaVersion;
  if (version !== SCHEMA_VERSION) return [`schemaVersion ${JSON.stringify(version)}: this umlperf reads schemaVersion ${SCHEMA_VERSION}`];
  const check = validator(kind as ResultKind);
  if (check(doc)) return [];
  return (check.errors ?? []).slice(0, max).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

/** `doc` as a result of the kind asked for, or an ERR_UMLPERF_RESULT error naming what is wrong. */
export function checkResult<K extends ResultKind>(doc: unknown, kinds: readonly K[], what: string): unknown {
  const kind = (doc as { kind?: unknown } | null)?.kind;
  if (!kinds.includes(kind as K)) {
    throw new UmlperfError('ERR_UMLPERF_RESULT', `${what}: not a umlperf ${kinds.join(' or ')} result (kind ${JSON.stringify(kind)})`);
  }
  const p = resultProblems(doc, 1);
  if (p.length) throw new UmlperfError('ERR_UMLPERF_RESULT', `${what}: not a valid ${String(kind)} result: ${p[0]}`);
  return doc;
}
