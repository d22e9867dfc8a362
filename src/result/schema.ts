// umlperf's result model, defined once. Every JSON document umlperf prints or saves is one of
// the kinds below; the TypeScript types of the library are derived from these schemas, and the
// same schemas are published as JSON Schema (schema/umlperf-result.schema.json, made by
// `npm run schema`, checked against this file by the tests).
//
// Conventions: times are integer-or-fractional nanoseconds named `…Ns` (or `…Ms`/`…S` where a
// field is a setting the user gave in those units); rates are `…PerSecond`; throughput is
// `Mbps` (10^6 bit/s); latency statistics are always a `latency` object of the same shape.
import { Type, type Static, type TLiteral, type TSchema, type TProperties, type TUnion } from '@sinclair/typebox';

/** Bumped whenever a field is renamed or removed; adding a field does not bump it. */
export const SCHEMA_VERSION = 2;
export const TOOL = 'umlperf';

const Num = (description?: string) => Type.Number(description ? { description } : {});
const Int = (description?: string) => Type.Integer(description ? { description } : {});
const Str = (description?: string) => Type.String(description ? { description } : {});
const Bool = (description?: string) => Type.Boolean(description ? { description } : {});
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Opt = Type.Optional;
type Literals<T extends readonly string[]> = { [K in keyof T]: TLiteral<T[K]> };
const Lit = <const T extends readonly string[]>(...xs: T): TUnion<Literals<T> & TSchema[]> =>
  Type.Union(xs.map((x) => Type.Literal(x))) as unknown as TUnion<Literals<T> & TSchema[]>;
const Obj = <P extends TProperties>(p: P, description?: string) =>
  Type.Object(p, { additionalProperties: false, ...(description ? { description } : {}) });
/**
 * A figure that is undefined when there were too few values: NaN in memory, which JSON writes
 * as null. Its TypeScript type is number (test with Number.isFinite); its JSON, number or null.
 */
const Figure = (description?: string) => Type.Unsafe<number>({ type: ['number', 'null'], ...(description ? { description } : {}) });

export const ClockSchema = Obj(
  {
    source: Lit('tsc', 'clock_monotonic_raw', 'hrtime'),
    resolutionNs: Num('smallest step the clock can show'),
    overheadNs: Num('measured cost of one timestamp'),
    tscHz: Opt(Num()),
  },
  'the clock the figures were taken with, measured at start',
);

export const LatencySchema = Obj(
  {
    count: Int('samples behind the figures'),
    minNs: Num(),
    meanNs: Num(),
    maxNs: Num(),
    p50Ns: Num(),
    p90Ns: Num(),
    p99Ns: Num(),
    p999Ns: Num(),
    stddevNs: Num(),
    madNs: Num('median absolute deviation from the median'),
    ci95Ns: Num('half-width of the 95% confidence interval of the mean (Student t)'),
  },
  'latency statistics, nanoseconds',
);

/** The fields every document starts with. */
function envelope<K extends string>(kind: K) {
  return {
    tool: Type.Literal(TOOL),
    version: Str('umlperf version that wrote it'),
    schemaVersion: Type.Literal(SCHEMA_VERSION),
    kind: Type.Literal(kind),
    startedAt: Str('ISO 8601 time the work started'),
  };
}

// ---------------------------------------------------------------------------------------------
// Probes

const ProbeConfig = {
  protocol: Lit('tcp', 'udp'),
  host: Str(),
  port: Int(),
  peer: Str('the address actually reached, address:port'),
  wait: Lit('block', 'spin', 'busy-poll'),
  cpu: Nullable(Int('CPU the probe thread was pinned to')),
  netns: Nullable(Str()),
  lab: Opt(Str('probed through a lab (--lab): its name')),
  target: Opt(Str('the lab target: host, g1, …')),
  net: Opt(Str('the lab\'s network configuration, as a lab up --net line (builtin: the built-in one)')),
};

export const ResponseTimeResultSchema = Obj({
  ...envelope('response'),
  config: Obj({
    ...ProbeConfig,
    size: Int('request bytes'),
    iterations: Int(),
    warmup: Int(),
    intervalUs: Num('gap from one request start to the next, µs'),
    timeoutMs: Num('per-request timeout, ms'),
  }),
  clock: ClockSchema,
  latency: LatencySchema,
  sent: Int(),
  received: Int(),
  lost: Int(),
  lossPercent: Num(),
  stale: Int('late replies to earlier (timed-out) requests, discarded'),
  durationNs: Num(),
  requestsPerSecond: Num(),
  samplesNs: Opt(Type.Array(Num(), { description: 'every measured round trip, in order' })),
});

