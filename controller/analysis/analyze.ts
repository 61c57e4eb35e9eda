/**
 * evaluate: canary against stable over the same windows, every check at once (DESIGN §5).
 * Family-wise error: the Canary's alpha is split evenly over every test that can roll back (one per
 * comparison, ceiling and rate condition) and over the rollout's steps, so the chance that any check
 * fails an A/A rollout at any step is at most alpha (docs/statistics.md "Family-wise α").
 * Pure: no clock (nowMs is an input), no I/O. Each window is consumed once (by startMs), so the
 * caller may pass every window of the period each time, or only the new ones; pass only complete
 * windows, since data added to a window after it was consumed is not seen. The state is plain JSON
 * so a restarted controller resumes where it stopped.
 */

import type { WindowPoint } from "../telemetry/types.js";
import { conditionsOf } from "./check-conditions.js";
import { validateChecks } from "./check-validation.js";
import { type Baselines, type Check, type CheckKind, comparesWithStable } from "./checks.js";
import {
  type Condition,
  type ConditionResult,
  type ConditionState,
  DEFAULT_BLOCK_MS,
  initialState,
  judge,
  observe,
  settle,
  type Verdict,
} from "./conditions.js";
import { displayEstimate } from "./estimates.js";
import { observeSampleRatio, type SampleRatioState, sampleRatioMismatch } from "./sample-ratio.js";
import { withWeight } from "./user-group-comparison.js";

export type { Verdict } from "./conditions.js";

/** Default false-verdict rate per test. */
export const DEFAULT_ALPHA = 0.01;
/** Default minimum requests per variant before any pass. */
export const DEFAULT_MIN_REQUESTS = 100;
/** Telemetry window length. */
export const DEFAULT_WINDOW_MS = 1000;

/** What one evaluation needs. */
export interface AnalysisInput {
  /** Complete 1-second windows, any order; windows already consumed are skipped. */
  windows: readonly WindowPoint[];
  canaryVariant: string;
  stableVariant: string;
  checks: readonly Check[];
  /** Per-test false-verdict rate (default 0.01). */
  alpha?: number;
  /** Requests per variant before any check may pass (default 100). */
  minRequests?: number;
  /** Stable's figures measured before the current step. */
  baselines?: Baselines;
  /** Evaluation time for sustainedFor (default: end of the newest window seen). */
  nowMs?: number;
  /** Window length (default 1000). */
  windowMs?: number;
  /** Steps of the rollout analysed at this alpha; alpha is split across them (default 1). */
  steps?: number;
  /** The canary's weight (0..1) in force, for the sample-ratio check; 1 means no stable traffic. */
  canaryWeight?: number;
  /** Roll back on a ceiling breach stable shares (default false: hold and say so). */
  rollbackOnSharedIncident?: boolean;
  /** The tests' unit: blocks of this many ms count as one observation (default 10 000; 0 = each event). */
  blockMs?: number;
}

/** One check's verdict. */
export interface CheckResult {
  name: string;
  kind: CheckKind;
  verdict: Verdict;
  reason: string;
  value?: number;
  threshold?: number;
  /** e-value of the deciding test: the fail test of a comparison or ceiling. */
  eValue?: number;
}

/** Carried between evaluations of one check. */
export interface CheckState {
  /** Per condition label. */
  conditions: Record<string, ConditionState>;
  /** The decisive verdict being held for sustainedForMs, and since when. */
  held?: { verdict: "pass" | "fail"; sinceMs: number };
}

/** Carried between evaluations (plain JSON). */
export interface AnalysisState {
  version: 2;
  firstWindowMs: number | null;
  lastWindowMs: number | null;
  canaryRequests: number;
  stableRequests: number;
  checks: Record<string, CheckState>;
  /** Stable's pre-step figures, fixed at their first sighting so a restart cannot lose them. */
  baselines?: Baselines;
  sampleRatio?: SampleRatioState;
  /** Per reporter group: this analysis without that group's data (leave-one-out.ts). */
  leaveOneOut?: Record<string, AnalysisState>;
}

export interface AnalysisResult {
  verdict: Verdict;
  checks: CheckResult[];
  state: AnalysisState;
  /** The false-verdict rate of each test after splitting alpha, and how it was split. */
  alphaPerTest: number;
  alphaSplit: string;
  /** Why the realised canary share does not match the weight (a pass is held), if it does not. */
  sampleRatioMismatch?: string;
}

