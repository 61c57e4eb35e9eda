/**
 * Validation of a Canary: the schema's structural checks (TypeBox over schema.ts) followed by the
 * semantic rules a JSON schema cannot express. Every error names its field path and the bad value.
 */
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { Value } from "@sinclair/typebox/value";
import { parseDuration } from "./durations.js";
import { LLM_METRICS, llmErrors } from "./llm-schema.js";
import { routingErrors } from "./routing-target.js";
import { type AnalysisCheck, type Canary, CanarySchema, type CanarySpec, type CanaryStep } from "./schema.js";

/** One problem in a Canary, e.g. `{ path: "spec.strategy.canary.steps[2].weight", message: "..." }`. */
export interface SpecError {
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; canary: Canary } | { ok: false; errors: SpecError[] };

/** Errors reported at most; hostile input (a million bad array items) must not cost a million errors. */
export const MAX_ERRORS = 50;
/** Deepest nesting accepted; deeper (or cyclic) input would overflow the stack of the recursive checks. */
export const MAX_DEPTH = 64;

/** Validates a parsed Canary object (as read from YAML or the API). Never throws. */
export function validateCanary(obj: unknown): ValidationResult {
  const shape = shapeError(obj, "", 0, new Set(), new Set());
  if (shape) return { ok: false, errors: [shape] };
  try {
    const structural = structuralErrors(obj);
    const canary = obj as Canary;
    const semantic =
      structural.length === 0 ? specErrors(canary.spec, "spec") : partialSpecErrors(obj, structural);
    const errors = [...structural, ...semantic].slice(0, MAX_ERRORS);
    return errors.length > 0 ? { ok: false, errors } : { ok: true, canary };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, errors: [{ path: "(root)", message: `cannot be checked: ${message}` }] };
  }
}

/** Too deep or cyclic nesting, found by a walk bounded by MAX_DEPTH that visits each object once. */
function shapeError(
  value: unknown,
  pointer: string,
  depth: number,
  ancestors: Set<object>,
  done: Set<object>,
): SpecError | undefined {
  if (typeof value !== "object" || value === null || done.has(value)) return undefined;
  if (ancestors.has(value)) return { path: dottedPath(pointer), message: "refers to itself (cycle)" };
  if (depth >= MAX_DEPTH)
    return { path: dottedPath(pointer), message: `nesting deeper than ${MAX_DEPTH} levels` };
  ancestors.add(value);
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    const found = shapeError(child, `${pointer}/${key}`, depth + 1, ancestors, done);
    if (found) return found;
  }
  ancestors.delete(value);
  done.add(value);
  return undefined;
}

/**
 * The semantic rules over a spec that also has schema errors, so one run reports both. The rules
 * read the spec as typed, so a part too malformed to read ends them (what they found so far is
 * kept), and an error on a field the schema already flagged (inside or above it, or on another item
 * of the same list) is left out.
 */
function partialSpecErrors(obj: unknown, structural: SpecError[]): SpecError[] {
  const spec = (obj as { spec?: unknown } | null)?.spec;
  if (typeof spec !== "object" || spec === null) return [];
  const found: SpecError[] = [];
  try {
    specErrors(spec as CanarySpec, "spec", found);
  } catch {
    // A part the rules cannot read: the schema errors already name it.
  }
  const flagged = structural.map((e) => e.path);
  const within = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  // Rules across a list's items (e.g. step weights rising) would only echo a flagged item.
  const list = (path: string) => (path.includes("[") ? path.slice(0, path.lastIndexOf("[")) : undefined);
  const related = (a: string, b: string) =>
    within(a, b) || within(b, a) || (list(a) !== undefined && list(a) === list(b));
  return found.filter((e) => !flagged.some((p) => related(e.path, p)));
}

/** The schema's errors alone (what the CRD's OpenAPI schema also checks), without the semantic rules. */
export function structuralErrors(obj: unknown): SpecError[] {
  const seen = new Set<string>();
  const errors: SpecError[] = [];
  for (const error of Value.Errors(CanarySchema, obj)) {
    const path = dottedPath(error.path);
    // TypeBox reports a missing property twice (required, then wrong type); keep the first.
    if (seen.has(path)) continue;
    seen.add(path);
    errors.push({ path, message: describe(error) });
    if (errors.length >= MAX_ERRORS) break;
  }
  return errors;
}