export const ThroughputIntervalSchema = Obj(
  {
    startNs: Num('since the run started'),
    endNs: Num(),
    bytes: Num(),
    Mbps: Num(),
    retransmits: Opt(Int('TCP send streams: segments retransmitted in the interval')),
    lost: Opt(Int('UDP: datagrams lost in the interval')),
  },
  'one interval report',
);

export const ThroughputStreamSchema = Obj({
  peer: Str(),
  bytes: Num(),
  durationNs: Num(),
  Mbps: Num(),
  retransmits: Nullable(Int()),
  confirmed: Bool('the receiver confirmed the bytes (TCP: it closed after our FIN; UDP: it reported its count)'),
  datagramsSent: Opt(Int('UDP, counted: sent by us (send) or by the source, its own count (receive)')),
  datagramsReceived: Opt(Int('UDP, counted: distinct datagrams the receiver got')),
  lost: Opt(Int('UDP, counted: datagramsSent - datagramsReceived')),
  reordered: Opt(Int('UDP: arrived after a higher sequence number (the receiver counted)')),
  duplicates: Opt(Int('UDP received streams: datagrams that arrived twice')),
  intervals: Opt(Type.Array(ThroughputIntervalSchema)),
});

export const ThroughputDirectionSchema = Obj({
  bytes: Num('bytes confirmed delivered (send) or counted here (receive)'),
  durationNs: Num('the longest stream'),
  Mbps: Num(),
  retransmits: Nullable(Int()),
  streams: Type.Array(ThroughputStreamSchema),
});

export const StreamTrialSchema = Obj({
  targetRateMbps: Num(),
  sentMbps: Num(),
  receivedMbps: Num(),
  lossPercent: Num(),
  pass: Bool(),
});

/** RFC 2544's search for the highest rate whose loss stays under the threshold. */
export const RateSearchResultSchema = Obj({ lossThresholdPercent: Num(), maxRateMbps: Num('what the best passing trial delivered; 0 when none passed'), trials: Type.Array(StreamTrialSchema) });

export const ThroughputResultSchema = Obj({
  ...envelope('throughput'),
  config: Obj({
    ...ProbeConfig,
    size: Int('bytes per write (TCP) or per datagram (UDP)'),
    bytes: Nullable(Num('bytes asked for')),
    durationS: Nullable(Num('run length asked for, s')),
    direction: Lit('send', 'receive', 'both'),
    sourcePort: Nullable(Int()),
    parallel: Int('streams per direction'),
    intervalMs: Nullable(Num()),
    omitMs: Nullable(Num()),
    rateMbps: Opt(Num('UDP: the send pace (0: unpaced), or the rate asked of the UDP source')),
  }),
  clock: ClockSchema,
  bytes: Num('bytes the receiver is known to have taken'),
  bytesSent: Num(),
  bytesReceived: Nullable(Num('null when the receiver could not report (a standard discard over UDP)')),
  datagramsSent: Nullable(Int()),
  datagramsReceived: Nullable(Int()),
  lost: Nullable(Int()),
  lossPercent: Nullable(Num()),
  reordered: Opt(Nullable(Int('UDP: datagrams that arrived after a higher sequence number, as the receivers counted (null: one did not count)'))),
  duplicates: Opt(Nullable(Int('UDP received streams: datagrams that arrived twice'))),
  durationNs: Num(),
  sendDurationNs: Num(),
  Mbps: Num('the confirmed throughput; both directions added when bidirectional'),
  sentMbps: Num('what left the sender, over its sending time'),
  receiverConfirmed: Bool(),
  sent: Nullable(ThroughputDirectionSchema),
  received: Nullable(ThroughputDirectionSchema),
  intervals: Opt(Type.Array(ThroughputIntervalSchema)),
  search: Opt(RateSearchResultSchema),
});

export const StreamingResultSchema = Obj({
  ...envelope('stream'),
  config: Obj({ ...ProbeConfig, size: Int(), targetRateMbps: Num(), durationS: Num() }),
  clock: ClockSchema,
  sent: Int(),
  received: Int(),
  lost: Int(),
  duplicates: Int(),
  reordered: Int(),
  jitterNs: Num('RFC 3550 interarrival jitter of the echoes'),
  durationNs: Num(),
  sentMbps: Num(),
  receivedMbps: Num(),
  lossPercent: Num(),
  latency: LatencySchema,
  search: Opt(RateSearchResultSchema),
});

export const ConnectionRateResultSchema = Obj({
  ...envelope('crr'),
  // service and responseSize: absent in results saved before the transaction service.
  config: Obj({ ...ProbeConfig, service: Opt(Lit('transaction', 'echo')), size: Int(), responseSize: Opt(Int()), transactions: Int(), warmup: Int(), timeoutMs: Num() }),
  clock: ClockSchema,
  latency: LatencySchema,
  transactions: Int(),
  durationNs: Num(),
  transactionsPerSecond: Num(),
  samplesNs: Opt(Type.Array(Num())),
});

