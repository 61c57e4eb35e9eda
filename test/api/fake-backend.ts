/** An in-memory ApiBackend with scripted data, for the API, metrics and dashboard tests. */
import { commandsView } from "../../controller/app/api-plan-views.js";
import type { Phase } from "../../controller/spec/schema.js";
import type {
  ApiBackend,
  ApiCommand,
  ApiEvent,
  CanaryDetail,
  CanarySummary,
  CommandResult,
  DecisionView,
  SeriesPoint,
} from "../../controller/api/types.js";

/** A canary in the middle of its second step, with one decision and two transitions. */
export function sampleCanary(namespace: string, name: string, at = Date.UTC(2025, 0, 1, 12)): CanaryDetail {
  const decision: DecisionView = {
    at: new Date(at).toISOString(),
    action: "hold",
    reason: "failure-rate inconclusive after 120 requests",
    checks: [
      {
        name: "failure-rate",
        verdict: "inconclusive",
        reason: "canary 1.2% vs stable 0.8%",
        value: 1.2,
        threshold: 5,
        eValue: 3.4,
      },
      { name: "latency-p99", verdict: "pass", reason: "canary 212 ms <= 500 ms", value: 212, threshold: 500 },
    ],
  };
  return {
    namespace,
    name,
    phase: "Progressing",
    step: 1,
    stepCount: 4,
    canaryWeight: 25,
    weightBp: { stable: 7500, canary: 2500 },
    message: "analysing step 2 (25%)",
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "Progressing",
        message: "step 2",
        lastTransitionTime: new Date(at).toISOString(),
      },
    ],
    lastDecision: decision,
    timeline: [
      {
        at: new Date(at - 120_000).toISOString(),
        phase: "Progressing",
        step: 0,
        weight: 10,
        reason: "rollout started",
      },
      {
        at: new Date(at - 30_000).toISOString(),
        phase: "Progressing",
        step: 1,
        weight: 25,
        reason: "step passed",
      },
    ],
    spec: {
      host: `${name}.${namespace}.svc.cluster.local`,
      virtualService: name,
      stepWeights: [10, 25, 50, 100],
      checks: ["failure-rate", "latency-p99"],
      metrics: ["tokens"],
    },
    createdAt: new Date(at - 150_000).toISOString(),
    stepStartedAt: new Date(at - 30_000).toISOString(),
    plan: [10, 25, 50, 100].map((weight) => ({ weight, holdMs: 120_000, gate: "analysis" as const })),
    evidence: {
      rollbackAt: 40,
      points: Array.from({ length: 60 }, (_, i) => ({
        t: at - 120_000 + i * 2000,
        step: i < 45 ? 0 : 1,
        e: { "failure-rate": i < 45 ? 1.1 ** i : 1.2 ** (i - 45) },
      })),
    },
    rollouts: [
      {
        startedAt: new Date(at - 120_000).toISOString(),
        phase: "Progressing",
        reason: "step passed",
        maxStep: 1,
        maxWeight: 25,
        transitions: [],
      },
      {
        startedAt: new Date(at - 3_600_000).toISOString(),
        endedAt: new Date(at - 3_500_000).toISOString(),
        phase: "RolledBack",
        reason: "all traffic is back on the stable subset",
        maxStep: 2,
        maxWeight: 50,
        transitions: [],
        finalDecision: {
          at: new Date(at - 3_510_000).toISOString(),
          action: "rollback",
          reason: "failure-rate: canary 4.1% vs stable 0.9%",
          checks: [],
        },
      },
    ],
  };
}

/** A plausible 1-second point for both variants at time t. */
export function samplePoint(t: number, i = 0): SeriesPoint {
  return {
    t,
    durationMs: 1000,
    variants: {
      stable: {
        requests: 90 + (i % 7),
        failures: 1,
        rps: 90 + (i % 7),
        failureRate: 1 / (90 + (i % 7)),
        p50Ms: 40 + (i % 5),
        p99Ms: 180 + ((i * 13) % 40),
        metrics: { tokens: 310 + (i % 11) },
      },
      canary: {
        requests: 30 + (i % 5),
        failures: i % 3 === 0 ? 1 : 0,
        rps: 30 + (i % 5),
        failureRate: i % 3 === 0 ? 1 / (30 + (i % 5)) : 0,
        p50Ms: 45 + (i % 6),
        p99Ms: 210 + ((i * 7) % 50),
        metrics: { tokens: 290 + (i % 13) },
      },
    },
  };
}

