// What `umlperf paper` produces: plain JSON-serialisable objects, defined in the result model
// (src/result/schema.ts: tables[].id = table1..table5; rows with side, servers, guests,
// latency, throughputMbps).
import type { Side as SideT } from '../result/schema.js';
export type {
  Comparison,
  DriftWatch,
  MeanCi,
  Measurement,
  OpenQuestions,
  PaperResult,
  PaperTable,
  RateSearch,
  RrulRow,
  TableRow,
} from '../result/schema.js';

export type Side = SideT;
/** The study's servers by their role: www is Apache, dns is BIND (named), mail is Postfix in qmail's role. */
export type ServerRole = 'none' | 'www' | 'dns' | 'mail';
export type Experiment = 1 | 2 | 3;

export const SERVER_LABEL: Record<ServerRole, string> = {
  none: 'none',
  www: 'www (Apache)',
  dns: 'dns (BIND named)',
  mail: 'mail (Postfix)',
};
