/**
 * evaluate: canary against stable over the same windows, every check at once (DESIGN §5).
 * Pure: no clock (nowMs is an input), no I/O. Each window is consumed once (by startMs), so the
 * caller may pass every window of the period each time, or only the new ones; pass only complete
 * windows, since data added to a window after it was consumed is not seen. The state is plain JSON
 * so a restarted controller resumes where it stopped.
 */

import type { WindowPoint } from "../telemetry/types.js";
import {
  type Baselines,
  type Check,
  type CheckKind,
  comparesWithStable,
  conditionsOf,
  validateChecks,
} from "./checks.js";
import {
  type Condition,
  type ConditionResult,
  type ConditionState,
  initialState,
  judge,
  observe,
  type Verdict,
} from "./conditions.js";
import { displayEstimate } from "./estimates.js";

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
}

/** One check's verdict. */
export interface CheckResult {
  name: string;
  kind: CheckKind;
  verdict: Verdict;
  reason: string;
  value?: number;
  threshold?: number;
  /** e-value of the deciding test: a comparison's fail test, or an absolute check's against "value = max". */
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
  version: 1;
  firstWindowMs: number | null;
  lastWindowMs: number | null;
  canaryRequests: number;
  stableRequests: number;
  checks: Record<string, CheckState>;
}

export interface AnalysisResult {
  verdict: Verdict;
  checks: CheckResult[];
  state: AnalysisState;
}

export function initialAnalysisState(): AnalysisState {
  return {
    version: 1,
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

function compile(input: AnalysisInput, state: AnalysisState): Compiled[] {
  const variants = { canary: input.canaryVariant, stable: input.stableVariant };
  return input.checks.map((check) => {
    const conditions = conditionsOf(check, variants, input.baselines ?? {});
    const previous = state.checks[check.name]?.conditions ?? {};
    return { check, conditions, states: conditions.map((c) => initialState(c, previous[c.label])) };
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
    const relative = conditions[i].type === "comparison";
    if (!relative) absolute++;
    if (results[i].verdict === "fail") return false;
    if (!relative && results[i].verdict !== "pass") return false;
  }
  return absolute > 0;
}

function minimumSample(r: ConditionResult, check: Check, state: AnalysisState, min: number): ConditionResult {
  if (r.verdict !== "pass") return r;
  const needStable = comparesWithStable(check);
  if (state.canaryRequests >= min && (!needStable || state.stableRequests >= min)) return r;
  const seen = needStable
    ? `canary ${state.canaryRequests}, stable ${state.stableRequests}`
    : `canary ${state.canaryRequests}`;
  return {
    ...r,
    verdict: "inconclusive",
    reason: `needs ${min} requests per variant before passing (${seen})`,
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
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const windowMs = input.windowMs ?? DEFAULT_WINDOW_MS;
  const before = previous ?? initialAnalysisState();
  const compiled = compile(input, before);
  const consumed = consume(compiled, before, input.windows, input);
  const exposureMs =
    consumed.firstWindowMs === null ? 0 : consumed.lastWindowMs! + windowMs - consumed.firstWindowMs;
  const nowMs = input.nowMs ?? (consumed.lastWindowMs === null ? 0 : consumed.lastWindowMs + windowMs);
  const variants = { canary: input.canaryVariant, stable: input.stableVariant };
  const checks: Record<string, CheckState> = {};
  const results = compiled.map(({ check, conditions, states }) => {
    const judged = combineConditions(
      conditions,
      conditions.map((c, i) => judge(c, states[i], { alpha, exposureMs })),
    );
    const sampled = minimumSample(judged, check, consumed, input.minRequests ?? DEFAULT_MIN_REQUESTS);
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
  return { verdict: combine(results.map((r) => r.verdict)), checks: results, state: { ...consumed, checks } };
}
