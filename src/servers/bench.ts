// Server-level benchmarks from the lab's client namespace: DNS query latency, HTTP request
// latency (a fresh connection per GET, vhosts in turn), SMTP transaction latency (connect to
// the 250 that accepts the message). Closed loop, bounded in count and in time.
import fs from 'node:fs';
import { UmlperfError, UsageError } from '../errors.js';
import { summarize, type Stats } from '../stats.js';
import type { BenchRaw } from './client-main.js';
import { runClientJob } from './netns-child.js';
import { SERVERS, serverWithDaemon } from './start.js';
import type { ServerName } from './spec.js';
import { targetAddr } from './zone.js';

export const BENCH_PROTOCOLS = ['dns', 'http', 'smtp'] as const;
export type BenchProtocol = (typeof BENCH_PROTOCOLS)[number];
const SERVER_OF: Record<BenchProtocol, ServerName> = { dns: 'dns', http: 'www', smtp: 'mail' };
const DEFAULT_REQUESTS: Record<BenchProtocol, number> = { dns: 2000, http: 1000, smtp: 200 };
const LIMITS = { requests: 1_000_000, concurrency: 256, durationS: 600 };

export interface ServeBenchOptions {
  proto: BenchProtocol;
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
  /** Stop after this long even if requests remain. */
  durationS?: number;
  signal?: AbortSignal;
}

export interface ServeBenchResult {
  kind: 'serve-bench';
  proto: BenchProtocol;
  server: string;
  target: string;
  addr: string;
  requests: number;
  concurrency: number;
  completed: number;
  errors: number;
  firstError?: string;
  durationNs: number;
  requestsPerSec: number;
  latency: Stats;
  /** Samples in ns, in completion order. */
  samplesNs: number[];
}

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
  if (!(BENCH_PROTOCOLS as readonly string[]).includes(o.proto)) throw new UsageError(`unknown protocol ${o.proto} (dns, http, smtp)`);
  const requests = checkInt('requests', o.requests ?? DEFAULT_REQUESTS[o.proto], 1, LIMITS.requests);
  const concurrency = checkInt('concurrency', o.concurrency ?? 1, 1, LIMITS.concurrency);
  const warmup = checkInt('warmup', o.warmup ?? Math.min(20, Math.ceil(requests / 10)), 0, LIMITS.requests);
  const durationS = o.durationS ?? 60;
  if (!(durationS > 0 && durationS <= LIMITS.durationS)) throw new UsageError(`durationS (the most a run may last) must be in (0, ${LIMITS.durationS}] s, not ${durationS}`);
  const timeoutMs = o.timeoutMs ?? 2000;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= 60_000)) throw new UsageError(`timeoutMs must be in (0, 60000] ms, not ${timeoutMs}`);
  const raw = await runClientJob<BenchRaw>(o.netns, {
    kind: 'bench', proto: o.proto, addr: o.addr, requests, concurrency, warmup, timeoutMs, durationMs: durationS * 1000,
  }, durationS * 1000 + timeoutMs + 15_000, o.signal);
  if (raw.samplesNs.length === 0) {
    throw new UmlperfError('ERR_UMLPERF_BENCH', `${o.proto} to ${o.target} (${o.addr}): no request succeeded${raw.firstError ? `: ${raw.firstError}` : ''}`);
  }
  return {
    kind: 'serve-bench',
    proto: o.proto,
    server: SERVERS[SERVER_OF[o.proto]].label,
    target: o.target,
    addr: o.addr,
    requests,
    concurrency,
    completed: raw.samplesNs.length,
    errors: raw.errors,
    firstError: raw.firstError,
    durationNs: raw.durationNs,
    requestsPerSec: Math.round(((raw.samplesNs.length + raw.errors) / raw.durationNs) * 1e9 * 10) / 10,
    latency: summarize(raw.samplesNs),
    samplesNs: raw.samplesNs,
  };
}

/** A few lines for the terminal: the request rate and the latency spread in µs. */
export function formatServeBench(r: ServeBenchResult): string {
  const us = (ns: number) => (ns / 1000).toFixed(1);
  const l = r.latency;
  return [
    `${serverWithDaemon(SERVER_OF[r.proto])} on ${r.target} (${r.addr}), ${r.proto}: ${r.completed}/${r.requests} requests, concurrency ${r.concurrency}, ` +
      `${r.errors} errors, ${r.requestsPerSec} requests/s`,
    `  latency µs: min ${us(l.minNs)}  p50 ${us(l.p50Ns)}  mean ${us(l.meanNs)} ±${us(l.ci95Ns)}  p90 ${us(l.p90Ns)}  ` +
      `p99 ${us(l.p99Ns)}  max ${us(l.maxNs)}`,
    ...(r.firstError ? [`  first error: ${r.firstError}`] : []),
  ].join('\n') + '\n';
}
