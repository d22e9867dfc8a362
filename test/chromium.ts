// Headless Chromium for the HTML report tests: render a page at a given width, measure its layout
// from inside (a script the test adds; the report itself has none) and take a screenshot.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function findChromium(): string {
  const c = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!c) throw new Error('chromium is not installed: apt-get install chromium (.ci/run installs it)');
  return c;
}

/** What the page looked like at one width. */
export interface Layout {
  viewport: number;
  pageWidth: number;
  pageHeight: number;
  /** Elements reaching past the viewport's edges, outside a box that scrolls sideways. */
  wide: string[];
  /** Scroll boxes (wide tables) that themselves reach past the viewport. */
  wideBoxes: string[];
  charts: { id: string; outside: string[]; width: number; height: number; left: number; right: number; top: number; inViewBox: boolean; ciOverLegend: number; ciCount: number }[];
  /** Elements of the open-questions block whose text overflows their box. */
  openOverflow: string[];
  openBox: { width: number; height: number } | null;
  figures: number;
  csvLinks: { figure: string; href: string }[];
}

// Runs in the page: writes a JSON description of the layout into <pre id="layout-check">.
const MEASURE = `<script>addEventListener('load', () => {
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : '');
  const vw = document.documentElement.clientWidth;
  const scrolls = (e) => { const s = getComputedStyle(e); return s.overflowX === 'auto' || s.overflowX === 'scroll'; };
  const inScrollBox = (e) => { for (let p = e.parentElement; p; p = p.parentElement) if (scrolls(p)) return true; return false; };
  const wide = [], wideBoxes = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const out = r.right > vw + 0.5 || r.left < -0.5;
    if (out && !inScrollBox(e)) wide.push(name(e) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    if (scrolls(e) && out) wideBoxes.push(name(e));
  }
  const boxesOverlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  const charts = [...document.querySelectorAll('svg.chart')].map((s) => {
    const r = s.getBoundingClientRect();
    const inside = (b) => b.left >= r.left - 1 && b.top >= r.top - 1 && b.right <= r.right + 1 && b.bottom <= r.bottom + 1;
    const outside = [...s.querySelectorAll('path, rect, circle, polyline, line, text')].filter((e) => !inside(e.getBoundingClientRect())).map((e) => e.outerHTML.slice(0, 80));
    const inViewBox = outside.length === 0;
    const boxes = (sel) => [...s.querySelectorAll(sel)].map((e) => { const b = e.getBoundingClientRect(); return { x: b.left, y: b.top, width: b.width, height: b.height }; });
    const legend = boxes('.legend *');
    const cis = boxes('.ci');
    const ciOverLegend = cis.filter((c) => legend.some((l) => boxesOverlap(c, l))).length;
    return { id: s.closest('figure') ? s.closest('figure').id : '', outside, width: r.width, height: r.height, left: r.left, right: r.right, top: r.top + scrollY, inViewBox, ciOverLegend, ciCount: cis.length };
  });
  const open = document.querySelector('.open');
  const openOverflow = open ? [...open.querySelectorAll('*')].filter((e) => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > open.getBoundingClientRect().right + 0.5).map(name) : [];
  const ob = open ? open.getBoundingClientRect() : null;
  const figures = document.querySelectorAll('figure').length;
  const csvLinks = [...document.querySelectorAll('figure')].map((f) => ({ figure: f.id, href: (f.querySelector('a.csv') || { getAttribute: () => '' }).getAttribute('href') || '' }));
  const host = window.parent && window.parent !== window ? window.parent.document : document;
  const pre = host.createElement('pre');
  pre.id = 'layout-check';
  pre.textContent = JSON.stringify({ viewport: vw, pageWidth: document.documentElement.scrollWidth, pageHeight: document.documentElement.scrollHeight, wide, wideBoxes, charts, openOverflow, openBox: ob && { width: ob.width, height: ob.height }, figures, csvLinks });
  host.body.appendChild(pre);
});</script>`;

const ARGS = (dir: string) => ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${path.join(dir, 'profile')}`];

/**
 * The page in a frame exactly `width` CSS px wide (headless Chromium's window is at least 500 px
 * wide, so a narrow screen is a frame): the frame is the page's viewport.
 */
function framed(html: string, width: number, height: number): string {
  const doc = html.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;background:#888}iframe{display:block;border:0;background:#fff}</style></head>
<body><iframe width="${width}" height="${height}" scrolling="no" srcdoc="${doc}"></iframe></body></html>`;
}

/**
 * Lay the page out `width` px wide: its measured layout, and (given `png`) a screenshot of the
 * whole page, as tall as it is (up to `maxHeight`).
 */
export function renderAt(chromium: string, dir: string, html: string, width: number, png?: string, maxHeight = 30_000): Layout & { shotHeight: number } {
  const file = path.join(dir, `page-${width}.html`);
  const run = (args: string[], what: string) => {
    const r = spawnSync(chromium, [...ARGS(dir), ...args], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`chromium ${what} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').slice(-500)}`);
    return r.stdout;
  };
  writeFileSync(file, framed(html.replace(/<\/body>/, `${MEASURE}</body>`), width, 1000));
  const dom = run([`--window-size=${Math.max(width, 500)},1000`, '--dump-dom', `file://${file}`], '--dump-dom');
  const m = /<pre id="layout-check">([^<]*)<\/pre>/.exec(dom);
  if (!m) throw new Error('the page was not laid out (no layout record in the DOM)');
  const layout = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as Layout;
  const shotHeight = Math.min(maxHeight, Math.ceil(layout.pageHeight));
  if (png) {
    // The screenshot is of the report itself, without the measuring script.
    const plain = path.join(dir, `plain-${width}.html`);
    writeFileSync(plain, framed(html, width, shotHeight));
    run([`--window-size=${Math.max(width, 500)},${shotHeight}`, `--screenshot=${png}`, `file://${plain}`], '--screenshot');
  }
  return { ...layout, shotHeight };
}

/** A PNG's width and height, from its header. */
export function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  if (b.toString('latin1', 1, 4) !== 'PNG') throw new Error(`${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
