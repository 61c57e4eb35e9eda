/**
 * `meshcanary demo --scenario llm` (docs/llm.md): two model releases behind the sidecar at once.
 * The demo app answers as an OpenAI-compatible model server (streamed and JSON answers); the
 * filter reads usage, guardrail trips and cost from the bodies. "chat" gets a healthy new model and
 * is promoted; "assistant" gets a model that answers 2x longer on most prompts and trips its
 * guardrail more often, and is rolled back by the tokens check, whose reason is printed as is.
 */
import type { CanaryDetail } from "../../controller/api/types.js";
import type { ModelBehaviour } from "../apps/model-answers.js";
import { type Sandbox, startSandbox } from "./environment.js";
import { DEMO_ANALYSIS, type DemoStep, demoCanary } from "./manifests.js";
import { BASE_PAUSE_MS, DEFAULT_WEIGHTS, type Output } from "./scenario.js";

const STABLE: ModelBehaviour = {
  model: "model-v1",
  promptTokens: 50,
  completionTokens: 200,
  tokenFactor: 1,
  affectedShare: 0,
  guardrailRate: 0.001,
};
const HEALTHY: ModelBehaviour = { ...STABLE, model: "model-v2" };
const VERBOSE: ModelBehaviour = {
  ...STABLE,
  model: "model-v2-verbose",
  tokenFactor: 2,
  affectedShare: 0.9,
  guardrailRate: 0.01,
};

/** A progress line per service at least this often. */
const PROGRESS_EVERY_MS = 10_000;

interface LlmPlan {
  service: string;
  canary: ModelBehaviour;
  expect: "Succeeded" | "RolledBack";
}

const PLANS: LlmPlan[] = [
  { service: "chat", canary: HEALTHY, expect: "Succeeded" },
  { service: "assistant", canary: VERBOSE, expect: "RolledBack" },
];

export interface LlmDemoOptions {
  speed: number;
  rps: number;
  users: number;
  out: Output;
  /** Canary weights of the steps (percent); default 10, 25, 50, 75. */
  weights?: number[];
  /** Give up after this long, ms; default 170 s. */
  timeoutMs?: number;
  /** Called with the live sandbox before it closes (tests). */
  inspect?: (sandbox: Sandbox) => Promise<void>;
}

export interface LlmDemoResult {
  ok: boolean;
  reason?: string;
  /** Final phase and last decision reason per service. */
  outcomes: Record<string, { phase: string; reason: string }>;
}

/** The Canary: the demo's steps and failure check, the body metrics, and the LLM rules. */
function llmCanary(sandbox: Sandbox, service: string, speed: number, weights: readonly number[]) {
  const steps: DemoStep[] = weights.map((weight) => ({ weight, pauseMs: BASE_PAUSE_MS / speed }));
  const c = demoCanary(sandbox.root, service, steps, {
    ...DEMO_ANALYSIS,
    minStepMs: DEMO_ANALYSIS.minStepMs / speed,
  });
  const spec = c.spec as Record<string, unknown> & { analysis: { checks: unknown[] } };
  spec.llm = {
    guardrail: { field: "finish_reason", values: ["content_filter"] },
    prices: [
      { model: "model-v1", promptPerMillion: 0.15, completionPerMillion: 0.6 },
      { model: "*", promptPerMillion: 0.3, completionPerMillion: 1.2 },
    ],
  };
  spec.analysis.checks = [
    spec.analysis.checks[0],
    { name: "tokens", metric: { name: "llm-total-tokens", maxRatio: 1.5 }, sustainedFor: "2s" },
    {
      name: "guardrail-blocks",
      metric: { name: "llm-guardrail-blocks", maxPerMinute: 60 },
      sustainedFor: "2s",
    },
  ];
  return c;
}

/** What the last decision means, in a sentence; the analysis' own words follow it. */
function plainWords(phase: string, reason: string): string {
  if (phase === "Succeeded") return "every check passed at every step; the new model now serves all traffic.";
  if (reason.startsWith("tokens:"))
    return "rolled back because the new model's answers use more tokens per request than 1.5x the stable model's.";
  if (reason.startsWith("guardrail-blocks:"))
    return "rolled back because its guardrail blocked answers too often.";
  return `${phase.toLowerCase()}.`;
}