/** "/spec/steps/2/weight" → "spec.steps[2].weight". */
export function dottedPath(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
  }
  return out === "" ? "(root)" : out;
}

function describe(error: ValueError): string {
  const got = `got ${show(error.value)}`;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return "is required";
    case ValueErrorType.ObjectAdditionalProperties: {
      const field = error.path.split("/").at(-1) ?? "";
      const near = nearest(field, Object.keys((error.schema.properties as object | undefined) ?? {}));
      return near === undefined ? `unknown field, ${got}` : `unknown field (did you mean "${near}"?), ${got}`;
    }
    case ValueErrorType.Union: {
      const options = (error.schema.anyOf as Array<{ const?: unknown }>).map((s) => show(s.const));
      return `must be one of ${options.join(", ")}, ${got}`;
    }
    default:
      return `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}, ${got}`;
  }
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  // JSON would print NaN and Infinity as null.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Semantic rules over a structurally valid spec; `at` is the spec's own path (e.g. "spec"). Errors
 * go to `errors` as they are found (so a caller keeps them if a later rule throws) and are returned.
 */
export function specErrors(spec: CanarySpec, at: string, errors: SpecError[] = []): SpecError[] {
  const add = (path: string, message: string) => errors.push({ path: `${at}.${path}`, message });
  const duration = (path: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const parsed = parseDuration(text);
    if (!parsed.ok) add(path, parsed.error);
    return parsed.ok ? parsed.ms : undefined;
  };

  routingErrors(spec, add);
  strategyErrors(spec, add, duration);
  const sticky = spec.sticky;
  if (sticky !== undefined && (sticky.header === undefined) === (sticky.cookie === undefined)) {
    add("sticky", `must set exactly one of header, cookie, got ${show(sticky)}`);
  }
  distinct(
    (spec.metrics ?? []).map((m) => m.name),
    (i, name) => add(`metrics[${i}].name`, `duplicate metric name ${show(name)}`),
  );
  distinct(
    (spec.webhooks ?? []).map((w) => w.name),
    (i, name) => add(`webhooks[${i}].name`, `duplicate webhook name ${show(name)}`),
  );
  distinct(
    (spec.gates ?? []).map((g) => g.name),
    (i, name) => add(`gates[${i}].name`, `duplicate gate name ${show(name)}`),
  );
  for (const [i, gate] of (spec.gates ?? []).entries()) duration(`gates[${i}].interval`, gate.interval);
  if (spec.llm) errors.push(...llmErrors(spec.llm, `${at}.llm`));
  analysisErrors(spec, add, duration);
  return errors;
}

type Add = (path: string, message: string) => void;
type Duration = (path: string, text: string | undefined) => number | undefined;

function strategyErrors(spec: CanarySpec, add: Add, duration: Duration): void {
  const strategy = spec.strategy;
  const chosen = Object.keys(strategy).filter((k) => strategy[k as keyof typeof strategy] !== undefined);
  if (chosen.length !== 1) {
    add("strategy", `must set exactly one of canary, blueGreen, abTest, shadow, got ${show(chosen)}`);
  }
  stepErrors("strategy.canary.steps", strategy.canary?.steps ?? [], add, duration);
  const blueGreen = strategy.blueGreen;
  if (blueGreen !== undefined) {
    duration("strategy.blueGreen.previewDuration", blueGreen.previewDuration);
    if (blueGreen.previewDuration === undefined && blueGreen.approval !== true) {
      add("strategy.blueGreen", `needs previewDuration or approval: true, got ${show(blueGreen)}`);
    }
  }
  const abTest = strategy.abTest;
  if (abTest !== undefined) {
    if (!isBasisPoints(abTest.weight)) {
      add("strategy.abTest.weight", `must have at most 2 decimals (basis points), got ${abTest.weight}`);
    }
    duration("strategy.abTest.duration", abTest.duration);
  }
  duration("strategy.shadow.duration", strategy.shadow?.duration);
  duration("strategy.blueGreen.scrutinyWindow", strategy.blueGreen?.scrutinyWindow);
  const mirror = strategy.shadow?.mirrorPercent;
  if (mirror !== undefined && !isBasisPoints(mirror)) {
    add("strategy.shadow.mirrorPercent", `must have at most 2 decimals (basis points), got ${mirror}`);
  }
  stepErrors("strategy.shadow.canarySteps", strategy.shadow?.canarySteps ?? [], add, duration);
}

