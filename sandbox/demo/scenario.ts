/**
 * The demo's scenarios and their runner: a healthy canary walked step by step to Succeeded and a
 * faulty one (failure rate or latency raised at a chosen step) rolled back automatically. Both
 * run at once on their own service in one sandbox; the runner observes every half second, injects
 * the fault when its step is in force, prints progress and returns the final states.
 */
import type { SeriesPoint } from "../../controller/api/types.js";
import type { LoadGenerator } from "../apps/load-generator.js";
import type { Sandbox } from "./environment.js";
import { demoCanary, DEMO_ANALYSIS, DEMO_NAMESPACE, type DemoAnalysis, type DemoStep } from "./manifests.js";
import { eventLine, renderScenario } from "./render.js";
import { canarySamplePath } from "./shapes.js";
import {
  type Counters,
  faultDue,
  faultInjected,
  type Fault,
  initialState,
  isDone,
  type Observation,
  observe,
  type ScenarioName,
  type ScenarioPlan,
  type ScenarioState,
} from "./scenario-state.js";

/** Which service each scenario rolls out (one VirtualService each, so they run side by side). */
export const SCENARIO_SERVICE: Record<ScenarioName, string> = { healthy: "reviews", faulty: "ratings" };
export const DEFAULT_WEIGHTS = [10, 25, 50, 75];
/** Pause per step at speed 1, ms. */
export const BASE_PAUSE_MS = 4000;
const OBSERVE_EVERY_MS = 500;
/** The series request looks back this far for the newest complete window. */
const SERIES_LOOKBACK_MS = 4000;
/** Plain-output progress lines are printed this often. */
const PROGRESS_EVERY_MS = 5000;

export interface ScenarioOptions {
  scenario: ScenarioName | "both";
  /** Divides pauses and the minimum step time (2 = twice as fast). */
  speed: number;
  fault: Fault;
  /** Canary weights of the steps (percent); default 10, 25, 50, 75. */
  weights?: number[];
  /** Step index at which the faulty scenario's fault is injected; default the 25% step (1). */
  faultAtStep?: number;
}

export function scenarioPlans(o: ScenarioOptions): ScenarioPlan[] {
  const weights = o.weights ?? DEFAULT_WEIGHTS;
  const steps: DemoStep[] = weights.map((weight) => ({ weight, pauseMs: BASE_PAUSE_MS / o.speed }));
  const names: ScenarioName[] = o.scenario === "both" ? ["healthy", "faulty"] : [o.scenario];
  return names.map((name) => {
    const service = SCENARIO_SERVICE[name];
    const plan: ScenarioPlan = {
      name,
      service,
      canary: `${DEMO_NAMESPACE}/${service}`,
      steps,
      expect: name === "healthy" ? "Succeeded" : "RolledBack",
      stableVersion: "v1",
      canaryVersion: "v2",
    };
    if (name === "faulty")
      plan.fault = { fault: o.fault, atStep: Math.min(o.faultAtStep ?? 1, steps.length - 1) };
    return plan;
  });
}

/** The analysis for a speed: the minimum step time shrinks with it (the evidence needed does not). */
export function analysisFor(speed: number): DemoAnalysis {
  return { ...DEMO_ANALYSIS, minStepMs: DEMO_ANALYSIS.minStepMs / speed };
}

/** Where progress goes: a TTY gets a redrawn block, anything else plain appended lines. */
export interface Output {
  write(text: string): void;
  isTTY: boolean;
  /** Terminal width; TTY lines are cut to it so the redraw stays in place. */
  columns?: number;
}

async function counters(sandbox: Sandbox, plan: ScenarioPlan): Promise<Counters> {
  const stats = await sandbox.dataPlane.metrics().catch(() => new Map<string, number>());
  const id = plan.canary.replace("/", "__");
  const value = (kind: string, variant: string) =>
    stats.get(`wasmcustom.meshcanary_${kind}__${id}__${variant}`) ?? 0;
  const out: Counters = {};
  for (const variant of ["stable", "canary"]) {
    out[variant] = { requests: value("requests", variant), failures: value("failures", variant) };
  }
  return out;
}

function served(load: LoadGenerator): Record<string, { requests: number; failures: number }> {
  return Object.fromEntries(load.stats().byVersion);
}

/** The newest p99 per variant from the controller's 1-s windows (GET .../series), as the dashboard shows it. */
async function p99FromApi(
  sandbox: Sandbox,
  plan: ScenarioPlan,
  nowMs: number,
): Promise<Record<string, number | null>> {
  const url = `${sandbox.apiUrl}/api/v1/canaries/${plan.canary}/series?since=${nowMs - SERIES_LOOKBACK_MS}`;
  const out: Record<string, number | null> = {};
  try {
    const res = await fetch(url);
    if (!res.ok) return out;
    const { points } = (await res.json()) as { points: SeriesPoint[] };
    for (const point of points) {
      for (const [variant, v] of Object.entries(point.variants)) if (v.p99Ms !== null) out[variant] = v.p99Ms;
    }
  } catch {
    // The figures are for display only; a missed poll leaves them unknown.
  }
  return out;
}

