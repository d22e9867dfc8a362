// The HTML report's charts, pinned by their geometry: a 480-wide viewBox, margins 60 (left),
// 14 (right) and 46 (bottom), the legend in rows of 19 above a 210-high plot (one row: the plot
// spans y 35..245); data mapped linearly (or log10) onto the plot. Coordinates below are worked
// out by hand from that layout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { barChart, lineChart } from '../src/report/svg.js';

const has = (svg: string, part: string) => assert.ok(svg.includes(part), `missing ${part}\n${svg}`);

test('line chart: a viewBox and no fixed size, axes, labels, legend above the plot, each series where its values put it', () => {
  const svg = lineChart('Round <trips> & "more"', [
    { name: 'hostOS TCP', color: '#111', points: [[0, 0], [10, 100]] },
    { name: 'guestOS TCP', color: '#222', points: [[5, 50]] },
  ], { xLabel: 'x µs', yLabel: 'share' });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 291" class="chart" preserveAspectRatio="xMidYMid meet" role="img" aria-label="Round &lt;trips&gt; &amp; &quot;more&quot;">\n<title>Round &lt;trips&gt; &amp; &quot;more&quot;</title>\n<rect x="0" y="0" width="480" height="291" fill="#fff"/>\n'), svg.slice(0, 300));
  assert.not.match(svg, /<svg [^>]*(width|height)=/, 'the page sizes it');
  assert.ok(svg.endsWith('</svg>'));
  has(svg, '<line x1="60" y1="245" x2="466" y2="245" stroke="#333"/>');
  has(svg, '<line x1="60" y1="35" x2="60" y2="245" stroke="#333"/>');
  // x: 0..10 in steps of 2 over 406 px; y: 0..100 in steps of 20 over 210 px.
  has(svg, '<line x1="60.0" y1="245" x2="60.0" y2="249" stroke="#333"/><text x="60.0" y="261" text-anchor="middle" font-size="12">0</text>');
  has(svg, '<line x1="141.2" y1="245" x2="141.2" y2="249" stroke="#333"/><text x="141.2" y="261" text-anchor="middle" font-size="12">2</text>');
  has(svg, '<text x="466.0" y="261" text-anchor="middle" font-size="12">10</text>');
  assert.is((svg.match(/stroke="#333"\/><text/g) ?? []).length, 6, 'six x ticks');
  has(svg, '<line x1="56" y1="245.0" x2="466" y2="245.0" stroke="#eee"/><text x="54" y="249.0" text-anchor="end" font-size="12">0</text>');
  has(svg, '<line x1="56" y1="35.0" x2="466" y2="35.0" stroke="#eee"/><text x="54" y="39.0" text-anchor="end" font-size="12">100</text>');
  assert.is((svg.match(/stroke="#eee"/g) ?? []).length, 6, 'six y ticks');
  has(svg, '<polyline fill="none" stroke="#111" stroke-width="2" points="60.0,245.0 466.0,35.0"/>');
  has(svg, '<polyline fill="none" stroke="#222" stroke-width="2" points="263.0,140.0"/>');
  has(svg, '<text x="263" y="283" text-anchor="middle" font-size="13">x µs</text>');
  has(svg, '<text x="14" y="140.0" text-anchor="middle" font-size="13" transform="rotate(-90 14 140.0)">share</text>');
  // The legend: a row above the plot (y 8..18), swatch and name per series, left to right.
  has(svg, '<g class="legend"><rect x="60" y="8" width="16" height="10" fill="#111"/>\n<text x="82" y="18" font-size="12">hostOS TCP</text>');
  has(svg, '<rect x="170" y="8" width="16" height="10" fill="#222"/>\n<text x="192" y="18" font-size="12">guestOS TCP</text></g>');
  assert.not.match(svg, /<circle/, 'no markers unless asked');
});

test('line chart: the legend wraps to a second row and the plot moves down', () => {
  const names = ['no server', 'httpd (Apache)', 'named (BIND)', 'mail (Postfix)', 'a fifth series'];
  const svg = lineChart('t', names.map((name, i) => ({ name, color: `#${i}`, points: [[0, 0], [1, 1]] })), { xLabel: '', yLabel: '' });
  // Widths 22 + 7.2 per character + 16: 103, 139, 125 fit in 406; the fourth starts row two.
  has(svg, '<text x="82" y="18" font-size="12">no server</text>');
  has(svg, '<text x="185" y="18" font-size="12">httpd (Apache)</text>');
  has(svg, '<text x="324" y="18" font-size="12">named (BIND)</text>');
  has(svg, '<text x="82" y="37" font-size="12">mail (Postfix)</text>');
  has(svg, '<line x1="60" y1="54" x2="60" y2="264" stroke="#333"/>');
  has(svg, 'viewBox="0 0 480 310"');
});

