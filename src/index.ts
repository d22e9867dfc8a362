// umlperf's library API.
export { responseTime, throughput, streaming, connectionRate, DEFAULT_ECHO_PORT, DEFAULT_DISCARD_PORT, DEFAULT_CHARGEN_PORT, DEFAULT_UDP_SOURCE_PORT, DEFAULT_CONTROL_PORT, CRR_SERVICES } from './probes.js';
export type {
  ClockInfo,
  CommonOptions,
  ConnectionRateOptions,
  ConnectionRateResult,
  Progress,
  Protocol,
  ResponseTimeOptions,
  ResponseTimeResult,
  StreamingOptions,
  StreamingResult,
  StreamTrial,
  ThroughputOptions,
  ThroughputResult,
  ThroughputDirection,
  ThroughputStream,
  ThroughputInterval,
  ThroughputIntervalEvent,
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

// The result model: every result's type, its JSON Schema, and a check of documents read back.
export { SCHEMA_VERSION, RESULT_SCHEMAS, publishedSchema } from './result/schema.js';
export { resultProblems } from './result/envelope.js';
export type {
  ResultKind,
  Latency,
  Clock,
  ProbeRuns,
  IsolateResult,
  CompareResult,
  LabResult,
  DoctorResult,
} from './result/schema.js';

// The lab: namespaces, bridge, TAPs and UML guests.
export { labUp, labDown, labStatus, labList, labExec, labGuestExec, DEFAULT_MEM } from './lab/lab.js';
export type { LabUpOptions, LabInfo, LabGuestInfo, LabSummary } from './lab/lab.js';
export type { GuestExecOptions, GuestExecResult } from './lab/exec.js';
export type { Transport } from './lab/state.js';
export type { FpuState } from './lab/fpu.js';
export { doctor } from './lab/doctor.js';
export type { DoctorReport, DoctorOptions, Check } from './lab/doctor.js';
export { teardownLab, teardownAll } from './lab/teardown.js';
export type { TeardownReport } from './lab/teardown.js';

// Servers in the lab, measured with real clients.
export { serveBench } from './servers/bench.js';
export type { ServeBenchOptions, ServeBenchResult } from './servers/bench.js';

// The study: run it, and render saved results.
export { paper } from './paper/api.js';
export type { PaperLabOptions } from './paper/api.js';
export { runPaper } from './paper/run.js';
export type { PaperOptions } from './paper/run.js';
export { LabStage } from './paper/lab-stage.js';
export type { Stage } from './paper/stage.js';
export type { PaperResult, Measurement, PaperTable, TableRow, Comparison, MeanCi } from './paper/model.js';
export { paperText, paperMarkdown, paperCsv, paperJson } from './report/paper.js';
export { paperHtml } from './report/paper-html.js';
export { latencyUnderLoad, MAX_RRUL_STREAMS } from './rrul.js';
export type { LatencyUnderLoadOptions, LatencyUnderLoadResult, LatencyUnderLoad, LatencyPhase } from './rrul.js';