/** An LLM Canary (spec.llm) 20 s into its first step, created 30 s before `at`, with two gates. */
export function llmCanary(at: number): CanaryDetail {
  const c = sampleCanary("ai", "chat", at);
  c.step = 0;
  c.canaryWeight = 10;
  c.spec.llm = true;
  c.spec.metrics = ["llm-total-tokens", "llm-cost", "llm-guardrail-blocks", "llm-ttft-ms"];
  c.createdAt = new Date(at - 30_000).toISOString();
  c.stepStartedAt = new Date(at - 20_000).toISOString();
  c.timeline = [{ at: c.stepStartedAt, phase: "Progressing", step: 0, weight: 10, reason: "mesh ready" }];
  c.gates = [
    {
      name: "smoke",
      type: "pre-rollout",
      origin: "https://ci.example",
      failureLimit: 3,
      result: "Passed",
      failures: 0,
      message: "HTTP 204",
      at: new Date(at - 25_000).toISOString(),
    },
    { name: "confirm", type: "confirm-promotion", origin: "http://qa.example", failureLimit: 3 },
  ];
  return c;
}

/** A 1-second point of an LLM Canary: the canary uses more tokens and trips the guardrail 10× as often. */
export function llmPoint(t: number): SeriesPoint {
  const variant = (tokens: number, guardrail: number) => ({
    requests: 40,
    failures: 0,
    rps: 40,
    failureRate: 0,
    p50Ms: 800,
    p99Ms: 2400,
    metrics: {
      "llm-total-tokens": tokens,
      "llm-cost": tokens * 2,
      "llm-guardrail-blocks": guardrail,
      "llm-ttft-ms": 300,
    },
  });
  return { t, durationMs: 1000, variants: { stable: variant(300, 0.01), canary: variant(600, 0.1) } };
}

export class FakeBackend implements ApiBackend {
  readonly canaries = new Map<string, CanaryDetail>();
  readonly points = new Map<string, SeriesPoint[]>();
  /** Commands received, in order. */
  readonly commands: Array<{ namespace: string; name: string; command: ApiCommand }> = [];
  /** Who asked for each command, parallel to commands. */
  readonly users: string[] = [];
  isReady = true;
  /** Scripted result of the next commands; default ok. */
  commandResult: CommandResult = { ok: true };
  private readonly listeners = new Set<(e: ApiEvent) => void>();

  /** Adds or replaces a canary; the commands that apply follow its phase (the controller's rule). */
  add(detail: CanaryDetail): void {
    detail.commands = commandsView({
      phase: detail.phase as Phase,
      weightBp: detail.canaryWeight * 100,
      ...(detail.phase === "Paused" ? { pausedBy: "manual" as const } : {}),
    });
    this.canaries.set(`${detail.namespace}/${detail.name}`, detail);
    this.emit({ type: "canary", canary: summaryOf(detail) });
  }

  /** Appends a series point and pushes it to subscribers. */
  appendPoint(namespace: string, name: string, point: SeriesPoint): void {
    const k = `${namespace}/${name}`;
    this.points.set(k, [...(this.points.get(k) ?? []), point]);
    this.emit({ type: "series", namespace, name, point });
  }

  emit(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  listCanaries(): CanarySummary[] {
    return [...this.canaries.values()].map(summaryOf);
  }

  getCanary(namespace: string, name: string): CanaryDetail | undefined {
    return this.canaries.get(`${namespace}/${name}`);
  }

  series(namespace: string, name: string, sinceMs: number): SeriesPoint[] {
    return (this.points.get(`${namespace}/${name}`) ?? []).filter((p) => p.t >= sinceMs);
  }

  async command(namespace: string, name: string, command: ApiCommand, user: string): Promise<CommandResult> {
    if (!this.getCanary(namespace, name)) return { ok: false, status: 404, message: "no such canary" };
    this.commands.push({ namespace, name, command });
    this.users.push(user);
    return this.commandResult;
  }

  ready(): boolean {
    return this.isReady;
  }

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function summaryOf(d: CanaryDetail): CanarySummary {
  const { timeline: _t, spec: _s, ...summary } = d;
  return summary;
}
