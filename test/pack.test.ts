// The package as users get it: `npm pack` ships prebuilt native files, so `npm i umlperf` in an
// empty project needs no compiler, and the library's surface works from JS and TS.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { packageRoot } from '../src/native.js';
import { leftovers, uniqueLab } from './lab-helpers.js';
import { tempDir } from './helpers.js';

const tmp = tempDir(path.join(os.tmpdir(), 'umlperf-pack-'));
let tarball = '';
const project = path.join(tmp, 'project');

function sh(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }) {
  const r = spawnSync(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, encoding: 'utf8', timeout: o.timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('npm pack ships the addon, the endpoint, the flood helper and the FPU-state adapter prebuilt', () => {
  // Packing rebuilds the native files (prebuildify): do it in a copy of the sources, so the
  // working tree's build stays as the other tests use it.
  const src = path.join(tmp, 'src');
  fs.mkdirSync(src);
  for (const f of ['package.json', 'package-lock.json', 'binding.gyp', 'tsconfig.json', 'README.md', 'native', 'src', 'bin', 'test', 'bench', 'schema'])
    if (fs.existsSync(path.join(packageRoot, f))) fs.cpSync(path.join(packageRoot, f), path.join(src, f), { recursive: true });
  fs.symlinkSync(path.join(packageRoot, 'node_modules'), path.join(src, 'node_modules'));
  // prebuildify stages in $TMPDIR/prebuildify: the test's own directory, removed after.
  const r = sh('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: src, env: { ...process.env, TMPDIR: tmp }, timeoutMs: 300_000 });
  assert.is(r.status, 0, r.out.slice(-2000));
  // Lifecycle scripts print too: the JSON is the last top-level array on stdout.
  const json = r.stdout.slice(r.stdout.lastIndexOf('\n[\n') + 1);
  const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(tmp, info.filename);
  const files = info.files.map((f) => f.path);
  for (const f of ['prebuilds/linux-x64/umlperf.node', 'prebuilds/linux-x64/umlperf-endpoint', 'prebuilds/linux-x64/umlperf-flood', 'prebuilds/linux-x64/umlperf-fpu.so', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/bin/umlperf.js', 'schema/umlperf-result.schema.json'])
    assert.ok(files.includes(f), `${f} in the tarball`);
  assert.not.ok(files.some((f) => f.startsWith('dist/test/')), 'no tests in the tarball');
});

test('npm i of the tarball in an empty project needs no compiler', () => {
  assert.ok(tarball, 'packed');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-umlperf', version: '1.0.0', private: true, type: 'module' }));
  // A PATH with node, npm and sh only: no cc, g++, make or python for node-gyp to use.
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const npmCli = fs.realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  assert.is(sh('/bin/sh', ['-c', 'command -v npm'], { cwd: tmp, env: { PATH: bin }, timeoutMs: 5000 }).status, 0);
  for (const cc of ['cc', 'gcc', 'g++', 'make', 'python3']) assert.is.not(sh('/bin/sh', ['-c', `command -v ${cc}`], { cwd: tmp, env: { PATH: bin }, timeoutMs: 5000 }).status, 0, cc);
  const r = sh('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project, env: { PATH: bin, HOME: tmp, npm_config_cache: path.join(tmp, 'npm-cache') }, timeoutMs: 300_000 });
  assert.is(r.status, 0, r.out.slice(-2000));
  assert.not.ok(fs.existsSync(path.join(project, 'node_modules', 'umlperf', 'build')), 'nothing was compiled');
});

test('the installed package probes and brings a lab up and down, from JS', () => {
  const lab = uniqueLab('pk');
  fs.writeFileSync(path.join(project, 'use.mjs'), `
import { startEndpoint, responseTime, labUp, labDown, paperText, resultProblems } from 'umlperf';
import { createRequire } from 'node:module';
const schema = createRequire(import.meta.url)('umlperf/schema.json');
const ep = await startEndpoint({ bind: '127.0.0.1', port: 0 });
const rt = await responseTime({ host: '127.0.0.1', port: ep.echoPort, iterations: 200, warmup: 10 });
await ep.close();
const up = await labUp({ name: ${JSON.stringify(lab)}, guests: 1 });
await labDown(${JSON.stringify(lab)});
console.log(JSON.stringify({ p50: rt.latency.p50Ns, count: rt.latency.count, guest: up.guests[0].id, fpu: up.guests[0].fpuState?.mode, render: typeof paperText, problems: resultProblems(JSON.parse(JSON.stringify(rt))), kinds: Object.keys(schema.$defs).length }));
`);
  const r = sh(process.execPath, ['use.mjs'], { cwd: project, timeoutMs: 120_000 });
  assert.is(r.status, 0, r.out.slice(-2000));
  const out = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.is(out.count, 200);
  assert.ok(out.p50 > 0);
  assert.is(out.guest, 'g1');
  assert.ok(['native', 'adapted'].includes(out.fpu), `fpu ${out.fpu}`);
  assert.is(out.render, 'function');
  assert.equal(out.problems, [], 'the result conforms to the schema the package ships');
  assert.ok(out.kinds >= 10, 'the published schema is importable as umlperf/schema.json');
  assert.equal(leftovers(lab), []);
});

test('the installed package type-checks from TS', () => {
  fs.writeFileSync(path.join(project, 'use.ts'), `
import { responseTime, labUp, type LabInfo, type ResponseTimeResult, type PaperResult } from 'umlperf';
export async function go(): Promise<[number, string]> {
  const r: ResponseTimeResult = await responseTime({ host: '127.0.0.1', port: 7, iterations: 1 });
  const lab: LabInfo = await labUp({ name: 'x', guests: 1 });
  const p: PaperResult | undefined = undefined;
  return [r.latency.p50Ns, lab.guests[0].id + String(p)];
}
`);
  const tsc = path.join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = sh(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--typeRoots', path.join(packageRoot, 'node_modules', '@types'), '--types', 'node', 'use.ts'], { cwd: project, timeoutMs: 120_000 });
  assert.is(r.status, 0, r.out.slice(-2000));
});

test.run();
