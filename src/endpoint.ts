// The endpoint: TCP/UDP echo and discard, TCP chargen, in this process (startEndpoint) or as the static
// umlperf-endpoint program (endpointBinary) for guests and other hosts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { nativeArtifact } from './artifacts.js';
import { UmlperfError, UsageError } from './errors.js';
import { native, packageRoot, type NativeEndpointStats } from './native.js';
import { DEFAULT_ECHO_PORT, type WaitMode } from './probes.js';
import { int, num, oneOf, text } from './validate.js';

export interface EndpointOptions {
  /** Numeric address to serve on. Default 127.0.0.1; 0.0.0.0 or :: for every address. */
  bind?: string;
  /** Echo port, TCP and UDP. Default 7007; 0 picks a free port. */
  port?: number;
  /** Discard port, TCP and UDP. Default port + 1 (0 when port is 0). */
  discardPort?: number;
  /**
   * Chargen (RFC 864) source port, TCP only, for reverse throughput. Default port + 2 (0 when
   * port is 0); false: no chargen. It sends only to the peer of an accepted connection, as fast
   * as that peer reads, for at most sourceMaxMs.
   */
  chargenPort?: number | false;
  /** A chargen connection, and a UDP source stream, is closed after this long. Default 60000. */
  sourceMaxMs?: number;
  /**
   * The TCP control port (named for its first use): a client asks on it for a paced UDP source
   * (reverse UDP) or for a transaction session (connectionRate's default service). Default
   * port + 3 (0 when port is 0); false: none, so neither. A UDP stream goes only to the asking
   * connection's address, at most at udpSourceMaxMbps and for at most sourceMaxMs.
   */
  udpSourcePort?: number | false;
  /** Highest rate one UDP source stream may be asked for. Default 1000. */
  udpSourceMaxMbps?: number;
  tcp?: boolean;
  udp?: boolean;
  /** Default block: in a one-CPU guest, spinning would distort what is measured. */
  wait?: WaitMode;
  netns?: string;
  /** Open TCP connections per service; at the limit, the longest-idle connection makes room. Default 256. */
  maxConnections?: number;
  /** Open TCP connections per service from one source address. Default maxConnections / 2. */
  maxConnectionsPerSource?: number;
  /** A TCP connection that sends nothing for this long is closed. Default 60000. */
  idleTimeoutMs?: number;
  /** UDP replies per second to one source address (echo and counts); 0: no limit. Default 1000000. */
  udpRepliesPerSecond?: number;
  /**
   * TCP discard's read size in KiB, 16 to 4096, a buffer per connection. Default 128; larger
   * reads are fewer system calls, which pays where each is costly (the lab's guests use 1024).
   */
  discardReadKiB?: number;
}

export type EndpointStats = NativeEndpointStats;

export interface Endpoint {
  readonly bind: string;
  readonly echoPort: number;
  readonly discardPort: number;
  /** 0 when there is no chargen source. */
  readonly chargenPort: number;
  /** TCP control port of the UDP source; 0 when there is none. */
  readonly udpSourcePort: number;
  stats(): EndpointStats;
  /** Stops serving and joins its threads. */
  close(): Promise<void>;
  /** Let the process exit while the endpoint serves (like net.Server#unref). */
  unref(): this;
  ref(): this;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts an endpoint in this process; resolves once every service is bound. */
export async function startEndpoint(o: EndpointOptions = {}): Promise<Endpoint> {
  if (o === null || typeof o !== 'object') throw new UsageError(`endpoint options must be an object (got ${o === null ? 'null' : typeof o})`);
  const bind = text('bind', o.bind ?? '127.0.0.1');
  if (isIP(bind) === 0) throw new UsageError(`bind must be a numeric IPv4 or IPv6 address (got ${JSON.stringify(bind)})`);
  const port = int('port', o.port ?? DEFAULT_ECHO_PORT, 0, 65535);
  if (o.discardPort === undefined && port === 65535) {
    throw new UsageError('port 65535 leaves no room for the discard port (port + 1): give discardPort, or a lower port');
  }
  const discardPort = int('discardPort', o.discardPort ?? (port === 0 ? 0 : port + 1), 0, 65535);
  if (port !== 0 && port === discardPort) throw new UsageError('the echo and discard ports must differ');
  const chargen = o.chargenPort !== false;
  if (chargen && o.chargenPort === undefined && port >= 65534) {
    throw new UsageError(`port ${port} leaves no room for the chargen port (port + 2): give chargenPort, or chargenPort: false`);
  }
  const chargenPort = chargen ? int('chargenPort', o.chargenPort ?? (port === 0 ? 0 : port + 2), 0, 65535) : 0;
  if (chargen && chargenPort !== 0 && (chargenPort === port || chargenPort === discardPort)) {
    throw new UsageError(`the chargen port must differ from the echo and discard ports (got ${chargenPort}): give another chargenPort, or chargenPort: false`);
  }
  const tcp = flag('tcp', o.tcp);
  const udp = flag('udp', o.udp);
  if (!tcp && !udp) throw new UsageError('an endpoint serves TCP, UDP or both: tcp and udp cannot both be false');
  const udpSource = o.udpSourcePort !== false && tcp;
  if (udpSource && o.udpSourcePort === undefined && port >= 65533) {
    throw new UsageError(`port ${port} leaves no room for the UDP source port (port + 3): give udpSourcePort, or udpSourcePort: false`);
  }
  const udpSourcePort = udpSource ? int('udpSourcePort', o.udpSourcePort ?? (port === 0 ? 0 : port + 3), 0, 65535) : 0;
  if (udpSource && udpSourcePort !== 0 && [port, discardPort, chargen ? chargenPort : -1].includes(udpSourcePort)) {
    throw new UsageError(`the UDP source port must differ from the echo, discard and chargen ports (got ${udpSourcePort})`);
  }
  const wait = oneOf('wait', o.wait ?? 'block', ['block', 'spin', 'busy-poll'] as const);
  const ep = new (native().NativeEndpoint)({
    bind,
    echoPort: port,
    discardPort,
    chargen,
    chargenPort,
    ...(o.sourceMaxMs !== undefined ? { sourceMaxMs: int('sourceMaxMs', o.sourceMaxMs, 1, 86_400_000) } : {}),
    udpSource,
    udpSourcePort,
    ...(o.udpSourceMaxMbps !== undefined ? { udpSourceMaxMbps: num('udpSourceMaxMbps', o.udpSourceMaxMbps, 0.001, 1_000_000) } : {}),
    tcp,
    udp,
    wait,
    ...(o.netns !== undefined ? { netns: text('netns', o.netns) } : {}),
    ...(o.maxConnections !== undefined ? { maxConnections: int('maxConnections', o.maxConnections, 1, 65536) } : {}),
    ...(o.maxConnectionsPerSource !== undefined ? { maxConnectionsPerSource: int('maxConnectionsPerSource', o.maxConnectionsPerSource, 1, 65536) } : {}),
    ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: int('idleTimeoutMs', o.idleTimeoutMs, 1, 86_400_000) } : {}),
    ...(o.udpRepliesPerSecond !== undefined ? { udpRepliesPerSecond: int('udpRepliesPerSecond', o.udpRepliesPerSecond, 0, 100_000_000) } : {}),
    ...(o.discardReadKiB !== undefined ? { discardReadBytes: int('discardReadKiB', o.discardReadKiB, native().limits.discardReadMin / 1024, native().limits.discardReadMax / 1024) * 1024 } : {}),
  });
  const api: Endpoint = {
    bind,
    echoPort: ep.echoPort,
    discardPort: ep.discardPort,
    chargenPort: ep.chargenPort,
    udpSourcePort: ep.udpSourcePort,
    stats: () => ep.stats(),
    close: async () => ep.close(),
    unref() {
      ep.unref();
      return this;
    },
    ref() {
      ep.ref();
      return this;
    },
    [Symbol.asyncDispose]: async () => ep.close(),
  };
  return api;
}