export const LatencyPhaseSchema = Obj({ latency: LatencySchema, sent: Int(), received: Int(), lost: Int() });
export const LatencyUnderLoadSchema = Obj({
  idle: LatencyPhaseSchema,
  loaded: LatencyPhaseSchema,
  p50Ratio: Num('loaded / idle'),
  p99Ratio: Num('loaded / idle'),
});
export const RrulBulkSchema = Obj({
  Mbps: Num('both directions added'),
  sentMbps: Num(),
  receivedMbps: Num(),
  retransmits: Nullable(Int('TCP retransmits of the upload streams')),
  durationNs: Num(),
});

/** Latency under load (probe rrul, flent's RRUL). */
export const LatencyUnderLoadResultSchema = Obj({
  ...envelope('rrul'),
  config: Obj({
    host: Str(),
    echoPort: Int(),
    discardPort: Int(),
    sourcePort: Int('TCP chargen, the download'),
    streams: Int('bulk TCP streams per direction'),
    durationS: Num('how long the bulk load ran'),
    size: Int('request bytes'),
    intervalMs: Num('gap between request starts'),
    iterations: Int('requests per protocol and phase'),
    settleMs: Num('load before the loaded requests started'),
    wait: Lit('block', 'spin', 'busy-poll'),
    netns: Nullable(Str()),
  }),
  clock: ClockSchema,
  tcp: LatencyUnderLoadSchema,
  udp: LatencyUnderLoadSchema,
  bulk: RrulBulkSchema,
  latencyDuringLoad: Bool('the loaded requests ended before the bulk load did'),
});

const Summary = Obj(
  { mean: Figure(), ci95: Figure('half-width of the t interval'), n: Int() },
  'a figure over the runs: mean and the half-width of its 95% t interval',
);

/** `umlperf probe … --json`: the same shape for one run or many. */
export const ProbeRunsSchema = Obj({
  ...envelope('probe'),
  probe: Lit('response', 'throughput', 'stream', 'crr', 'rrul'),
  config: Obj({ runs: Int('runs asked for'), completed: Int('runs measured'), interrupted: Bool() }),
  clock: ClockSchema,
  runs: Type.Union([
    Type.Array(ResponseTimeResultSchema),
    Type.Array(ThroughputResultSchema),
    Type.Array(StreamingResultSchema),
    Type.Array(ConnectionRateResultSchema),
    Type.Array(LatencyUnderLoadResultSchema),
  ]),
  summary: Type.Record(Type.String(), Summary, { description: 'the run-to-run figures: p50Ns, Mbps, …' }),
});

// ---------------------------------------------------------------------------------------------
// Servers

export const SERVER_NAMES = ['dns', 'www', 'mail'] as const;
const ServerName = Lit(...SERVER_NAMES);

export const ServeBenchResultSchema = Obj({
  ...envelope('serve-bench'),
  config: Obj({
    server: ServerName,
    daemon: Str('the program serving: named, apache2, postfix'),
    target: Str('host or gN'),
    address: Str(),
    requests: Int(),
    concurrency: Int(),
    warmup: Int(),
    timeoutMs: Num(),
    maxDurationS: Num('the run stops after this long even if requests remain'),
  }),
  clock: ClockSchema,
  timing: Str('what each latency sample is, and where it was taken'),
  completed: Int(),
  errors: Int(),
  firstError: Opt(Str()),
  durationNs: Num(),
  requestsPerSecond: Num('completed and failed requests over the run'),
  latency: LatencySchema,
  samplesNs: Opt(Type.Array(Num(), { description: 'in completion order' })),
});

// ---------------------------------------------------------------------------------------------
// The study

const Side = Lit('host', 'guest');

/** paper --rrul: latency under load, one row per side. */
export const RrulRowSchema = Obj({
  side: Side,
  streams: Int(),
  durationS: Num(),
  tcp: LatencyUnderLoadSchema,
  udp: LatencyUnderLoadSchema,
  bulk: RrulBulkSchema,
  latencyDuringLoad: Bool(),
});
const Protocol = Lit('tcp', 'udp');
export const SERVER_ROLES = ['none', 'www', 'dns', 'mail'] as const;
const ServerRole = Lit(...SERVER_ROLES);
const Experiment = Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]);

export const MeanCiSchema = Obj(
  { mean: Figure(), ci95: Figure(), n: Int(), median: Figure(), ci95Low: Figure(), ci95High: Figure() },
  'per-run figures: mean ± t half-width, and the median with its distribution-free 95% CI',
);

export const FpuStateSchema = Obj({
  mode: Lit('native', 'adapted', 'unknown'),
  hostXstateBytes: Opt(Int()),
  umlXstateBytes: Opt(Int()),
});