export function initialAnalysisState(): AnalysisState {
  return {
    version: 2,
    firstWindowMs: null,
    lastWindowMs: null,
    canaryRequests: 0,
    stableRequests: 0,
    checks: {},
  };
}

function validateInput(input: AnalysisInput): string[] {
  const errors = validateChecks(input.checks);
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  if (!(alpha > 0 && alpha < 1)) errors.push(`alpha: must be in (0, 1), got ${JSON.stringify(input.alpha)}`);
  const min = input.minRequests ?? DEFAULT_MIN_REQUESTS;
  if (!(min >= 0)) errors.push(`minRequests: must be >= 0, got ${JSON.stringify(input.minRequests)}`);
  if (input.steps !== undefined && !(Number.isInteger(input.steps) && input.steps >= 1))
    errors.push(`steps: must be an integer >= 1, got ${JSON.stringify(input.steps)}`);
  const w = input.canaryWeight;
  if (w !== undefined && !(w >= 0 && w <= 1))
    errors.push(`canaryWeight: must be in [0, 1], got ${JSON.stringify(w)}`);
  const b = input.blockMs;
  if (b !== undefined && !(Number.isInteger(b) && b >= 0 && b % 1000 === 0))
    errors.push(`blockMs: must be 0 or a whole number of seconds in ms, got ${JSON.stringify(b)}`);
  if (!input.canaryVariant) errors.push("canaryVariant: must be a variant name");
  if (!input.stableVariant) errors.push("stableVariant: must be a variant name");
  if (input.canaryVariant === input.stableVariant) {
    errors.push(`stableVariant: must differ from canaryVariant, both ${JSON.stringify(input.canaryVariant)}`);
  }
  return errors;
}

interface Compiled {
  check: Check;
  conditions: Condition[];
  states: (ConditionState | undefined)[];
}

/** Baselines in force: those kept in state win, those measured now fill the gaps. */
export function mergeBaselines(kept: Baselines | undefined, measured: Baselines | undefined): Baselines {
  const k = kept ?? {};
  const m = measured ?? {};
  const out: Baselines = { ...m, ...k };
  if (m.stableLatencyUs || k.stableLatencyUs)
    out.stableLatencyUs = { ...m.stableLatencyUs, ...k.stableLatencyUs };
  if (m.stableMetricMean || k.stableMetricMean)
    out.stableMetricMean = { ...m.stableMetricMean, ...k.stableMetricMean };
  return out;
}

/** Whether the step has no stable traffic to compare with (a 100% step). */
function canaryOnly(input: AnalysisInput): boolean {
  return (input.canaryWeight ?? 0) >= 1;
}

/**
 * At a 100% step there is no stable to compare with: a check's comparisons are dropped when it has
 * an absolute condition (which then decides), and otherwise say so (the step waits for
 * maxStepDuration and approval, the rule for any inconclusive step).
 */
function withoutStable(conditions: Condition[]): Condition[] {
  const absolute = conditions.filter((c) => c.type === "proportion" || c.type === "rate");
  if (absolute.length > 0) return absolute;
  return conditions.map((c) =>
    c.type === "comparison" || c.type === "meanComparison"
      ? { type: "unavailable", label: c.label, reason: "100% step: no stable traffic to compare with" }
      : c,
  );
}

function compile(input: AnalysisInput, state: AnalysisState, baselines: Baselines): Compiled[] {
  const variants = { canary: input.canaryVariant, stable: input.stableVariant };
  return input.checks.map((check) => {
    const all = withWeight(conditionsOf(check, variants, baselines), input.canaryWeight);
    const conditions = canaryOnly(input) ? withoutStable(all) : all;
    const previous = state.checks[check.name]?.conditions ?? {};
    const blockMs = input.blockMs ?? DEFAULT_BLOCK_MS;
    return {
      check,
      conditions,
      states: conditions.map((c) => initialState(c, previous[c.label], blockMs)),
    };
  });
}

function consume(
  compiled: Compiled[],
  state: AnalysisState,
  windows: readonly WindowPoint[],
  input: AnalysisInput,
) {
  const fresh = windows
    .filter((w) => state.lastWindowMs === null || w.startMs > state.lastWindowMs)
    .sort((a, b) => a.startMs - b.startMs);
  let { firstWindowMs, lastWindowMs, canaryRequests, stableRequests } = state;
  for (const w of fresh) {
    firstWindowMs ??= w.startMs;
    lastWindowMs = w.startMs;
    canaryRequests += w.variants.get(input.canaryVariant)?.requests ?? 0;
    stableRequests += w.variants.get(input.stableVariant)?.requests ?? 0;
    for (const c of compiled) c.states = c.conditions.map((cond, i) => observe(cond, c.states[i], w));
  }
  return { ...state, firstWindowMs, lastWindowMs, canaryRequests, stableRequests };
}