function flag(name: string, v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'boolean') throw new UsageError(`${name} must be true or false (got ${String(v)})`);
  return v;
}

/** Path of the static umlperf-endpoint program (prebuilt, or built by node-gyp). */
export function endpointBinary(): string {
  return nativeArtifact('umlperf-endpoint');
}

export interface EndpointProcess {
  readonly pid: number;
  readonly echoPort: number;
  readonly discardPort: number;
  readonly chargenPort: number;
  /** 0 when there is none. */
  readonly udpSourcePort: number;
  /** SIGTERM, then waits for the exit (SIGKILL after 2 s). */
  close(): Promise<void>;
}

/** The ports umlperf-endpoint's ready line names, once `out` (its stdout so far) holds that line. */
export function readyPorts(out: string): { echo: number; discard: number; chargen: number; udpSource: number } | undefined {
  const m = /umlperf-endpoint ready .*echo=(\d+) discard=(\d+).* chargen=(\d+)(?: udpsource=(\d+))?/.exec(out);
  return m ? { echo: Number(m[1]), discard: Number(m[2]), chargen: Number(m[3]), udpSource: Number(m[4] ?? 0) } : undefined;
}

/**
 * Runs the static umlperf-endpoint as a child process (its own process group) and resolves
 * once it reports ready. `prefix` runs it through another command, e.g. ['ip','netns','exec',NS]
 * (then exitWithParent watches that command, which execs, so still this process). `args`: more
 * of its flags, e.g. ['--no-chargen'] or ['--max-connections', '1024'].
 */
export async function spawnEndpoint(
  o: { bind?: string; port?: number; wait?: WaitMode; prefix?: string[]; exitWithParent?: boolean; args?: string[] } = {},
): Promise<EndpointProcess> {
  const { spawn } = await import('node:child_process');
  const args = ['--bind', o.bind ?? '127.0.0.1', '--port', String(o.port ?? 0), '--wait', o.wait ?? 'block'];
  // The kernel ends it if this process dies, even by SIGKILL (PR_SET_PDEATHSIG).
  if (o.exitWithParent) args.push('--parent', String(process.pid));
  args.push(...(o.args ?? []));
  const cmd = [...(o.prefix ?? []), endpointBinary(), ...args];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = await new Promise<{ echo: number; discard: number; chargen: number; udpSource: number }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new UmlperfError('ETIMEDOUT', 'umlperf-endpoint did not report ready within 5 s')), 5000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.once('error', (e) => fail(new UmlperfError('ENOENT', `cannot run umlperf-endpoint: ${e.message}`)));
    child.once('exit', (code) => fail(new UmlperfError('ERR_UMLPERF_ENDPOINT', stderr.trim().split('\n')[0] || `umlperf-endpoint exited with status ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ports = readyPorts(out);
      if (ports) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(ports);
      }
    });
  });
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  return {
    pid: child.pid!,
    echoPort: ready.echo,
    discardPort: ready.discard,
    chargenPort: ready.chargen,
    udpSourcePort: ready.udpSource,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
}