export const MeasurementSchema = Obj({
  experiment: Experiment,
  side: Side,
  protocol: Protocol,
  servers: ServerRole,
  guests: Int('guests running while measured (experiment 3: the others frozen)'),
  blockGroup: Opt(Str('measurements with the same blockGroup were taken in the same blocks and pair by index')),
  latency: Obj(
    { minNs: Num(), meanNs: Num(), maxNs: Num(), p50Ns: Num(), p90Ns: Num(), p99Ns: Num(), p999Ns: Num(), count: Int(), sent: Int(), lost: Int() },
    'response time over all runs\' samples',
  ),
  latencyRunP50Ns: Type.Array(Num(), { description: 'per run: the median round trip' }),
  latencyP50Ns: MeanCiSchema,
  latencySamplesNs: Opt(Type.Array(Num(), { description: 'samples kept for the charts (evenly thinned); in saved results and with --samples' })),
  throughputRunsMbps: Type.Array(Num()),
  throughputMbps: MeanCiSchema,
  udp: Opt(Obj({ sentMbps: MeanCiSchema, lossPercent: MeanCiSchema })),
  aa: Opt(Obj({ latencyRunP50Ns: Type.Array(Num()), throughputRunsMbps: Type.Array(Num()) }, 'the A/A control: this side measured again in every block')),
});

export const VERDICTS = ['differs', 'no effect beyond noise', 'too few runs'] as const;
const Verdict = Lit(...VERDICTS);

const ComparisonProps = {
  metric: Lit('latency p50', 'throughput'),
  host: Num('baseline side: mean of its per-run figures (host; no server; the fewest guests)'),
  guest: Num('compared side (guest; the server; N guests)'),
  ratio: Num('compared / baseline: paired per block when both were measured in the same blocks'),
  ci95Low: Num(),
  ci95High: Num(),
  paired: Bool(),
  n: Int(),
  p: Figure('two-sided p of no difference'),
  pHolm: Figure('after Holm across the run\'s comparisons'),
  floorPercent: Nullable(Num('the A/A noise floor judged against, percent')),
  aa: Opt(Bool('an A/A control row, judged by pHolm alone')),
  verdict: Verdict,
};
export const ComparisonSchema = Obj(ComparisonProps);

export const TableRowSchema = Obj({
  side: Side,
  protocol: Protocol,
  servers: ServerRole,
  guests: Int(),
  latency: Obj({ count: Int(), minNs: Num(), meanNs: Num(), maxNs: Num(), p50Ns: Num(), p90Ns: Num(), p99Ns: Num(), p999Ns: Num() }),
  throughputMbps: Obj({ mean: Figure(), ci95: Figure(), n: Int(), median: Figure(), ci95Low: Figure(), ci95High: Figure() }),
  udp: Opt(Obj({ sentMbps: Figure(), lossPercent: Figure() })),
});

export const PaperTableSchema = Obj({
  id: Lit('table1', 'table2', 'table3', 'table4', 'table5'),
  experiment: Experiment,
  title: Str(),
  rows: Type.Array(TableRowSchema),
  comparisons: Type.Array(Obj({ servers: ServerRole, protocol: Protocol, guests: Opt(Int()), ...ComparisonProps })),
});

export const RateSearchSchema = Obj({
  side: Side,
  lossThresholdPercent: Num(),
  maxRateMbps: Num(),
  trials: Type.Array(StreamTrialSchema),
  method: Opt(Type.Literal('one-way', { description: 'one way into the discard service, loss as the receiver counted it (absent: through the echo service, as earlier versions measured)' })),
});

export const OpenQuestionsSchema = Obj({
  udpVsTcp: Type.Array(Obj({ side: Side, tcpMbps: Figure(), udpReceivedMbps: Figure(), udpSentMbps: Figure(), udpLossPercent: Figure(), lossFreeRateMbps: Nullable(Num()) })),
  namedCost: Type.Array(Obj({
    side: Side,
    protocol: Protocol,
    noneMbps: Figure(),
    namedMbps: Figure(),
    changePercent: Figure(),
    changeCi95LowPercent: Figure(),
    changeCi95HighPercent: Figure(),
    p: Figure(),
    pHolm: Figure(),
    floorPercent: Nullable(Num()),
    verdict: Verdict,
  })),
  hostVsGuests: Type.Array(Obj({ protocol: Protocol, guests: Int(), p50Ns: Figure(), Mbps: Figure() })),
  rateSearches: Type.Array(RateSearchSchema),
});

export const DriftWatchSchema = Obj({
  /** What the reference measures, e.g. "TCP 64 B loopback, probe on CPU 0, endpoint on CPU 1". */
  reference: Opt(Str()),
  series: Type.Array(Obj({ atMs: Num(), step: Str(), block: Int(), referenceP50Ns: Num() })),
  medianReferenceP50Ns: Num(),
  thresholdPercent: Num(),
  flagged: Type.Array(Obj({ step: Str(), block: Int(), deviationPercent: Num() })),
  /** After the lab changed for an experiment: how long its first block waited for the reference to settle. */
  settles: Opt(Type.Array(Obj({ step: Str(), waitedMs: Num(), probes: Int(), settled: Type.Boolean(), lastReferenceP50Ns: Num() }))),
});