/** Weight steps: basis points, non-decreasing, valid pause durations. */
function stepErrors(at: string, steps: readonly CanaryStep[], add: Add, duration: Duration): void {
  let previous = 0;
  steps.forEach((step, i) => {
    if (!isBasisPoints(step.weight)) {
      add(`${at}[${i}].weight`, `must have at most 2 decimals (basis points), got ${step.weight}`);
    }
    if (step.weight < previous) {
      add(`${at}[${i}].weight`, `must not be below the previous step's ${previous}, got ${step.weight}`);
    }
    previous = Math.max(previous, step.weight);
    duration(`${at}[${i}].pause.duration`, step.pause?.duration);
  });
}

function analysisErrors(spec: CanarySpec, add: Add, duration: Duration): void {
  const analysis = spec.analysis;
  if (analysis === undefined) return;
  const min = duration("analysis.minStepDuration", analysis.minStepDuration);
  const max = duration("analysis.maxStepDuration", analysis.maxStepDuration);
  if (max !== undefined && max < (min ?? 30_000)) {
    add(
      "analysis.maxStepDuration",
      `must not be shorter than minStepDuration, got ${show(analysis.maxStepDuration)}`,
    );
  }
  const metricNames = new Set([...(spec.metrics ?? []).map((m) => m.name), ...(spec.llm ? LLM_METRICS : [])]);
  const checks = analysis.checks ?? [];
  checks.forEach((check, i) => {
    checkErrors(check, `analysis.checks[${i}]`, metricNames, add);
    duration(`analysis.checks[${i}].sustainedFor`, check.sustainedFor);
  });
  distinct(checks.map(checkName), (i, name) =>
    add(`analysis.checks[${i}].name`, `duplicate check name ${show(name)}`),
  );
}

function checkErrors(check: AnalysisCheck, at: string, metricNames: Set<string>, add: Add): void {
  const kinds = (["failureRate", "latency", "metric"] as const).filter((k) => check[k] !== undefined);
  if (kinds.length !== 1) {
    add(at, `must set exactly one of failureRate, latency, metric, got ${show(kinds)}`);
    return;
  }
  if (
    check.failureRate &&
    check.failureRate.max === undefined &&
    check.failureRate.maxIncrease === undefined
  ) {
    add(`${at}.failureRate`, `must set max or maxIncrease, got ${show(check.failureRate)}`);
  }
  if (check.latency && check.latency.maxMs === undefined && check.latency.maxRatio === undefined) {
    add(`${at}.latency`, `must set maxMs or maxRatio, got ${show(check.latency)}`);
  }
  const metric = check.metric;
  const limits = ["maxRatio", "maxMeanRatio", "maxPerMinute", "maxRate", "maxRateRatio"] as const;
  if (metric && limits.every((k) => metric[k] === undefined)) {
    add(`${at}.metric`, `must set one of ${limits.join(", ")}, got ${show(metric)}`);
  }
  if (metric && metric.quantile !== undefined && metric.maxRatio === undefined) {
    add(`${at}.metric.quantile`, `needs maxRatio, got ${show(metric)}`);
  }
  if (metric && !metricNames.has(metric.name)) {
    add(
      `${at}.metric.name`,
      `must name an entry of spec.metrics (or an llm-* metric with spec.llm set), got ${show(metric.name)}`,
    );
  }
}

/** The name a check shows in status: its own, else one derived from its kind. */
export function checkName(check: AnalysisCheck): string {
  if (check.name !== undefined) return check.name;
  if (check.latency)
    return `latency-p${String(Math.round(check.latency.quantile * 1000) / 10).replace(".", "")}`;
  if (check.metric) return `metric-${check.metric.name}`;
  return "failure-rate";
}

function isBasisPoints(percent: number): boolean {
  return Math.abs(percent * 100 - Math.round(percent * 100)) < 1e-6;
}

function distinct(values: string[], onDuplicate: (index: number, value: string) => void): void {
  const seen = new Set<string>();
  values.forEach((value, i) => {
    if (seen.has(value)) onDuplicate(i, value);
    seen.add(value);
  });
}

/** The known name closest to a misspelt one (edit distance at most a third of its length, ≥ 1), if any. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance (insert, delete, substitute; a swap of neighbours counts as one). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8 || a.length > 64 || b.length > 64) return Number.POSITIVE_INFINITY;
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
