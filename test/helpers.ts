// Shared test plumbing: the CLI runner and standard services we did not write (socat).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { endpointBinary, readyPorts } from '../src/endpoint.js';
import { packageRoot } from '../src/native.js';

export const cliPath = path.join(packageRoot, 'dist', 'bin', 'umlperf.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], timeoutMs = 60_000): Run {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function requireTool(name: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${name}`]);
  if (r.status !== 0) throw new Error(`${name} is not installed: apt-get install ${name} (.ci/run installs it)`);
}

/** A free TCP port on loopback (also free for UDP in practice: we retry on clash). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts socat as a standard echo or discard service on loopback; resolves once it listens. */
export async function socat(kind: 'echo' | 'discard', proto: 'tcp' | 'udp', port: number): Promise<ChildProcess> {
  requireTool('socat');
  const listen = proto === 'tcp' ? `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork` : `UDP4-RECVFROM:${port},bind=127.0.0.1,fork`;
  // Discard: -u copies one way only, from the socket into /dev/null.
  const args = kind === 'echo' ? [listen, 'PIPE'] : ['-u', listen, 'OPEN:/dev/null,wronly'];
  const child = spawn('socat', args, { stdio: 'ignore' });
  // Wait until the port is bound: ss lists it.
  for (let i = 0; i < 100; i++) {
    const ss = spawnSync('ss', [proto === 'tcp' ? '-ltnH' : '-lunH', `sport = :${port}`], { encoding: 'utf8' });
    if (ss.stdout.trim()) return child;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`socat did not start on ${proto}/${port}`);
}

/**
 * Ends a child: SIGTERM, then SIGKILL if it is still there after `graceMs`. socat 1.7.4 in
 * UDP fork mode once stayed in poll() after a SIGTERM (a second one ended it), and a test
 * waiting on its exit hung the whole suite.
 */
export async function stop(child: ChildProcess, graceMs = 2000): Promise<void> {
  await stopBinary(child, graceMs);
}

/**
 * The published JSON Schema (schema/umlperf-result.schema.json, as shipped in the package),
 * compiled once with ajv: the schema users validate against, not our TypeBox objects.
 */
let published: ((doc: unknown, kind: string) => string[]) | undefined;
export function publishedSchemaCheck(): (doc: unknown, kind: string) => string[] {
  if (!published) {
    const schema = JSON.parse(readFileSync(path.join(packageRoot, 'schema', 'umlperf-result.schema.json'), 'utf8')) as { $id: string };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const whole = ajv.compile(schema);
    published = (doc, kind) => {
      if (whole(doc)) return [];
      // Say why in terms of the document's own kind, not every branch of the oneOf.
      const one = ajv.getSchema(`${schema.$id}#/$defs/${kind}`);
      if (!one) return [`no kind ${kind} in the schema`];
      one(doc);
      return (one.errors ?? [{ instancePath: '', message: 'matches more than one kind', params: {} }]).slice(0, 8)
        .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    };
  }
  return published;
}

/** Parses a command's --json output and asserts it is a result of `kind` under the published schema. */
export function jsonResult<T = any>(stdout: string, kind: string): T {
  const doc = JSON.parse(stdout) as { kind?: unknown; tool?: unknown; schemaVersion?: unknown };
  assertResult(doc, kind);
  return doc as T;
}

export function assertResult(doc: unknown, kind: string): void {
  const d = doc as { kind?: unknown; tool?: unknown };
  if (d?.tool !== 'umlperf' || d.kind !== kind) throw new Error(`expected a umlperf ${kind} result, got tool ${String(d?.tool)} kind ${String(d?.kind)}`);
  // oneOf over every kind: exactly one branch (its kind's) must match.
  const problems = publishedSchemaCheck()(doc, kind);
  if (problems.length) throw new Error(`${kind} result does not conform to the published schema:\n  ${problems.join('\n  ')}`);
}

const tempDirs: string[] = [];
/**
 * mkdtempSync(prefix), removed when the test process exits, however the test that made it
 * ended (a failed assertion skips a test's own cleanup).
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(prefix);
  if (tempDirs.length === 0) process.once('exit', () => tempDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  tempDirs.push(dir);
  return dir;
}

/** A static endpoint started by a test, with the ports its ready line names. */
export interface StartedBinary {
  child: ChildProcess;
  echo: number;
  discard: number;
  /** What it wrote to stderr so far. */
  stderr: () => string;
}

/**
 * Starts the static endpoint (`prefix`: e.g. a taskset or setpriv command before it) and waits
 * up to 10 s for its ready line. Rejects with its stderr when it exits first or never gets ready.
 */
export function startBinary(args: string[], prefix: string[] = []): Promise<StartedBinary> {
  const cmd = [...prefix, endpointBinary(), ...args];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`endpoint: no ready line in 10 s; stderr: ${err}`));
    }, 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ports = readyPorts(out);
      if (ports) {
        clearTimeout(timer);
        res({ child, echo: ports.echo, discard: ports.discard, stderr: () => err });
      }
    });
    child.once('exit', (c, sig) => {
      clearTimeout(timer);
      rej(new Error(`endpoint exited (${c ?? sig}) before ready: ${err}`));
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; its exit status. Returns at once for a child already gone. */
export async function stopBinary(child: ChildProcess, graceMs = 3000): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const done = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const r = await done;
  clearTimeout(t);
  return r;
}