// ---------------------------------------------------------------------------------------------
// Isolation (experiment 4)

export const METRICS = ['tcpP50Ns', 'tcpP99Ns', 'udpP50Ns', 'udpP99Ns', 'tcpMbps', 'serverP50Ns', 'serverP99Ns'] as const;
export const FAULT_NAMES = ['cpu', 'fork', 'memory', 'disk', 'flood', 'panic', 'crash'] as const;
const Metric = Lit(...METRICS);
const FaultName = Lit(...FAULT_NAMES);
const IsolateVerdict = Obj({ kind: Lit('isolated', 'degraded', 'broken'), worsePercent: Opt(Num()) });

export const GuestLimitsSchema = Obj({ cpuPercent: Opt(Num()), memBytes: Opt(Num()), ioBps: Opt(Num()), pids: Opt(Int()) });
export const LimitReportSchema = Obj({
  limits: GuestLimitsSchema,
  applied: Type.Record(Type.String(), Type.String(), { description: 'control file → value written' }),
  unsupported: Type.Array(Str()),
});

export const IsolateRoundSchema = Obj({
  neighbour: Str(),
  startMs: Num('since the fault\'s first round'),
  endMs: Num(),
  values: Type.Record(Type.String(), Nullable(Num())),
  errors: Opt(Type.Array(Str())),
});

export const FaultRunSchema = Obj({
  fault: FaultName,
  startMs: Num(),
  endMs: Num(),
  windowS: Num(),
  outcome: Str(),
  outlived: Bool(),
  replaced: Bool(),
  replaceFailed: Opt(Str()),
  oomKills: Opt(Int()),
  restarted: Opt(Bool()),
  floodBytes: Opt(Num()),
  unsupported: Opt(Str()),
  hostCost: Obj({ cpuBefore: Opt(Num()), cpuDuring: Opt(Num()), memBytesBefore: Opt(Num()), memPeakBytesDuring: Opt(Num()) }),
  metrics: Type.Array(Obj({
    neighbour: Str(),
    metric: Metric,
    before: Nullable(Num()),
    during: Nullable(Num()),
    after: Nullable(Num()),
    noisePercent: Num(),
    duringVerdict: IsolateVerdict,
    afterVerdict: IsolateVerdict,
  })),
  neighbours: Type.Array(Obj({ neighbour: Str(), verdict: IsolateVerdict, afterVerdict: IsolateVerdict, recoveryMs: Nullable(Num()) })),
  rounds: Type.Array(IsolateRoundSchema),
});

export const IsolateResultSchema = Obj({
  ...envelope('isolate'),
  config: Obj({
    faults: Type.Array(FaultName),
    windowS: Num(),
    image: Str(),
    servers: Type.Array(Str()),
    faultyGuest: Str(),
    neighbours: Type.Array(Str()),
    limit: Opt(Str()),
    minNoisePercent: Num(),
    baselineSlices: Opt(Int('slices each fault\'s baseline is measured in; its noise is the spread between their medians')),
    placement: Opt(Obj({ proberCpu: Int(), guestCpu: Int(), hostCpu: Opt(Int()) }, 'CPUs the probes, the guests and the host side (its endpoint and servers) were pinned to')),
  }),
  clock: ClockSchema,
  passes: Type.Array(Obj({ limit: Opt(Str()), limits: Opt(Type.Record(Type.String(), LimitReportSchema)), faults: Type.Array(FaultRunSchema) })),
  containment: Opt(Type.Array(Obj({
    fault: FaultName,
    neighbour: Str(),
    unlimited: IsolateVerdict,
    limited: IsolateVerdict,
    contained: Bool(),
    limit: Opt(Str()),
    limitUnsupported: Opt(Bool('the limit could not be applied on this host: nothing it contains')),
  }))),
  durationMs: Num(),
});

