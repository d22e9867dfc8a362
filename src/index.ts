// umlperf's library API.
export { responseTime, throughput, streaming, DEFAULT_ECHO_PORT, DEFAULT_DISCARD_PORT } from './probes.js';
export type {
  ClockInfo,
  CommonOptions,
  Progress,
  Protocol,
  ResponseTimeOptions,
  ResponseTimeResult,
  StreamingOptions,
  StreamingResult,
  StreamTrial,
  ThroughputOptions,
  ThroughputResult,
  WaitMode,
} from './probes.js';
export { startEndpoint, spawnEndpoint, endpointBinary } from './endpoint.js';
export type { Endpoint, EndpointOptions, EndpointProcess, EndpointStats } from './endpoint.js';
export { summarize, quantile, mean, stddev, ci95, meanCi, tCritical95 } from './stats.js';
export type { Stats } from './stats.js';
export { UmlperfError, UsageError } from './errors.js';
import { native } from './native.js';
import type { ClockInfo } from './probes.js';

/** The clock the probes use: source, resolution and the measured cost of one timestamp. */
export function clockInfo(): ClockInfo {
  return native().clockInfo();
}
