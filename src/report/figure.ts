// What every HTML report shares: the page's style, and a figure with its data downloadable as CSV
// beside it (a data: URI, so the page stays one self-contained file).
import { csvCell } from './csv.js';

export interface Figure {
  /** Unique in the page: the anchor and the CSV file's name. */
  id: string;
  title: string;
  svg: string;
  /** The data drawn, as CSV (header first). */
  csv: string;
  /** A line under the title (e.g. how the curve was obtained). */
  note?: string;
}

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Rows as CSV text, header first. */
export const csvText = (header: string[], rows: unknown[][]): string => `${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n')}\n`;

export const csvLink = (file: string, csv: string, text = 'data (CSV)'): string =>
  `<a class="csv" download="${esc(file)}" href="data:text/csv;charset=utf-8,${encodeURIComponent(csv)}">${esc(text)}</a>`;

export function figureHtml(f: Figure): string {
  return `<figure id="${esc(f.id)}">${f.svg}<figcaption>${esc(f.title)}${f.note ? `<br><small>${esc(f.note)}</small>` : ''} ${csvLink(`${f.id}.csv`, f.csv)}</figcaption></figure>`;
}

export function figuresHtml(figs: Figure[]): string {
  return `<div class="charts">\n${figs.map(figureHtml).join('\n')}\n</div>`;
}

/** A table of strings (header + rows), scrolling sideways in its own box on a narrow screen. */
export function tableHtml(header: string[], rows: string[][], o: { id?: string; csv?: string; left?: number; wrapLast?: boolean } = {}): string {
  const { id, csv, left = 1, wrapLast = false } = o;
  const cls = (i: number) => (i < left ? ' class="l"' : '');
  return `<div class="table-wrap${wrapLast ? ' wrap-last' : ''}"${id ? ` id="${esc(id)}"` : ''}><table><thead><tr>${header.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${esc(cell)}</td>`).join('')}</tr>`).join('\n')}</tbody></table></div>${csv && id ? `<p class="dl">${csvLink(`${id}.csv`, csv, 'table (CSV)')}</p>` : ''}`;
}

/** The page's style: fluid width, charts scale with the page, wide tables scroll in their box. */
export const PAGE_CSS = `*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:80em;padding:0 1em;color:#222;overflow-wrap:break-word}
h1,h2,h3{line-height:1.2}
.table-wrap{max-width:100%;overflow-x:auto;margin:.5em 0 .3em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right;white-space:nowrap}
th{white-space:normal;vertical-align:bottom;min-width:5em}
td.l,th.l{text-align:left}thead{background:#f3f3f3}
td:last-child,th:last-child{text-align:left}
.wrap-last td:last-child{white-space:normal;min-width:14em}
p.dl{margin:0 0 1.5em;font-size:90%}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,30em),1fr));gap:1.5em;margin:1em 0}
.charts figure{margin:0;min-width:0}
svg.chart{display:block;width:100%;height:auto;max-width:100%;border:1px solid #ddd}
figcaption{font-weight:600;margin:.3em 0 0}figcaption small{font-weight:400}
a.csv{font-weight:400;font-size:90%;white-space:nowrap}
.open{background:#f7f7f7;padding:.5em 1em;border-radius:4px;max-width:100%}
.open h3{font-size:1.05em;margin:.8em 0 .3em}.open ul{padding-left:1.2em;margin:.3em 0}.open li,.open p{overflow-wrap:anywhere}
.warn{color:#a00;font-weight:bold}
@media (max-width:40em){body{padding:0 .6em;margin:1em auto}td,th{padding:.2em .35em}td.l+td.l{white-space:normal;min-width:8em}}`;
