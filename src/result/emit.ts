// Writes the published JSON Schema: `npm run schema` (schema/umlperf-result.schema.json).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../native.js';
import { publishedSchema } from './schema.js';

export function schemaText(): string {
  return `${JSON.stringify(publishedSchema(), null, 2)}\n`;
}

export const SCHEMA_FILE = path.join(packageRoot, 'schema', 'umlperf-result.schema.json');

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  writeFileSync(SCHEMA_FILE, schemaText());
  process.stdout.write(`${SCHEMA_FILE}\n`);
}
