// Server-level benchmarks from the lab's client namespace: DNS query latency, HTTP request
// latency (a fresh connection per GET, vhosts in turn), SMTP transaction latency (connect to
// the 250 that accepts the message). Closed loop, bounded in count and in time.
import fs from 'node:fs';
import { UmlperfError, UsageError } from '../errors.js';
import { envelope } from '../result/envelope.js';
import type { ServeBenchResult } from '../result/schema.js';
import { summarize } from '../stats.js';
import type { BenchRaw } from './client-main.js';
import { runClientJob } from './netns-child.js';
import { SERVERS } from './start.js';
import type { ServerName } from './spec.js';
import { targetAddr } from './zone.js';

/** The servers serve-bench measures, by the lab's names for them. */
export const BENCH_SERVERS = ['dns', 'www', 'mail'] as const satisfies readonly ServerName[];
export type BenchServer = (typeof BENCH_SERVERS)[number];
/** What the client speaks to each. */
const PROTOCOL_OF: Record<BenchServer, 'dns' | 'http' | 'smtp'> = { dns: 'dns', www: 'http', mail: 'smtp' };
/** The program that answers, named in every result. */
export const DAEMON_OF: Record<BenchServer, string> = { dns: 'named (BIND)', www: 'apache2', mail: 'postfix' };
const DEFAULT_REQUESTS: Record<BenchServer, number> = { dns: 2000, www: 1000, mail: 200 };
/** What a latency sample is: said in every result, since these are not the native probes. */
const TIMING: Record<BenchServer, string> = {
  dns: 'per query: send of one UDP DNS query to its matching answer parsed; process.hrtime.bigint() in a Node.js client in the lab\'s client namespace (its event loop included)',
  www: 'per request: TCP connect, one HTTP/1.1 GET, the whole response read, close; process.hrtime.bigint() in a Node.js client in the lab\'s client namespace (its event loop included)',
  mail: 'per transaction: TCP connect to the 250 that accepts one message (EHLO, MAIL, RCPT, DATA); process.hrtime.bigint() in a Node.js client in the lab\'s client namespace (its event loop included)',
};
const LIMITS = { requests: 1_000_000, concurrency: 256, durationS: 600 };

export interface ServeBenchOptions {
  server: BenchServer;
  /** Namespace the client runs in (`<lab>-client`). */
  netns: string;
  /** Address of the target (see zone.targetAddr). */
  addr: string;
  /** What results call the target: `host` or `gN`. */
  target: string;
  requests?: number;
  concurrency?: number;
  /** Requests before measuring (not counted). */
  warmup?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Stop after this long even if requests remain (default 60 s). */
  maxDurationS?: number;
  signal?: AbortSignal;
}

export type { ServeBenchResult };

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not ${v}`);
  return v;
}

/** Resolves `--lab L --target host|gN` to where the client runs and what it aims at. */
export function benchTarget(lab: string, target: string): { netns: string; addr: string } {
  if (!/^[a-z][a-z0-9]{0,9}$/.test(lab)) throw new UsageError(`bad lab name ${JSON.stringify(lab)}`);
  const addr = targetAddr(target);
  if (!addr) throw new UsageError(`bad target ${JSON.stringify(target)}: host or gN`);
  const netns = `${lab}-client`;
  if (!fs.existsSync(`/run/netns/${netns}`)) throw new UmlperfError('ERR_UMLPERF_NO_LAB', `no lab ${lab} (no netns ${netns}): start one with umlperf lab up --lab ${lab}`);
  return { netns, addr };
}

export async function serveBench(o: ServeBenchOptions): Promise<ServeBenchResult> {
  if (!(BENCH_SERVERS as readonly string[]).includes(o.server)) throw new UsageError(`unknown server ${JSON.stringify(o.server)} (${BENCH_SERVERS.join(', ')})`);
  const startedAt = new Date().toISOString();
  const requests = checkInt('requests', o.requests ?? DEFAULT_REQUESTS[o.server], 1, LIMITS.requests);
  const concurrency = checkInt('concurrency', o.concurrency ?? 1, 1, LIMITS.concurrency);
  const warmup = checkInt('warmup', o.warmup ?? Math.min(20, Math.ceil(requests / 10)), 0, LIMITS.requests);
  const durationS = o.maxDurationS ?? 60;
  if (!(durationS > 0 && durationS <= LIMITS.durationS)) throw new UsageError(`--max-duration must be in (0, ${LIMITS.durationS}] s`);
  const timeoutMs = o.timeoutMs ?? 2000;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= 60_000)) throw new UsageError(`--timeout must be in (0, 60000] ms, not ${timeoutMs}`);
  const raw = await runClientJob<BenchRaw>(o.netns, {
    kind: 'bench', proto: PROTOCOL_OF[o.server], addr: o.addr, requests, concurrency, warmup, timeoutMs, durationMs: durationS * 1000,
  }, durationS * 1000 + timeoutMs + 15_000, o.signal);
  if (raw.samplesNs.length === 0) {
    throw new UmlperfError('ERR_UMLPERF_BENCH', `${o.server} (${DAEMON_OF[o.server]}) on ${o.target} (${o.addr}): no request succeeded${raw.firstError ? `: ${raw.firstError}` : ''}`);
  }
  return {
    ...envelope('serve-bench', startedAt),
    config: {
      server: o.server, daemon: DAEMON_OF[o.server], target: o.target, address: o.addr,
      requests, concurrency, warmup, timeoutMs, maxDurationS: durationS,
    },
    clock: { source: 'hrtime', resolutionNs: 1, overheadNs: raw.clockOverheadNs },
    timing: TIMING[o.server],
    completed: raw.samplesNs.length,
    errors: raw.errors,
    ...(raw.firstError ? { firstError: raw.firstError } : {}),
    durationNs: raw.durationNs,
    requestsPerSecond: Math.round(((raw.samplesNs.length + raw.errors) / raw.durationNs) * 1e9 * 10) / 10,
    latency: summarize(raw.samplesNs),
    samplesNs: raw.samplesNs,
  };
}


/** A few lines for the terminal: the request rate and the latency spread in µs. */
export function formatServeBench(r: ServeBenchResult): string {
  const us = (ns: number) => (ns / 1000).toFixed(1);
  const l = r.latency;
  const c = r.config;
  return [
    `${c.server} (${c.daemon}) on ${c.target} (${c.address}): ${r.completed}/${c.requests} requests, concurrency ${c.concurrency}, ` +
      `${r.errors} errors, ${r.requestsPerSecond} requests/s`,
    `  latency µs: min ${us(l.minNs)}  p50 ${us(l.p50Ns)}  mean ${us(l.meanNs)} ±${us(l.ci95Ns)}  p90 ${us(l.p90Ns)}  ` +
      `p99 ${us(l.p99Ns)}  max ${us(l.maxNs)}`,
    ...(r.firstError ? [`  first error: ${r.firstError}`] : []),
  ].join('\n') + '\n';
}