async function observation(sandbox: Sandbox, plan: ScenarioPlan): Promise<Observation> {
  const [ns, name] = plan.canary.split("/") as [string, string];
  const canary = await sandbox.kube.get("meshcanary.io/v1alpha1", "Canary", ns, name);
  const status =
    canary && !(canary instanceof Error) ? (canary.status as Observation["status"] | undefined) : undefined;
  const flips = sandbox
    .transitions(plan.service)
    .filter((t) => t.from === plan.canaryVersion && t.to === plan.stableVersion)
    .map((t) => t.atMs);
  const nowMs = Date.now();
  return {
    nowMs,
    ...(status ? { status } : {}),
    p99Ms: await p99FromApi(sandbox, plan, nowMs),
    counters: await counters(sandbox, plan),
    canaryToStableAt: flips,
    servedByVersion: served(sandbox.load(plan.service)),
  };
}

function inject(sandbox: Sandbox, plan: ScenarioPlan, fault: Fault): void {
  const app = sandbox.app(plan.service, plan.canaryVersion);
  if (fault.kind === "error-rate") app.set({ errorRate: fault.rate });
  else app.set({ extraLatencyMs: fault.extraMs });
}

function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** Draws progress: redraws the live blocks on a TTY, appends new timeline events otherwise. */
export class Progress {
  private drawn = 0;
  private printed = new Map<string, number>();
  private lastProgress = new Map<string, number>();

  constructor(private readonly out: Output) {}

  update(states: readonly ScenarioState[], nowMs: number): void {
    // One clock for every scenario: from the first Canary applied.
    const origin = Math.min(...states.map((s) => s.startedMs));
    if (this.out.isTTY) {
      const width = Math.max(20, (this.out.columns ?? 120) - 1);
      const lines = states
        .flatMap((s) => [...renderScenario(s, nowMs, origin), ""])
        .map((l) => cut(l, width));
      const up = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[0J` : "";
      this.out.write(`${up}${lines.join("\n")}\n`);
      this.drawn = lines.length;
      return;
    }
    // The new lines of every scenario in time order (a transition may be seen after a later sample).
    const lines = states.flatMap((s) => this.append(s, nowMs, origin)).sort((a, b) => a[0] - b[0]);
    for (const [, line] of lines) this.out.write(`${line}\n`);
  }

  private append(s: ScenarioState, nowMs: number, origin: number): Array<[number, string]> {
    const lines: Array<[number, string]> = [];
    const name = s.plan.name;
    const from = this.printed.get(name) ?? 0;
    const showSample = nowMs - (this.lastProgress.get(name) ?? 0) >= PROGRESS_EVERY_MS;
    for (const e of s.timeline.slice(from)) {
      if (e.kind === "sample" && !showSample) continue;
      if (e.kind === "sample") this.lastProgress.set(name, nowMs);
      const line = eventLine(name, origin, e);
      if (line) lines.push([e.atMs, line]);
    }
    this.printed.set(name, s.timeline.length);
    return lines;
  }
}

/**
 * Applies each plan's Canary, then observes until every scenario has finished or `timeoutMs`
 * passed; returns the final states (a timed-out one is not done, see failureOf).
 */
export async function runScenarios(
  sandbox: Sandbox,
  plans: readonly ScenarioPlan[],
  opts: { speed: number; timeoutMs: number; out: Output },
): Promise<ScenarioState[]> {
  let states: ScenarioState[] = [];
  for (const plan of plans) {
    const sample = canarySamplePath(sandbox.shape);
    const canary = demoCanary(sandbox.root, plan.service, plan.steps, analysisFor(opts.speed), sample);
    const applied = await sandbox.kube.apply(canary);
    if (applied instanceof Error) throw applied;
    states.push(initialState(plan, Date.now()));
  }
  const progress = new Progress(opts.out);
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline && !states.every(isDone)) {
    await new Promise((resolve) => setTimeout(resolve, OBSERVE_EVERY_MS));
    states = await Promise.all(
      states.map(async (s) => {
        if (isDone(s)) return s;
        let next = observe(s, await observation(sandbox, s.plan));
        if (faultDue(next) && next.plan.fault) {
          inject(sandbox, next.plan, next.plan.fault.fault);
          next = faultInjected(next, next.plan.fault.fault, Date.now());
        }
        return next;
      }),
    );
    progress.update(states, Date.now());
  }
  return states;
}