export const PaperResultSchema = Obj({
  ...envelope('paper'),
  finishedAt: Str(),
  complete: Bool('false when interrupted or failed part-way: what is here was measured'),
  error: Opt(Str()),
  warnings: Type.Array(Str()),
  config: Obj({
    experiments: Type.Array(Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)])),
    runs: Int(),
    guestsSweep: Type.Array(Int()),
    servers: Type.Array(ServerName, { description: 'experiment 2: the servers, each running alone against all stopped (SIGSTOP)' }),
    transport: Str(),
    net: Opt(Str('the labs\' network configuration, a lab up --net line')),
    kernel: Str(),
    image: Str(),
    responseSizeBytes: Int(),
    responseIterations: Int(),
    throughputSeconds: Num(),
    udpDatagramBytes: Int(),
    seed: Opt(Int()),
    blockOrder: Opt(Type.Literal('abba', { description: 'each block\'s order drawn at random every other block and mirrored in the next; absent in results of earlier versions, which drew it anew every block' })),
    experimentOrder: Opt(Type.Union([Type.Literal('interleaved'), Type.Literal('sequential')], { description: 'interleaved: one block of each experiment per round, their order mirrored every other round, each lab parked (frozen) while another is measured; sequential: one experiment after another (a host without a cgroup freezer, and results of earlier versions, where it is absent)' })),
    ciTargetPercent: Opt(Nullable(Num())),
    maxRuns: Opt(Int()),
    probeCpu: Nullable(Int()),
    labCpus: Nullable(Str()),
    fpuState: Opt(FpuStateSchema),
    rrul: Opt(Obj({ streams: Int(), durationS: Num() }, 'opt-in latency-under-load rows')),
  }),
  clock: ClockSchema,
  measurements: Type.Array(MeasurementSchema),
  drift: Opt(DriftWatchSchema),
  tables: Type.Array(PaperTableSchema),
  openQuestions: OpenQuestionsSchema,
  isolation: Opt(IsolateResultSchema),
  rrul: Opt(Type.Array(RrulRowSchema)),
});

// ---------------------------------------------------------------------------------------------
// Comparisons of saved runs

export const CompareResultSchema = Obj({
  ...envelope('compare'),
  config: Obj({ a: Str('the first result (its file)'), b: Str() }),
  figures: Obj({ total: Int(), agree: Int() }),
  verdicts: Obj({ total: Int(), agree: Int() }),
  ratios: Obj({ total: Int(), agree: Int() }),
  rows: Type.Array(Type.Union([
    Obj({ kind: Type.Literal('figure'), key: Str(), metric: Lit('latency p50', 'throughput'), unit: Lit('ns', 'Mbps'), a: Num(), b: Num(), ratio: Num(), ci95Low: Num(), ci95High: Num(), agree: Bool(), agreeAllowingMachine: Opt(Bool('agree once the machine\'s own move (machine.ratio) is allowed for')) }),
    Obj({ kind: Type.Literal('ratio'), key: Str(), metric: Str(), a: Num(), b: Num(), ratioOfRatios: Num(), ci95Low: Num(), ci95High: Num(), agree: Bool() }),
    Obj({ kind: Type.Literal('verdict'), key: Str(), metric: Str(), a: Str(), b: Str(), agree: Bool() }),
  ])),
  unmatched: Type.Array(Str()),
  machine: Opt(Obj({
    reference: Str('what the drift watch\'s reference measured (the same in both runs)'),
    a: Num('median reference of A, ns'),
    b: Num(),
    ratio: Num('B/A of the references (above 1: B\'s machine was slower)'),
    ci95Low: Num(),
    ci95High: Num(),
    agree: Bool('the reference did not move: the CI of its ratio contains 1'),
    figuresAgree: Int('figures that agree once the machine\'s move is allowed for'),
  }, 'how far the machine itself moved between the runs, as the drift watch\'s reference saw it')),
});

// ---------------------------------------------------------------------------------------------
// The lab's network configuration (lab up --net) and tune, which measures configurations

export const NetConfigSchema = Obj({
  transport: Lit('tap', 'raw', 'hybrid', 'tuntap'),
  gro: Bool(),
  vec: Bool('the vector driver batches packets per system call'),
  depth: Int('vector queue depth (0: the driver\'s)'),
  mtu: Int('on TAP, bridge, veth and guest'),
  hostOffload: Lit('default', 'on', 'off'),
  qdisc: Lit('default', 'pfifo_fast', 'pfifo', 'noqueue'),
  txqlen: Int('guest transmit queue, packets (0: the driver\'s)'),
  sockbuf: Int('guest socket buffers, bytes (0: the kernel\'s)'),
  tcpRmem: Opt(Int('ceiling of the guest\'s TCP receive buffer (tcp_rmem max), bytes; the larger of it and sockbuf applies (0 or absent: the kernel\'s)')),
  cpus: Str('CPU list of the lab\'s processes, or any'),
  rps: Opt(Bool('host side: the TAP\'s received packets processed on the CPUs the guests are not pinned to (absent: off)')),
}, 'a lab\'s network configuration');

export const ResolvedNetSchema = Obj({
  preset: Opt(Str()),
  line: Str('the canonical lab up --net line (empty: the built-in configuration)'),
  config: NetConfigSchema,
});