async function status(
  sandbox: Sandbox,
  service: string,
): Promise<{ phase: string; step: number; reason: string }> {
  const c = await sandbox.kube.get("meshcanary.io/v1alpha1", "Canary", "default", service);
  const s = (c && !(c instanceof Error) ? c.status : undefined) as
    | { phase?: string; step?: number; lastDecision?: { reason?: string } }
    | undefined;
  return { phase: s?.phase ?? "Initializing", step: s?.step ?? 0, reason: s?.lastDecision?.reason ?? "" };
}

async function exposure(sandbox: Sandbox, service: string): Promise<string> {
  try {
    const res = await fetch(`${sandbox.apiUrl}/api/v1/canaries/default/${service}`);
    const d = (await res.json()) as CanaryDetail;
    const e = d.exposure ?? {};
    const pct = (v: number | undefined) => (v === undefined ? "–" : `${v.toFixed(1)}%`);
    return `canary share: ${pct(e.requests)} of requests, ${pct(e.tokens)} of tokens, ${pct(e.cost)} of cost`;
  } catch {
    return "";
  }
}

export async function runLlmDemo(opts: LlmDemoOptions): Promise<LlmDemoResult> {
  const say = (line = "") => opts.out.write(`${line}\n`);
  say("meshcanary demo (llm): chat (healthy model) and assistant (verbose model); starting the sandbox…");
  const sandbox = await startSandbox({
    services: PLANS.map((p) => ({
      name: p.service,
      versions: { v1: { model: STABLE }, v2: { model: p.canary } },
    })),
    load: { rps: opts.rps, users: opts.users },
  });
  try {
    say(`  sidecar   ${sandbox.dataPlane.url} (compiled filter in ${sandbox.dataPlane.label})`);
    say(`  dashboard ${sandbox.apiUrl}/`);
    await new Promise((r) => setTimeout(r, 3000));
    for (const p of PLANS) {
      const applied = await sandbox.kube.apply(
        llmCanary(sandbox, p.service, opts.speed, opts.weights ?? DEFAULT_WEIGHTS),
      );
      if (applied instanceof Error) throw applied;
    }
    const outcomes: LlmDemoResult["outcomes"] = {};
    const last = new Map<string, string>();
    const shown = new Map<string, number>();
    const deadline = Date.now() + (opts.timeoutMs ?? 170_000);
    while (Date.now() < deadline && Object.keys(outcomes).length < PLANS.length) {
      await new Promise((r) => setTimeout(r, 500));
      for (const p of PLANS) {
        if (outcomes[p.service]) continue;
        const s = await status(sandbox, p.service);
        const line = `${p.service}: ${s.phase}, step ${s.step + 1}`;
        const due = Date.now() - (shown.get(p.service) ?? 0) >= PROGRESS_EVERY_MS;
        if (last.get(p.service) !== line || due) {
          last.set(p.service, line);
          shown.set(p.service, Date.now());
          say(`  ${line}; ${await exposure(sandbox, p.service)}`);
          if (s.reason) say(`    last decision: ${s.reason.slice(0, 240)}`);
        }
        if (s.phase === "Succeeded" || s.phase === "RolledBack" || s.phase === "Aborted") {
          outcomes[p.service] = { phase: s.phase, reason: s.reason };
          say(`  ${p.service} ${s.phase}: ${plainWords(s.phase, s.reason)}`);
          say(`    (the analysis said: ${s.reason})`);
        }
      }
    }
    await opts.inspect?.(sandbox);
    const wrong = PLANS.filter((p) => outcomes[p.service]?.phase !== p.expect).map(
      (p) => `${p.service}: expected ${p.expect}, got ${outcomes[p.service]?.phase ?? "no outcome in time"}`,
    );
    const rollback = outcomes.assistant?.reason ?? "";
    if (outcomes.assistant?.phase === "RolledBack" && !rollback.includes("tokens")) {
      wrong.push(`assistant: rolled back, but not by the tokens check: ${rollback}`);
    }
    say(
      wrong.length === 0
        ? "OK: the healthy model was promoted; the verbose one rolled back by its token count."
        : `FAILED: ${wrong.join("; ")}`,
    );
    return { ok: wrong.length === 0, ...(wrong.length ? { reason: wrong.join("; ") } : {}), outcomes };
  } finally {
    await sandbox.close();
  }
}
