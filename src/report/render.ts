// One entry to every rendering of a paper result, for the CLI (paper, report) and the library.
import type { PaperResult } from '../paper/model.js';
import { paperHtml } from './paper-html.js';
import { paperCsv, paperJson, paperMarkdown, paperText } from './paper.js';

export type PaperFormat = 'table' | 'json' | 'csv' | 'md' | 'html';
export const PAPER_FORMATS: readonly PaperFormat[] = ['table', 'json', 'csv', 'md', 'html'];

export function renderPaper(r: PaperResult, format: PaperFormat, samples = false): string {
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
