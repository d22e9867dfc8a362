// The HTML report's charts, pinned by their geometry: a 640×320 frame with margins 64 (left),
// 16 (right, top) and 48 (bottom); data mapped linearly (or log10 on x) onto the plot area.
// Coordinates below are worked out by hand from that layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { barChart, lineChart } from '../src/report/svg.js';

const has = (svg: string, part: string) => assert.ok(svg.includes(part), `missing ${part}\n${svg}`);

test('line chart: frame, axes, labels, legend and each series where its values put it', () => {
  const svg = lineChart('Round <trips> & "more"', [
    { name: 'hostOS TCP', color: '#111', points: [[0, 0], [10, 100]] },
    { name: 'guestOS TCP', color: '#222', points: [[5, 50]] },
  ], { xLabel: 'x µs', yLabel: 'share' });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 320" width="640" height="320" role="img" aria-label="Round &lt;trips&gt; &amp; &quot;more&quot;">\n<title>Round &lt;trips&gt; &amp; &quot;more&quot;</title>\n<rect x="0" y="0" width="640" height="320" fill="#fff"/>\n'), svg.slice(0, 300));
  assert.ok(svg.endsWith('</svg>'));
  // Axes along the plot area's bottom (y 272) and left (x 64) edges.
  has(svg, '<line x1="64" y1="272" x2="624" y2="272" stroke="#333"/>');
  has(svg, '<line x1="64" y1="16" x2="64" y2="272" stroke="#333"/>');
  // x: 0..10 in steps of 2 over 560 px; y: 0..100 in steps of 20 over 256 px.
  has(svg, '<line x1="64" y1="272" x2="64" y2="276" stroke="#333"/><text x="64" y="288" text-anchor="middle" font-size="11">0</text>');
  has(svg, '<line x1="176" y1="272" x2="176" y2="276" stroke="#333"/><text x="176" y="288" text-anchor="middle" font-size="11">2</text>');
  has(svg, '<line x1="624" y1="272" x2="624" y2="276" stroke="#333"/><text x="624" y="288" text-anchor="middle" font-size="11">10</text>');
  assert.is((svg.match(/stroke="#333"\/><text/g) ?? []).length, 6, 'six x ticks');
  has(svg, '<line x1="60" y1="272" x2="624" y2="272" stroke="#eee"/><text x="58" y="276" text-anchor="end" font-size="11">0</text>');
  has(svg, '<line x1="60" y1="16" x2="624" y2="16" stroke="#eee"/><text x="58" y="20" text-anchor="end" font-size="11">100</text>');
  assert.is((svg.match(/stroke="#eee"/g) ?? []).length, 6, 'six y ticks');
  has(svg, '<polyline fill="none" stroke="#111" stroke-width="2" points="64.0,272.0 624.0,16.0"/>');
  has(svg, '<polyline fill="none" stroke="#222" stroke-width="2" points="344.0,144.0"/>');
  // Axis labels: x centred under the plot, y turned upright beside it.
  has(svg, '<text x="344" y="312" text-anchor="middle" font-size="12">x µs</text>');
  has(svg, '<text x="14" y="144" text-anchor="middle" font-size="12" transform="rotate(-90 14 144)">share</text>');
  // Legend top right on a white box: one swatch and name per series.
  has(svg, '<rect x="488" y="18" width="132" height="40" fill="#fff" fill-opacity="0.85" stroke="#ddd"/>');
  has(svg, '<rect x="494" y="22" width="10" height="10" fill="#111"/><text x="510" y="31" font-size="11">hostOS TCP</text>');
  has(svg, '<rect x="494" y="38" width="10" height="10" fill="#222"/><text x="510" y="47" font-size="11">guestOS TCP</text>');
});

test('line chart, log x: decades as ticks; a given y minimum', () => {
  const svg = lineChart('cdf', [{ name: 'a', color: '#1', points: [[1, 0.5], [1000, 1]] }], { xLabel: 'µs', yLabel: 'f', logX: true, yMin: 0 });
  has(svg, 'points="64.0,144.0 624.0,16.0"');
  // Decades at a third of 560 px each: 64, 250.67, 437.33, 624.
  const ticks = [...svg.matchAll(/<line x1="([\d.]+)" y1="272" x2="[\d.]+" y2="276" stroke="#333"\/><text x="[\d.]+" y="288" text-anchor="middle" font-size="11">(\d+)<\/text>/g)];
  assert.equal(ticks.map((m) => m[2]), ['1', '10', '100', '1000']);
  assert.equal(ticks.map((m) => Number(m[1]).toFixed(2)), ['64.00', '250.67', '437.33', '624.00']);
  assert.is((svg.match(/stroke="#333"\/><text/g) ?? []).length, 4);
  has(svg, '<text x="58" y="276" text-anchor="end" font-size="11">0</text>');
  assert.match(svg, /<text x="58" y="71\.(2|19999+)" text-anchor="end" font-size="11">0\.8<\/text>/);
});