test('line chart, log x and log y (a CCDF): decades as ticks on both axes', () => {
  const svg = lineChart('ccdf', [{ name: 'a', color: '#1', points: [[1, 1], [10, 0.1], [100, 0.001]] }], { xLabel: 'µs', yLabel: 'f', logX: true, logY: true });
  // x: decades 1, 10, 100 over 406 px; y: 0.001..1 over three decades of 70 px.
  has(svg, 'points="60.0,35.0 263.0,105.0 466.0,245.0"');
  assert.equal([...svg.matchAll(/x="54" y="[\d.]+" text-anchor="end" font-size="12">([^<]+)</g)].map((m) => m[1]), ['0.001', '0.01', '0.1', '1']);
  assert.equal([...svg.matchAll(/y="261" text-anchor="(?:middle|end)" font-size="12">([^<]+)</g)].map((m) => m[1]), ['1', '10', '100']);
  const lin = lineChart('cdf', [{ name: 'a', color: '#1', points: [[1, 0.5], [1000, 1]] }], { xLabel: 'µs', yLabel: 'f', logX: true, yMin: 0 });
  has(lin, 'points="60.0,140.0 466.0,35.0"');
  // Less than a decade of data still spans whole decades, with a tick at each end.
  const narrow = lineChart('n', [{ name: 'a', color: '#1', points: [[2000, 1], [2900, 0.5]] }], { xLabel: 'µs', yLabel: 'f', logX: true, logY: true });
  assert.equal([...narrow.matchAll(/y="261" text-anchor="(?:middle|end)" font-size="12">([^<]+)</g)].map((m) => m[1]), ['1000', '10000']);
  // x: 1000..10000; y: 0.1..1, so 0.5 sits log10(5) of the way up.
  // A long label on the right-edge tick ends there instead of leaving the frame.
  const wide = lineChart('w', [{ name: 'a', color: '#1', points: [[2000, 1], [29000, 0.5]] }], { xLabel: 'µs', yLabel: 'f', logX: true });
  has(wide, '<text x="472.0" y="261" text-anchor="end" font-size="12">100000</text>');
  has(narrow, `points="${(60 + Math.log10(2) * 406).toFixed(1)},35.0 ${(60 + Math.log10(2.9) * 406).toFixed(1)},${(245 - Math.log10(5) * 210).toFixed(1)}"`);
  assert.equal([...lin.matchAll(/<line x1="([\d.]+)" y1="245" x2="[\d.]+" y2="249" stroke="#333"\/><text x="[\d.]+" y="261" text-anchor="(?:middle|end)" font-size="12">(\d+)<\/text>/g)].map((m) => [m[2], m[1]]),
    [['1', '60.0'], ['10', '195.3'], ['100', '330.7'], ['1000', '466.0']]);
});

test('line chart, counts on x: whole-number ticks, a marker per point, CI whiskers kept inside the plot', () => {
  const svg = lineChart('guests', [{ name: 'hostOS TCP', color: '#c', markers: true, points: [[0, 5], [1, 6], [4, 7]], intervals: [[4, 6], [5.5, 6.5], null] }], { xLabel: 'guests running', yLabel: 'µs', integerX: true });
  // x runs -0.5..4.5 so the end points are not on the frame: ticks at 0..4 only.
  assert.equal([...svg.matchAll(/y="261" text-anchor="(?:middle|end)" font-size="12">([^<]+)</g)].map((m) => m[1]), ['0', '1', '2', '3', '4']);
  has(svg, '<circle cx="100.6" cy="95.0" r="3.5" fill="#c" stroke="#fff"/>');
  assert.is((svg.match(/<circle /g) ?? []).length, 3);
  // y 0..7 over 210 px: the interval 4..6 of the first point spans y 125..65.
  has(svg, '<path class="ci" d="M100.6 65.0V125.0M96.6 65.0h8M96.6 125.0h8" stroke="#c" fill="none"/>');
  assert.is((svg.match(/class="ci"/g) ?? []).length, 2, 'no whisker where there is no interval');
  // A CI above every point widens the axis rather than being cut off.
  const tall = lineChart('t', [{ name: 'a', color: '#c', points: [[0, 7]], intervals: [[5, 9]] }], { xLabel: '', yLabel: '', integerX: true });
  has(tall, '<path class="ci" d="M263.0 35.0V');
});