/** Tests that can roll back: one per comparison, ceiling and rate condition. */
function failingTests(compiled: readonly Compiled[]): number {
  let n = 0;
  for (const c of compiled) for (const cond of c.conditions) if (cond.type !== "unavailable") n++;
  return Math.max(1, n);
}

/** Any fail → fail; all pass → pass; otherwise inconclusive. */
export function combine(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes("fail")) return "fail";
  return verdicts.every((v) => v === "pass") ? "pass" : "inconclusive";
}

/**
 * A check's verdict from its conditions. With rare failures the comparison with stable may stay
 * inconclusive for a long time; statistics.md lets the absolute SLO conditions decide then: a check
 * passes when every absolute condition passes and no comparison shows evidence either way
 * (a comparison that finds a regression still fails the check at once).
 */
function combineConditions(conditions: readonly Condition[], results: ConditionResult[]): ConditionResult {
  const verdict = combine(results.map((r) => r.verdict));
  if (verdict === "inconclusive" && settledBySlo(conditions, results)) {
    const open = results.filter((r) => r.verdict === "inconclusive").map((r) => r.reason);
    const met = results.filter((r) => r.verdict === "pass").map((r) => r.reason);
    const lead = results.find((r) => r.verdict === "pass") ?? results[0];
    return {
      ...lead,
      verdict: "pass",
      reason: `${met.join("; ")}; no evidence against stable (${open.join("; ")})`,
    };
  }
  const deciding = verdict === "pass" ? results : results.filter((r) => r.verdict === verdict);
  const lead = deciding[0] ?? results[0];
  const reason = deciding.map((r) => r.reason).join("; ") || "no conditions";
  return { ...lead, verdict, reason };
}

/** True when the absolute conditions all pass (there is one) and only comparisons are undecided. */
export function settledBySlo(conditions: readonly Condition[], results: readonly ConditionResult[]): boolean {
  let absolute = 0;
  for (let i = 0; i < conditions.length; i++) {
    const relative = conditions[i].type === "comparison" || conditions[i].type === "meanComparison";
    if (!relative) absolute++;
    if (results[i].verdict === "fail") return false;
    if (!relative && results[i].verdict !== "pass") return false;
  }
  return absolute > 0;
}

/** Seconds until `have` reaches `need` at the rate seen so far, as text. */
function eta(have: number, need: number, exposureMs: number): string {
  if (have >= need) return "";
  if (have <= 0 || exposureMs <= 0) return "none yet";
  return `~${Math.ceil(((need - have) * exposureMs) / have / 1000)} s more at the rate seen`;
}

/**
 * Liveness: a pass needs `min` requests per variant it compares; until then the check says how
 * many it has and how long that takes at the traffic seen, rather than waiting silently.
 */
function minimumSample(
  r: ConditionResult,
  check: Check,
  state: AnalysisState,
  min: number,
  opts: { canaryOnly: boolean; exposureMs: number },
): ConditionResult {
  if (r.verdict !== "pass") return r;
  const needStable = comparesWithStable(check) && !opts.canaryOnly;
  if (state.canaryRequests >= min && (!needStable || state.stableRequests >= min)) return r;
  const waits = [`canary ${state.canaryRequests} (${eta(state.canaryRequests, min, opts.exposureMs)})`];
  if (needStable)
    waits.push(`stable ${state.stableRequests} (${eta(state.stableRequests, min, opts.exposureMs)})`);
  return {
    ...r,
    verdict: "inconclusive",
    reason: `needs ${min} requests per variant before passing: ${waits.join(", ")}`,
  };
}

function sustain(r: ConditionResult, check: Check, previous: CheckState["held"], nowMs: number) {
  if (r.verdict === "inconclusive") return { result: r, held: undefined };
  const held = previous?.verdict === r.verdict ? previous : { verdict: r.verdict, sinceMs: nowMs };
  const need = check.sustainedForMs ?? 0;
  const heldMs = nowMs - held.sinceMs;
  if (heldMs >= need) return { result: r, held };
  const reason = `${r.verdict} for ${heldMs / 1000}s of the required ${need / 1000}s: ${r.reason}`;
  return { result: { ...r, verdict: "inconclusive" as const, reason }, held };
}

