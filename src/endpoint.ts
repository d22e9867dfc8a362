// The endpoint: TCP/UDP echo and discard, in this process (startEndpoint) or as the static
// umlperf-endpoint program (endpointBinary) for guests and other hosts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UmlperfError } from './errors.js';
import { native, packageRoot, type NativeEndpointStats } from './native.js';
import { DEFAULT_ECHO_PORT, type WaitMode } from './probes.js';
import { int, oneOf, text } from './validate.js';

export interface EndpointOptions {
  /** Numeric address to serve on. Default 127.0.0.1; 0.0.0.0 or :: for every address. */
  bind?: string;
  /** Echo port, TCP and UDP. Default 7007; 0 picks a free port. */
  port?: number;
  /** Discard port, TCP and UDP. Default port + 1 (0 when port is 0). */
  discardPort?: number;
  tcp?: boolean;
  udp?: boolean;
  /** Default block: in a one-CPU guest, spinning would distort what is measured. */
  wait?: WaitMode;
  netns?: string;
  maxConnections?: number;
}

export type EndpointStats = NativeEndpointStats;

export interface Endpoint {
  readonly bind: string;
  readonly echoPort: number;
  readonly discardPort: number;
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
  const bind = text('bind', o.bind ?? '127.0.0.1');
  const port = int('port', o.port ?? DEFAULT_ECHO_PORT, 0, 65535);
  const discardPort = int('discardPort', o.discardPort ?? (port === 0 ? 0 : port + 1), 0, 65535);
  if (port !== 0 && port === discardPort) throw new UmlperfError('ERR_UMLPERF_USAGE', 'the echo and discard ports must differ');
  const wait = oneOf('wait', o.wait ?? 'block', ['block', 'spin', 'busy-poll'] as const);
  const ep = new (native().NativeEndpoint)({
    bind,
    echoPort: port,
    discardPort,
    tcp: o.tcp ?? true,
    udp: o.udp ?? true,
    wait,
    ...(o.netns ? { netns: o.netns } : {}),
    ...(o.maxConnections ? { maxConnections: int('maxConnections', o.maxConnections, 1, 65536) } : {}),
  });
  const api: Endpoint = {
    bind,
    echoPort: ep.echoPort,
    discardPort: ep.discardPort,
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

/** Path of the static umlperf-endpoint program (prebuilt, or built by node-gyp). */
export function endpointBinary(): string {
  const candidates = [
    path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'umlperf-endpoint'),
    path.join(packageRoot, 'build', 'Release', 'umlperf-endpoint'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new UmlperfError('ENOENT', `umlperf-endpoint is not built; run npm run build (looked in ${candidates.join(', ')})`);
  }
  return found;
}
