// Shared test plumbing: the CLI runner and standard services we did not write (socat).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
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

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
