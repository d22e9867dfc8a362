// The hooks between an init (the guest's, or ours on the host side) and the servers: one
// POSIX sh script per server in SERVER_HOOK_DIR, the contract of src/guest/init.ts.
import { UsageError } from '../errors.js';
import { dns } from './dns.js';
import { mail } from './mail.js';
import { SERVER_NAMES, type ServerName, type ServerSpec } from './spec.js';
import { www } from './www.js';

export { SERVER_NAMES, type ServerName } from './spec.js';

/** Where each server's hook lives in the image: `DIR/N start|stop` (the guest init's contract). */
export { SERVER_HOOK_DIR } from '../guest/init.js';
/** Per-server logs inside the image (stdout and stderr of each daemon). */
export const SERVER_LOG_DIR = '/var/log/umlperf';
/** PID files the hooks write inside the image (/run is a tmpfs in a guest). */
export const SERVER_PID_DIR = '/run/umlperf/servers';

export const SERVERS: Record<ServerName, ServerSpec> = { dns, www, mail };

/** What command output calls a server: its name and its daemon, e.g. `www (apache2)`. */
export const serverWithDaemon = (name: ServerName): string => `${name} (${SERVERS[name].daemon})`;

/** Parses "dns,www,mail" (any subset, any order, "" or "none" for none) into a list. */
export function parseServers(list: string | readonly string[] | undefined): ServerName[] {
  if (list === undefined) return [];
  const parts = (typeof list === 'string' ? list.split(',') : list.flatMap((s) => s.split(',')))
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'none');
  const out: ServerName[] = [];
  for (const p of parts) {
    if (!(SERVER_NAMES as readonly string[]).includes(p)) {
      throw new UsageError(`unknown server '${p}' (known: ${SERVER_NAMES.join(', ')})`);
    }
    if (!out.includes(p as ServerName)) out.push(p as ServerName);
  }
  return out;
}

/** The kernel command-line word the guest init reads, e.g. `umlperf.servers=dns,www`. */
export function serversKernelArg(servers: readonly ServerName[]): string {
  return `umlperf.servers=${servers.join(',')}`;
}

/**
 * The hook of one server: `start` runs the daemon in the foreground of a background job (so
 * it stays in the caller's process group; Postfix's master makes its own session), writes its
 * PID file, prints `started NAME PID` and returns at once: readiness is the health check's
 * business, so the three servers come up in parallel. `stop` signals that PID. Few execs:
 * each costs ~15 ms in a guest.
 */
export function hookScript(name: ServerName): string {
  const s = SERVERS[name];
  const pidfile = `${SERVER_PID_DIR}/${name}.pid`;
  return `#!/bin/sh
# umlperf server hook for ${s.label}; written at image build time (src/servers/start.ts).
# Usage: $0 start|stop
case \${1-} in
  start)
    [ -d ${SERVER_PID_DIR} ] || mkdir -p ${SERVER_PID_DIR}
${indent(s.prelude ?? '', 4)}
    ${s.startCommand} </dev/null >>${SERVER_LOG_DIR}/${name}.log 2>&1 &
    echo $! > ${pidfile}
    echo "started ${name} $!"
    ;;
  stop)
    pid=; read -r pid 2>/dev/null < ${pidfile}
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -f ${pidfile}
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
exit 0
`.replace(/\n\n+/g, '\n');
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text.split('\n').map((l) => (l ? pad + l : l)).join('\n');
}

/** Parses the hooks' stdout into name → PID. */
export function parseStarted(stdout: string): Map<ServerName, number> {
  const m = new Map<ServerName, number>();
  for (const line of stdout.split('\n')) {
    const r = /^started (\w+) (\d+)$/.exec(line.trim());
    if (r && (SERVER_NAMES as readonly string[]).includes(r[1])) m.set(r[1] as ServerName, Number(r[2]));
  }
  return m;
}