const TuneFiguresSchema = Obj({
  forwardMbps: Num('TCP into the guest'),
  reverseMbps: Num('TCP out of the guest'),
  tcpP50Ns: Num(),
  tcpP99Ns: Num(),
  udpP50Ns: Num(),
  udpP99Ns: Num(),
  udpLossFreeMbps: Num('highest UDP rate with loss under 0.1% (RFC 2544 search; config.udpLossFree says how)'),
  guestCpu: Opt(Num('guest CPU during the throughput tests, in CPUs')),
});

const HostFiguresSchema = Obj({ forwardMbps: Num(), reverseMbps: Num(), tcpP50Ns: Num() });

export const TuneResultSchema = Obj({
  ...envelope('tune'),
  config: Obj({ quick: Bool(), transports: Type.Array(Lit('tap', 'raw', 'hybrid', 'tuntap')), reference: Str(), loadAverage: Type.Array(Num()), cpus: Int(),
    udpLossFree: Opt(Type.Literal('one-way', { description: 'how udpLossFreeMbps was measured: one way into the discard service, loss as it counted (absent: through the echo service, as earlier versions did)' })),
    udpDatagram: Opt(Type.Literal('mtu', { description: "udpLossFreeMbps's datagrams: the configuration's MTU - 28 bytes (absent: 1472 bytes at every MTU, as earlier versions measured)" })),
    responseRuns: Opt(Int('response-time runs per protocol and configuration; the p50 and p99 figures are the median over them (absent: one run, as earlier versions measured)')) }),
  clock: ClockSchema,
  rows: Type.Array(Obj({
    knob: Str('the knob changed from the best so far; baseline, again (the best so far measured again) or confirm'),
    line: Str(),
    config: NetConfigSchema,
    figures: Opt(TuneFiguresSchema),
    error: Opt(Str()),
    score: Opt(Num('against the baseline; > 1 is better')),
    stepScore: Opt(Num('against the best so far measured at the start of the step')),
    pareto: Opt(Bool()),
  })),
  pareto: Type.Array(Int()),
  winner: Obj({ line: Str(), config: NetConfigSchema, score: Num() }),
  mattered: Opt(Obj({ knob: Str(), spread: Num() })),
  confirmation: Opt(Obj({
    roundScores: Type.Array(Num()),
    reference: Obj({ line: Str(), figures: Type.Array(TuneFiguresSchema), host: Type.Array(HostFiguresSchema) }),
    winner: Obj({ line: Str(), figures: Type.Array(TuneFiguresSchema), host: Type.Array(HostFiguresSchema) }),
    clear: Bool(),
  })),
  skipped: Type.Array(Str()),
  truncated: Bool(),
  durationMs: Num(),
});

// ---------------------------------------------------------------------------------------------
// The lab and the machine (state, not measurements: no clock)

export const LabGuestSchema = Obj({
  id: Str(),
  address: Str(),
  pid: Int(),
  transport: Lit('vector', 'tuntap'),
  bootMs: Num(),
  fpuState: Opt(FpuStateSchema),
  limits: Opt(LimitReportSchema),
  alive: Opt(Bool()),
  log: Opt(Str()),
});

const LabProps = {
  name: Str(),
  status: Opt(Lit('starting', 'up', 'stopping', 'failed')),
  client: Obj({ netns: Str(), address: Str() }),
  host: Obj({ netns: Str(), address: Str() }),
  guests: Type.Array(LabGuestSchema),
  guestsUpMs: Opt(Num()),
  serversHealthyMs: Opt(Type.Record(Type.String(), Num())),
  net: Opt(ResolvedNetSchema),
};

export const LabResultSchema = Obj({ ...envelope('lab'), ...LabProps });

export const LabListSchema = Obj({
  ...envelope('lab-list'),
  labs: Type.Array(Obj({
    name: Str(),
    status: Str('from its state file: starting, up, stopping, failed; unknown when the file is missing or unreadable'),
    guests: Int(),
    running: Int('guests whose UML process is alive now'),
    image: Opt(Str()),
    startedAt: Opt(Str('when the lab was made')),
  })),
});

export const TeardownSchema = Obj({ lab: Str(), processes: Int(), links: Int(), netns: Int(), found: Bool() });

export const LabDownSchema = Obj({ ...envelope('lab-down'), name: Str(), removed: Bool('false: there was no such lab') });

export const CleanupResultSchema = Obj({ ...envelope('cleanup'), labs: Type.Array(TeardownSchema) });

export const DoctorResultSchema = Obj({
  ...envelope('doctor'),
  ok: Bool(),
  checks: Type.Array(Obj({ name: Str(), ok: Bool(), detail: Str(), package: Opt(Str()), fix: Opt(Str()) })),
  boot: Opt(Obj({
    ok: Bool(),
    bootMs: Opt(Num()),
    kernel: Str(),
    kernelVersion: Opt(Str()),
    fpuState: Opt(FpuStateSchema),
    error: Opt(Str()),
    code: Opt(Str()),
  })),
  install: Opt(Str()),
});