test('line chart: one point, flat data and no data', () => {
  // One point: x spans [5, 6]; y first [5, 6], then from 0: [0, 6], so 5 sits at 5/6 of 210 px.
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[5, 5]] }], { xLabel: '', yLabel: '' }), 'points="60.0,70.0"');
  // Flat at y = 3 with yMin 3: y spans [3, 4].
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[2, 3], [4, 3]] }], { xLabel: '', yLabel: '', yMin: 3 }), 'points="60.0,245.0 466.0,245.0"');
  // Negative values: y starts below 0.
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[0, -10], [1, 10]] }], { xLabel: '', yLabel: '' }), 'points="60.0,245.0 466.0,35.0"');
  // Positive values without yMin: y starts at 0.
  has(lineChart('t', [{ name: 'a', color: '#1', points: [[0, 50], [1, 100]] }], { xLabel: '', yLabel: '' }), 'points="60.0,140.0 466.0,35.0"');
  assert.is(lineChart('t', [{ name: 'a', color: '#1', points: [] }], { xLabel: '', yLabel: '' }), '');
  assert.is(lineChart('t', [], { xLabel: '', yLabel: '' }), '');
});

test('bar chart: groups side by side, bars from zero, 95% whiskers, legend above', () => {
  const svg = barChart('Throughput', [
    { group: 'g1', name: 'A', color: '#a', value: 50, ci: 10 },
    { group: 'g1', name: 'B', color: '#b', value: 100, ci: 0 },
    { group: 'g2', name: 'A', color: '#a', value: 25, ci: 5 },
  ], 'Mbit/s');
  // Two groups of 203 px; bars 40 px wide, centred in their group; y 0..100 over 210 px.
  has(svg, '<rect x="121.5" y="140.0" width="38.0" height="105.0" fill="#a"><title>g1 A: 50.0 ± 10.0</title></rect>');
  has(svg, '<rect x="161.5" y="35.0" width="38.0" height="210.0" fill="#b"><title>g1 B: 100 ± 0</title></rect>');
  has(svg, '<rect x="324.5" y="192.5" width="38.0" height="52.5" fill="#a"><title>g2 A: 25.0 ± 5.00</title></rect>');
  has(svg, '<path class="ci" d="M140.5 119.0V161.0M136.5 119.0h8M136.5 161.0h8" stroke="#000" fill="none"/>');
  has(svg, '<path class="ci" d="M343.5 182.0V203.0M339.5 182.0h8M339.5 203.0h8" stroke="#000" fill="none"/>');
  assert.is((svg.match(/<path /g) ?? []).length, 2, 'no whisker without a CI');
  has(svg, '<text x="161.5" y="261" text-anchor="middle" font-size="12">g1</text>');
  has(svg, '<text x="364.5" y="261" text-anchor="middle" font-size="12">g2</text>');
  has(svg, '<text x="54" y="39.0" text-anchor="end" font-size="12">100</text>');
  has(svg, '<text x="14" y="140.0" text-anchor="middle" font-size="13" transform="rotate(-90 14 140.0)">Mbit/s</text>');
  has(svg, '<g class="legend"><rect x="60" y="8" width="16" height="10" fill="#a"/>\n<text x="82" y="18" font-size="12">A</text>');
  has(svg, '<rect x="106" y="8" width="16" height="10" fill="#b"/>\n<text x="128" y="18" font-size="12">B</text></g>');
  assert.is(barChart('t', [], 'y'), '');
});

test('bar chart: a CI reaching below zero is drawn in full (the axis goes below 0); all-zero values still draw an axis', () => {
  const low = barChart('t', [{ group: 'g', name: 'A', color: '#a', value: 2, ci: 5 }], 'y');
  // y -3..7 over 210 px: 0 at y 182, the bar up to 2 at y 140; the whisker 35..245, not cut at 0.
  has(low, '<rect x="243.0" y="140.0" width="38.0" height="42.0" fill="#a">');
  has(low, '<path class="ci" d="M262.0 35.0V245.0M258.0 35.0h8M258.0 245.0h8" stroke="#000" fill="none"/>');
  has(low, 'text-anchor="end" font-size="12">-2</text>');
  const zero = barChart('t', [{ group: 'g', name: 'A', color: '#a', value: 0, ci: 0 }], 'y');
  has(zero, '<rect x="243.0" y="245.0" width="38.0" height="0.0" fill="#a">');
  has(zero, '<text x="54" y="39.0" text-anchor="end" font-size="12">1</text>');
  has(zero, 'text-anchor="end" font-size="12">0.8</text>');
  const narrow = barChart('t', Array.from({ length: 20 }, (_, i) => ({ group: 'g', name: `n${i}`, color: '#a', value: 1, ci: 0 })), 'y');
  // 20 names in one 406 px group: each bar 406 × 0.8 / 20 = 16.24 px.
  has(narrow, 'width="14.2" height="210.0"');
});

test.run();