test('line chart: one point, flat data and no data', () => {
  // One point: x spans [5, 6]; y first [5, 6], then from 0: [0, 6], so 5 sits at 5/6 of 256 px.
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[5, 5]] }], { xLabel: '', yLabel: '' }), 'points="64.0,58.7"');
  // Flat at y = 3 with yMin 3: y spans [3, 4].
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[2, 3], [4, 3]] }], { xLabel: '', yLabel: '', yMin: 3 }), 'points="64.0,272.0 624.0,272.0"');
  // Negative values: y starts below 0.
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[0, -10], [1, 10]] }], { xLabel: '', yLabel: '' }), 'points="64.0,272.0 624.0,16.0"');
  // Positive values without yMin: y starts at 0.
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[0, 50], [1, 100]] }], { xLabel: '', yLabel: '' }), 'points="64.0,144.0 624.0,16.0"');
  assert.is(lineChart('t', [{ name: 'a', color: '#1', points: [] }], { xLabel: '', yLabel: '' }), '');
  assert.is(lineChart('t', [], { xLabel: '', yLabel: '' }), '');
});

test('bar chart: groups side by side, bars from zero, 95% whiskers, legend per name', () => {
  const svg = barChart('Throughput', [
    { group: 'g1', name: 'A', color: '#a', value: 50, ci: 10 },
    { group: 'g1', name: 'B', color: '#b', value: 100, ci: 0 },
    { group: 'g2', name: 'A', color: '#a', value: 25, ci: 5 },
  ], 'Mbit/s');
  // Two groups of 280 px; bars 40 px wide, centred in their group; y 0..100 over 256 px.
  has(svg, '<rect x="164.0" y="144.0" width="38.0" height="128.0" fill="#a"><title>g1 A: 50.000 ± 10.000</title></rect>');
  has(svg, '<rect x="204.0" y="16.0" width="38.0" height="256.0" fill="#b"><title>g1 B: 100.000 ± 0.000</title></rect>');
  has(svg, '<rect x="444.0" y="208.0" width="38.0" height="64.0" fill="#a"><title>g2 A: 25.000 ± 5.000</title></rect>');
  has(svg, '<path d="M184 118.4V169.6M180 118.4h8M180 169.6h8" stroke="#000" fill="none"/>');
  has(svg, '<path d="M464 195.2V220.8M460 195.2h8M460 220.8h8" stroke="#000" fill="none"/>');
  assert.is((svg.match(/<path /g) ?? []).length, 2, 'no whisker without a CI');
  has(svg, '<text x="204" y="288" text-anchor="middle" font-size="11">g1</text>');
  has(svg, '<text x="484" y="288" text-anchor="middle" font-size="11">g2</text>');
  has(svg, '<text x="58" y="20" text-anchor="end" font-size="11">100</text>');
  has(svg, '<text x="14" y="144" text-anchor="middle" font-size="12" transform="rotate(-90 14 144)">Mbit/s</text>');
  has(svg, '<rect x="494" y="22" width="10" height="10" fill="#a"/><text x="510" y="31" font-size="11">A</text>');
  has(svg, '<rect x="494" y="38" width="10" height="10" fill="#b"/><text x="510" y="47" font-size="11">B</text>');
  assert.is(barChart('t', [], 'y'), '');
});

test('bar chart: a whisker stops at zero; all-zero values still draw an axis', () => {
  const low = barChart('t', [{ group: 'g', name: 'A', color: '#a', value: 2, ci: 5 }], 'y');
  // One group of 560 px: the bar is 40 px wide at x 64 + 260; y 0..7.
  has(low, '<rect x="324.0" ');
  has(low, `V272.0M340 ${(272 - (7 / 7) * 256).toFixed(1)}h8M340 272.0h8`);
  const zero = barChart('t', [{ group: 'g', name: 'A', color: '#a', value: 0, ci: 0 }], 'y');
  has(zero, '<rect x="324.0" y="272.0" width="38.0" height="0.0" fill="#a">');
  has(zero, '<text x="58" y="20" text-anchor="end" font-size="11">1</text>');
  assert.match(zero, /<text x="58" y="71\.(2|19999+)" text-anchor="end" font-size="11">0\.8<\/text>/);
  const narrow = barChart('t', Array.from({ length: 20 }, (_, i) => ({ group: 'g', name: `n${i}`, color: '#a', value: 1, ci: 0 })), 'y');
  // 20 names in one 560 px group: each bar 560 × 0.8 / 20 = 22.4 px.
  has(narrow, 'width="20.4" height="256.0"');
});

test.run();
