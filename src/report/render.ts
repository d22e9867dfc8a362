// One entry to every rendering of a paper result, for the CLI (paper, report) and the library.
import type { IsolateResult } from '../isolate/model.js';
import type { PaperResult } from '../paper/model.js';
import { isolateCsv, isolateMarkdown, isolateSection, isolateText } from './isolate.js';
import { paperHtml } from './paper-html.js';
import { paperCsv, paperJson, paperMarkdown, paperText } from './paper.js';

/** A paper result with experiment 4 (opt-in: `paper --experiment 1,2,3,4`). */
/** A paper result; experiment 4's, when it ran, is its `isolation`. */
export type PaperWithIsolation = PaperResult;

export type PaperFormat = 'table' | 'json' | 'csv' | 'md' | 'html';
export const PAPER_FORMATS: readonly PaperFormat[] = ['table', 'json', 'csv', 'md', 'html'];

export function renderPaper(r: PaperWithIsolation, format: PaperFormat, samples = false): string {
  const text = renderCore(r, format, samples);
  const iso = r.isolation;
  if (!iso || format === 'json') return text;
  if (format === 'html') return text.replace(/<\/body><\/html>\s*$/, `<h1>Experiment 4</h1>\n${isolateSection(iso)}\n</body></html>\n`);
  if (format === 'csv') return `${text}\n${isolateCsv(iso)}`;
  if (format === 'md') return `${text}\n${isolateMarkdown(iso)}`;
  return `${text}\n${isolateText(iso)}`;
}

function renderCore(r: PaperResult, format: PaperFormat, samples: boolean): string {
  switch (format) {
    case 'json':
      return paperJson(r, samples);
    case 'csv':
      return paperCsv(r);
    case 'md':
      return paperMarkdown(r);
    case 'html':
      return paperHtml(r);
    default:
      return paperText(r);
  }
}