/**
 * Evaluates every check on the windows not yet consumed and returns the verdicts and the state
 * to pass next time; an Error (listing every bad field with its path and value) for bad input.
 */
export function evaluate(input: AnalysisInput, previous?: AnalysisState): AnalysisResult | Error {
  const errors = validateInput(input);
  if (errors.length > 0) return new Error(`invalid analysis input: ${errors.join("; ")}`);
  const windowMs = input.windowMs ?? DEFAULT_WINDOW_MS;
  // A state restored from status lacks its null fields (a merge patch's null deletes): without
  // lastWindowMs no window would ever count as new.
  const before =
    previous?.version === 2
      ? {
          ...previous,
          firstWindowMs: previous.firstWindowMs ?? null,
          lastWindowMs: previous.lastWindowMs ?? null,
        }
      : initialAnalysisState();
  const baselines = mergeBaselines(before.baselines, input.baselines);
  const compiled = compile(input, before, baselines);
  const consumed = consume(compiled, before, input.windows, input);
  const exposureMs =
    consumed.firstWindowMs === null ? 0 : consumed.lastWindowMs! + windowMs - consumed.firstWindowMs;
  const nowMs = input.nowMs ?? (consumed.lastWindowMs === null ? 0 : consumed.lastWindowMs + windowMs);
  const { alpha, split } = alphaPerTest(input, failingTests(compiled));
  for (const c of compiled) c.states = c.states.map((s) => settle(s, nowMs, alpha));
  const variants = { canary: input.canaryVariant, stable: input.stableVariant };
  const minRequests = input.minRequests ?? DEFAULT_MIN_REQUESTS;
  // At a 100% step (a blue-green switch) stable serves nobody: its few stray requests (pins, the
  // window before the switch) cannot show an incident is shared, so a ceiling breach fails.
  const shared = input.rollbackOnSharedIncident || canaryOnly(input);
  const ctx = { alpha, exposureMs, minRequests, rollbackOnSharedIncident: shared };
  const checks: Record<string, CheckState> = {};
  const results = compiled.map(({ check, conditions, states }) => {
    const judged = combineConditions(
      conditions,
      conditions.map((c, i) => judge(c, states[i], ctx)),
    );
    const sampled = minimumSample(judged, check, consumed, minRequests, {
      canaryOnly: canaryOnly(input),
      exposureMs,
    });
    const { result, held } = sustain(sampled, check, before.checks[check.name]?.held, nowMs);
    const conditionStates: Record<string, ConditionState> = {};
    conditions.forEach((c, i) => {
      const s = states[i];
      if (s) conditionStates[c.label] = s;
    });
    checks[check.name] = held ? { conditions: conditionStates, held } : { conditions: conditionStates };
    const shown = displayEstimate(check, input.windows, variants);
    return {
      name: check.name,
      kind: check.kind,
      ...result,
      ...(shown.value !== undefined ? shown : {}),
    } satisfies CheckResult;
  });
  const sampleRatio = sampleRatioOf(input, before);
  const mismatch = sampleRatio && sampleRatioMismatch(sampleRatio, alpha);
  const verdict = combine(results.map((r) => r.verdict));
  return {
    // A mismatch holds a pass (no verdict can be trusted); a fail still rolls back, the safe side.
    verdict: mismatch && verdict === "pass" ? "inconclusive" : verdict,
    checks: results,
    state: { ...consumed, checks, baselines, ...(sampleRatio ? { sampleRatio } : {}) },
    alphaPerTest: alpha,
    alphaSplit: split,
    ...(mismatch ? { sampleRatioMismatch: mismatch } : {}),
  };
}

/** The Canary's alpha split evenly over the tests that can roll back and the rollout's steps. */
function alphaPerTest(input: AnalysisInput, tests: number): { alpha: number; split: string } {
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const steps = Math.max(1, Math.floor(input.steps ?? 1));
  const per = alpha / (tests * steps);
  return {
    alpha: per,
    split: `alpha ${alpha} split over ${tests} test(s) x ${steps} step(s): ${per.toPrecision(3)} each`,
  };
}

function sampleRatioOf(input: AnalysisInput, before: AnalysisState) {
  const w = input.canaryWeight;
  if (w === undefined || !(w > 0 && w < 1)) return undefined;
  const last = before.lastWindowMs;
  const fresh = input.windows
    .filter((x) => last === null || x.startMs > last)
    .sort((a, b) => a.startMs - b.startMs);
  const variants = { canary: input.canaryVariant, stable: input.stableVariant };
  return observeSampleRatio(before.sampleRatio, w, fresh, variants);
}