export const ImageResultSchema = Obj({
  ...envelope('image'),
  name: Str(),
  base: Str('read-only ext2 base for ubd0=COW,BASE'),
  root: Str('the same tree as a directory'),
  built: Bool('this call built it (false: from the cache)'),
  buildMs: Num(),
  baseBytes: Opt(Num()),
  baseAllocatedBytes: Opt(Num()),
});

export const ImagePruneResultSchema = Obj({
  ...envelope('image-prune'),
  cacheDir: Str(),
  dryRun: Bool('true: nothing was removed, removed lists what would go'),
  kept: Type.Array(Obj({ name: Str(), why: Str("today's recipe, used by a lab, or asked to keep") })),
  removed: Type.Array(Obj({ name: Str(), bytes: Num('allocated on disk'), reason: Lit('outdated recipe', 'unfinished build') })),
  bytesFreed: Num(),
});

/** Every kind, for the published schema and for checking documents read back. */
export const RESULT_SCHEMAS = {
  response: ResponseTimeResultSchema,
  throughput: ThroughputResultSchema,
  stream: StreamingResultSchema,
  crr: ConnectionRateResultSchema,
  rrul: LatencyUnderLoadResultSchema,
  probe: ProbeRunsSchema,
  'serve-bench': ServeBenchResultSchema,
  paper: PaperResultSchema,
  isolate: IsolateResultSchema,
  compare: CompareResultSchema,
  lab: LabResultSchema,
  'lab-list': LabListSchema,
  'lab-down': LabDownSchema,
  cleanup: CleanupResultSchema,
  doctor: DoctorResultSchema,
  image: ImageResultSchema,
  'image-prune': ImagePruneResultSchema,
  tune: TuneResultSchema,
} as const;

export type ResultKind = keyof typeof RESULT_SCHEMAS;

export type Clock = Static<typeof ClockSchema>;
export type Latency = Static<typeof LatencySchema>;
export type ResponseTimeResult = Static<typeof ResponseTimeResultSchema>;
export type ThroughputResult = Static<typeof ThroughputResultSchema>;
export type ThroughputInterval = Static<typeof ThroughputIntervalSchema>;
export type ThroughputStream = Static<typeof ThroughputStreamSchema>;
export type ThroughputDirection = Static<typeof ThroughputDirectionSchema>;
export type StreamTrial = Static<typeof StreamTrialSchema>;
export type StreamingResult = Static<typeof StreamingResultSchema>;
export type ConnectionRateResult = Static<typeof ConnectionRateResultSchema>;
export type LatencyUnderLoadResult = Static<typeof LatencyUnderLoadResultSchema>;
export type LatencyUnderLoad = Static<typeof LatencyUnderLoadSchema>;
export type LatencyPhase = Static<typeof LatencyPhaseSchema>;
export type RrulRow = Static<typeof RrulRowSchema>;
export type ProbeRuns = Static<typeof ProbeRunsSchema>;
export type ServeBenchResult = Static<typeof ServeBenchResultSchema>;
export type MeanCi = Static<typeof MeanCiSchema>;
export type Side = Static<typeof Side>;
export type Measurement = Static<typeof MeasurementSchema>;
export type Comparison = Static<typeof ComparisonSchema>;
export type TableRow = Static<typeof TableRowSchema>;
export type PaperTable = Static<typeof PaperTableSchema>;
export type RateSearch = Static<typeof RateSearchSchema>;
export type OpenQuestions = Static<typeof OpenQuestionsSchema>;
export type DriftWatch = Static<typeof DriftWatchSchema>;
export type PaperResult = Static<typeof PaperResultSchema>;
export type IsolateResult = Static<typeof IsolateResultSchema>;
export type CompareResult = Static<typeof CompareResultSchema>;
export type LabResult = Static<typeof LabResultSchema>;
export type LabListResult = Static<typeof LabListSchema>;
export type CleanupResult = Static<typeof CleanupResultSchema>;
export type DoctorResult = Static<typeof DoctorResultSchema>;
export type ImageResult = Static<typeof ImageResultSchema>;
export type ImagePruneResult = Static<typeof ImagePruneResultSchema>;

/** The published JSON Schema: one document, a result of any kind (chosen by `kind`). */
export function publishedSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const [kind, s] of Object.entries(RESULT_SCHEMAS)) defs[kind] = JSON.parse(JSON.stringify(s));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'urn:umlperf:result',
    title: 'umlperf result',
    description: `Every JSON document umlperf prints or saves (schemaVersion ${SCHEMA_VERSION}). Select the kind by its "kind" field.`,
    $defs: defs,
    oneOf: Object.keys(defs).map((k) => ({ $ref: `#/$defs/${k}` })),
  };
}
