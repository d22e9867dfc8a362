// Pausing what a paired experiment switches between, without tearing it down: servers stopped
// with SIGSTOP (and continued with SIGCONT) on the host side and in a guest, guests frozen by
// their cgroup. A stopped server keeps its memory and sockets but never runs: experiment 2's
// "no server" side. A frozen guest keeps its memory but takes no CPU: experiment 3's "fewer guests".
import fs from 'node:fs';

import { cgroupPids } from '../lab/cgroup.js';
import { labGuestExec } from '../lab/lab.js';
import { readState } from '../lab/state.js';
import { SERVERS, SERVER_PID_DIR, type ServerName } from '../servers/start.js';

export type PauseSignal = 'SIGSTOP' | 'SIGCONT';

/** What the process table says of one process. */
export interface ProcEntry {
  ppid: number;
  /** argv[0] from /proc/PID/cmdline ('' for a kernel thread or a zombie). */
  argv0: string;
}

/** The program each server's tree starts from (its start command's first word). */
export function serverProgram(name: ServerName): string {
  return SERVERS[name].startCommand.trim().split(/\s+/)[0];
}

/**
 * The roots of the servers' trees among `candidates`: processes running a server's program
 * whose parent does not run the same program (Apache's children run it too).
 */
export function serverRoots(table: Map<number, ProcEntry>, candidates: Iterable<number>, names: readonly ServerName[]): number[] {
  const programs = new Set(names.map(serverProgram));
  const out: number[] = [];
  for (const pid of candidates) {
    const e = table.get(pid);
    if (!e || !programs.has(e.argv0)) continue;
    if (table.get(e.ppid)?.argv0 === e.argv0) continue;
    out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

/** Every descendant of the given processes (themselves excluded), parents before children. */
export function descendants(table: Map<number, ProcEntry>, roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, e] of table) children.set(e.ppid, [...(children.get(e.ppid) ?? []), pid]);
  const out: number[] = [];
  const seen = new Set(roots);
  const queue = [...roots];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** The host's process table (pid → parent, argv[0]). */
export function readProcTable(): Map<number, ProcEntry> {
  const t = new Map<number, ProcEntry>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the command in parentheses, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv0 = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')[0];
      t.set(Number(name), { ppid, argv0 });
    } catch {
      // gone meanwhile
    }
  }
  return t;
}

function kill(pid: number, sig: PauseSignal): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

/**
 * Signals the host-side servers of a lab, whole trees, parents first: a stopped parent forks no
 * more, and the table is read again until no new child shows. Only processes of the lab (its
 * host cgroup leaf, or the process groups its state file records for the servers) are touched.
 * Returns the processes signalled; throws when a server is not found (a "stopped" side that
 * still runs would be measured as if stopped).
 */
export function signalHostServers(lab: string, names: readonly ServerName[], sig: PauseSignal): number[] {
  if (!names.length) return [];
  const s = readState(lab);
  const groups = new Set((s?.processes ?? []).filter((p) => p.role === 'server').map((p) => p.pgid));
  const mine = new Set(s?.cgroups ? cgroupPids(lab, 'host') : []);
  let table = readProcTable();
  const pgidOf = (pid: number): number => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    } catch {
      return -1;
    }
  };
  const candidates = [...table.keys()].filter((pid) => mine.has(pid) || groups.has(pgidOf(pid)));
  const roots = serverRoots(table, candidates, names);
  if (roots.length !== names.length) throw new Error(`lab ${lab}: found ${roots.length} of the host-side servers ${names.join(', ')} to signal`);
  const done = new Set<number>();
  for (const r of roots) {
    kill(r, sig);
    done.add(r);
  }
  for (let round = 0; round < 20; round++) {
    const fresh = descendants(table, roots).filter((p) => !done.has(p));
    if (!fresh.length) break;
    for (const p of fresh) {
      kill(p, sig);
      done.add(p);
    }
    table = readProcTable();
  }
  return [...done];
}

/**
 * The guest side: a POSIX sh script run over the exec channel (one run per switch: a guest's
 * exec and system calls are slow, ~0.5 s and more under load). Arguments: the PID file
 * directory, then STOP or CONT each followed by server names. Each server's process (from its
 * PID file) is signalled first; then the process table is read once and every descendant is
 * signalled, parents first. Prints the number of servers found, then of processes signalled.
 */
export const GUEST_SIGNAL_SCRIPT = `dir=$1; shift; sig=CONT; n=0; STOP_=' '; CONT_=' '
for a; do
  case $a in STOP|CONT) sig=$a; continue ;; esac
  pid=; read -r pid 2>/dev/null < "$dir/$a.pid"
  case $pid in ''|*[!0-9]*) continue ;; esac
  case "$STOP_$CONT_" in *" $pid "*) continue ;; esac
  kill -"$sig" "$pid" 2>/dev/null || continue
  n=$((n+1))
  if [ "$sig" = STOP ]; then STOP_="$STOP_$pid "; else CONT_="$CONT_$pid "; fi
done
roots=$n
tab=
for s in /proc/[0-9]*/stat; do
  line=; read -r line 2>/dev/null < "$s" || continue
  set -- \${line##*") "}
  tab="$tab \${s#/proc/}"; tab="\${tab%/stat}:$2"
done
for sig in STOP CONT; do
  eval "set_=\\$\${sig}_"
  [ "$set_" = ' ' ] && continue
  while :; do
    new=
    for e in $tab; do
      p=\${e%:*}; pp=\${e#*:}
      case $set_ in *" $p "*) continue ;; esac
      case $set_ in *" $pp "*) kill -"$sig" "$p" 2>/dev/null; set_="$set_$p "; n=$((n+1)); new=1 ;; esac
    done
    [ -n "$new" ] || break
  done
done
echo "$roots $n"`;

/** Stops and continues servers' trees in guest `guest` of the lab, in one exec; the number of processes signalled. */
export async function signalGuestServers(lab: string, guest: string, what: { stop?: readonly ServerName[]; cont?: readonly ServerName[] }, timeoutMs = 30_000): Promise<number> {
  const stop = what.stop ?? [], cont = what.cont ?? [];
  if (!stop.length && !cont.length) return 0;
  const args = [...(stop.length ? ['STOP', ...stop] : []), ...(cont.length ? ['CONT', ...cont] : [])];
  const r = await labGuestExec(lab, guest, ['/bin/sh', '-c', GUEST_SIGNAL_SCRIPT, 'sh', SERVER_PID_DIR, ...args], { timeoutMs });
  if (r.status !== 0) throw new Error(`signalling the servers in ${guest} failed (status ${r.status}): ${r.stderr.toString().trim().split('\n').pop() ?? ''}`);
  const [roots, n] = r.stdout.toString().trim().split(' ').map(Number);
  // A server not found would make "stopped" the same as "running": say so rather than measure.
  if (roots !== stop.length + cont.length) throw new Error(`${guest}: found ${roots} of the servers ${[...stop, ...cont].join(', ')} to signal`);
  return n;
}
