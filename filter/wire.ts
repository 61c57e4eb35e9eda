// Plain data mirroring proto/meshcanary/v1/telemetry.proto for the filter side.
// filter/report.ts encodes Report and decodes Directive from/to these classes;
// filter/tally.ts produces VariantTotals; filter/config-table.ts turns a Directive into a routing table.
// Pure AssemblyScript: no host imports.

/** Sparse log-bucketed sketch (see controller/telemetry/sketch.ts for the definition). */
export class SketchData {
  count: u64 = 0;
  zeroCount: u64 = 0;
  sum: f64 = 0;
  /** Strictly ascending bucket indexes. */
  indexes: Array<i32> = new Array<i32>();
  /** Counts, parallel to indexes. */
  counts: Array<u64> = new Array<u64>();
}

export class MetricTotalsData {
  name: string = "";
  count: u64 = 0;
  sum: f64 = 0;
  sketch: SketchData = new SketchData();
}

export class VariantTotalsData {
  canary: string = "";
  variant: string = "";
  requests: u64 = 0;
  statusNone: u64 = 0;
  status1xx: u64 = 0;
  status2xx: u64 = 0;
  status3xx: u64 = 0;
  status4xx: u64 = 0;
  status5xx: u64 = 0;
  failures: u64 = 0;
  latencyUs: SketchData = new SketchData();
  responseBytes: u64 = 0;
  metrics: Array<MetricTotalsData> = new Array<MetricTotalsData>();
  /** Per user group (filter/user-groups.ts): empty, or USER_GROUPS counts each. */
  groupRequests: Array<u64> = new Array<u64>();
  groupFailures: Array<u64> = new Array<u64>();
  /** Per latency threshold of the route (filter/slow-counts.ts), the requests slower than it per group. */
  slow: Array<SlowTotalsData> = new Array<SlowTotalsData>();
}

/** Requests slower than one threshold, per user group (proto SlowTotals). */
export class SlowTotalsData {
  thresholdUs: u64 = 0;
  /** USER_GROUPS counts, index = group. */
  byGroup: Array<u64> = new Array<u64>(32);
}

export class ReporterData {
  pod: string = "";
  namespace: string = "";
  workload: string = "";
  instanceId: string = "";
  startTimeUnixMs: i64 = 0;
  filterVersion: string = "";
}

export class CounterEntry {
  key: string = "";
  value: u64 = 0;
}

export class ReportData {
  reporter: ReporterData = new ReporterData();
  seq: u64 = 0;
  sentUnixMs: i64 = 0;
  totals: Array<VariantTotalsData> = new Array<VariantTotalsData>();
  routingVersion: u64 = 0;
  counters: Array<CounterEntry> = new Array<CounterEntry>();
  /** Totals of the last report believed delivered; sent only in the first report on a new stream. */
  baseline: Array<VariantTotalsData> = new Array<VariantTotalsData>();
}

export class VariantData {
  name: string = "";
  weightBp: u32 = 0;
}

export class PinData {
  header: string = "";
  cookie: string = "";
  requireToken: bool = false;
}

export class StickyData {
  header: string = "";
  cookie: string = "";
}

export class ResponseMetricData {
  name: string = "";
  header: string = "";
}

/** One price table entry: prices per million tokens of a model (proto ModelPrice). */
export class ModelPriceData {
  model: string = "";
  promptPerMillion: f64 = 0;
  completionPerMillion: f64 = 0;
}

/** Response-body metrics of LLM responses (proto LlmMetrics). */
export class LlmData {
  maxBodyBytes: u32 = 0;
  guardrailCodes: Array<u32> = new Array<u32>();
  guardrailHeader: string = "";
  guardrailHeaderValue: string = "";
  guardrailField: string = "";
  guardrailValues: Array<string> = new Array<string>();
  /** 0 none, 1 the response JSON, 2 the assistant message content. */
  schemaTarget: u32 = 0;
  schemaRequired: Array<string> = new Array<string>();
  prices: Array<ModelPriceData> = new Array<ModelPriceData>();
}

export class RouteData {
  host: string = "";
  aliases: Array<string> = new Array<string>();
  canary: string = "";
  variants: Array<VariantData> = new Array<VariantData>();
  pin: PinData = new PinData();
  sticky: StickyData = new StickyData();
  cohort: string = "";
  metrics: Array<ResponseMetricData> = new Array<ResponseMetricData>();
  failureCodes: Array<u32> = new Array<u32>();
  /** The rollout's marker (filter/marker.ts); empty: none. */
  marker: string = "";
  /** Null: the response body is not scanned. */
  llm: LlmData | null = null;
  slowThresholds: Array<SlowThresholdData> = new Array<SlowThresholdData>();
}

/** A latency threshold to tally per user group for one variant (proto SlowThreshold). */
export class SlowThresholdData {
  variant: string = "";
  thresholdUs: u64 = 0;
}

export class DirectiveData {
  version: u64 = 0;
  routes: Array<RouteData> = new Array<RouteData>();
  reportIntervalMs: u32 = 0;
}
