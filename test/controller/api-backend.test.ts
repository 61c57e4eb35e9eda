/** ControllerApiBackend over scripted records and windows: views, command answers, pushed events. */
import { afterEach, describe, expect, it } from "vitest";
import { ControllerApiBackend, type ControllerApiBackendDeps } from "../../controller/app/api-backend.js";
import type { CanaryRecord } from "../../controller/app/reconciler.js";
import type { ApiEvent } from "../../controller/api/types.js";
import type { KubeResult } from "../../controller/kube/errors.js";
import type { CanaryStatus } from "../../controller/spec/schema.js";
import type { WindowPoint } from "../../controller/telemetry/types.js";
import { stats } from "../api/windows-fixture.js";
import { healthySpec, NS } from "./harness.js";

const T0 = Date.UTC(2025, 0, 1, 12);

function record(name: string, status: CanaryStatus, spec: unknown = healthySpec([10, 50])): CanaryRecord {
  return {
    object: {
      apiVersion: "meshcanary.io/v1alpha1",
      kind: "Canary",
      metadata: { name, namespace: NS },
      spec,
      status,
    },
  };
}

const decision = {
  at: new Date(T0).toISOString(),
  action: "hold",
  reason: "failure-rate: inconclusive",
  checks: [
    {
      name: "failure-rate",
      verdict: "inconclusive" as const,
      message: "canary 1% vs stable 1%",
      value: 1,
      eValue: 2.5,
    },
  ],
};

const progressing: CanaryStatus = {
  phase: "Progressing",
  step: 1,
  weightBp: 5000,
  message: "step 2/2 at 50%: analysing",
  lastDecision: decision,
  history: [
    {
      at: new Date(T0 - 5000).toISOString(),
      from: "Initializing",
      to: "Progressing",
      step: 0,
      weightBp: 1000,
      reason: "mesh ready",
    },
    {
      at: new Date(T0).toISOString(),
      from: "Progressing",
      to: "Progressing",
      step: 1,
      weightBp: 5000,
      reason: "passed",
    },
  ],
};

interface Fixture {
  backend: ControllerApiBackend;
  records: Map<string, CanaryRecord>;
  windows: Map<string, WindowPoint[]>;
  requested: string[];
  events: ApiEvent[];
  clock: { now: number };
  answer: { next: KubeResult<{ value: string }> };
}

const open: ControllerApiBackend[] = [];
afterEach(() => {
  for (const b of open.splice(0)) b.close();
});

function fixture(...rs: CanaryRecord[]): Fixture {
  const records = new Map(rs.map((r) => [`${r.object.metadata.namespace}/${r.object.metadata.name}`, r]));
  const windows = new Map<string, WindowPoint[]>();
  const requested: string[] = [];
  const clock = { now: T0 + 500 };
  const answer: Fixture["answer"] = { next: { ok: true, value: { value: "x/1" } } };
  const deps: ControllerApiBackendDeps = {
    reconciler: { get: (id) => records.get(id), all: () => [...records.values()] },
    reader: {
      series: (id, from, to) => (windows.get(id) ?? []).filter((w) => w.startMs >= from && w.startMs < to),
      routingVersions: () => new Map(),
    },
    requestCommand: async (ns, name, cmd) => {
      requested.push(`${ns}/${name}:${cmd}`);
      return answer.next;
    },
    recordEvent: async (canary, note) => {
      requested.push(
        `event ${canary.metadata.namespace}/${canary.metadata.name} ${note.reason}: ${note.message}`,
      );
    },
    isReady: () => true,
    seriesIntervalMs: 3_600_000,
    now: () => clock.now,
  };
  const backend = new ControllerApiBackend(deps);
  open.push(backend);
  const events: ApiEvent[] = [];
  backend.subscribe((e) => events.push(e));
  return { backend, records, windows, requested, events, clock, answer };
}

describe("ControllerApiBackend views", () => {
  it("summarises status, spec and decision", () => {
    const { backend } = fixture(record("web", progressing));
    expect(backend.listCanaries()).toEqual([
      {
        namespace: NS,
        name: "web",
        phase: "Progressing",
        step: 1,
        stepCount: 2,
        canaryWeight: 50,
        weightBp: { stable: 5000, canary: 5000 },
        message: "step 2/2 at 50%: analysing",
        conditions: [],
        lastDecision: {
          at: decision.at,
          action: "hold",
          reason: "failure-rate: inconclusive",
          checks: [
            {
              name: "failure-rate",
              verdict: "inconclusive",
              reason: "canary 1% vs stable 1%",
              value: 1,
              eValue: 2.5,
            },
          ],
        },
      },
    ]);
    const detail = backend.getCanary(NS, "web")!;
    expect(detail.timeline).toEqual([
      { at: progressing.history![0]!.at, phase: "Progressing", step: 0, weight: 10, reason: "mesh ready" },
      { at: progressing.history![1]!.at, phase: "Progressing", step: 1, weight: 50, reason: "passed" },
    ]);
    expect(detail.spec).toEqual({
      host: "reviews",
      virtualService: "reviews",
      stepWeights: [10, 50],
      checks: ["failure-rate"],
      metrics: [],
    });
    expect(backend.getCanary(NS, "nope")).toBeUndefined();
  });

  it("shows a canary with an invalid spec by its Ready condition", () => {
    const ready = {
      type: "Ready",
      status: "False" as const,
      reason: "InvalidSpec",
      message: "spec.host: required",
      lastTransitionTime: new Date(T0).toISOString(),
    };
    const { backend } = fixture(record("bad", { conditions: [ready] }, { virtualService: { name: "vs" } }));
    const detail = backend.getCanary(NS, "bad")!;
    expect(detail).toMatchObject({ phase: "Initializing", stepCount: 0, message: "spec.host: required" });
    expect(detail.spec).toEqual({ host: "", virtualService: "vs", stepWeights: [], checks: [], metrics: [] });
  });
});

describe("ControllerApiBackend commands", () => {
  const cases: Array<{
    status: CanaryStatus;
    command: "pause" | "resume" | "approve" | "abort";
    want: number;
  }> = [
    { status: { phase: "Progressing" }, command: "pause", want: 200 },
    { status: { phase: "Progressing" }, command: "resume", want: 409 },
    { status: { phase: "Progressing" }, command: "approve", want: 409 },
    { status: { phase: "Paused", pausedBy: "approval" }, command: "approve", want: 200 },
    { status: { phase: "Paused", pausedBy: "approval" }, command: "resume", want: 409 },
    { status: { phase: "Paused", pausedBy: "manual" }, command: "resume", want: 200 },
    { status: { phase: "Succeeded" }, command: "abort", want: 409 },
    { status: {}, command: "abort", want: 200 },
  ];
  for (const c of cases) {
    it(`${c.command} in ${c.status.phase ?? "no status"}${c.status.pausedBy ? ` (${c.status.pausedBy})` : ""} → ${c.want}`, async () => {
      const f = fixture(record("web", c.status));
      const result = await f.backend.command(NS, "web", c.command, "alice");
      expect(result.ok ? 200 : result.status).toBe(c.want);
      expect(f.requested).toEqual(
        c.want === 200
          ? [
              `${NS}/web:${c.command}`,
              `event ${NS}/web CommandRequested: ${c.command} requested by alice through the meshcanary API`,
            ]
          : [],
      );
    });
  }

  it("answers 404 for an unknown canary or one deleted meanwhile, 503 when the write fails", async () => {
    const f = fixture(record("web", { phase: "Progressing" }));
    expect(await f.backend.command(NS, "nope", "pause", "alice")).toMatchObject({ ok: false, status: 404 });
    f.answer.next = { ok: false, error: { reason: "NotFound", code: 404, message: "gone" } };
    expect(await f.backend.command(NS, "web", "pause", "alice")).toMatchObject({ ok: false, status: 404 });
    f.answer.next = { ok: false, error: { reason: "Transient", code: 0, message: "connection refused" } };
    const failed = await f.backend.command(NS, "web", "pause", "alice");
    expect(failed).toEqual({
      ok: false,
      status: 503,
      message: "recording the pause command failed: connection refused",
    });
  });
});

describe("ControllerApiBackend events", () => {
  it("pushes a status change, and a decision only once", () => {
    const r = record("web", progressing);
    const f = fixture(r);
    f.backend.statusChanged(r);
    f.backend.statusChanged(r);
    expect(f.events.map((e) => e.type)).toEqual(["canary", "decision", "canary"]);
    f.backend.removed(NS, "web");
    expect(f.events.at(-1)).toEqual({ type: "removed", namespace: NS, name: "web" });
  });

  it("pushes each complete window once, for active canaries only", () => {
    const active = record("web", progressing);
    const done = record("old", { phase: "Succeeded" });
    const f = fixture(active, done);
    const w = (startMs: number): WindowPoint => ({
      startMs,
      variants: new Map([["canary", stats([{ ms: 5 }])]]),
    });
    f.windows.set(`${NS}/web`, [w(T0 - 2000), w(T0 - 1000), w(T0), w(T0 + 1000)]);
    f.windows.set(`${NS}/old`, [w(T0 - 1000)]);
    f.backend.pushSeries(); // now = T0+500: only the window [T0-1000, T0) is complete and new
    f.clock.now = T0 + 2500;
    f.backend.pushSeries();
    f.backend.pushSeries();
    const pushed = f.events.flatMap((e) => (e.type === "series" ? [`${e.name}@${e.point.t - T0}`] : []));
    expect(pushed).toEqual(["web@-1000", "web@0", "web@1000"]);
    expect(f.backend.series(NS, "web", T0 - 1000).map((p) => p.t - T0)).toEqual([-1000, 0, 1000]);
  });
});

describe("ControllerApiBackend detail for the dashboard", () => {
  const gated = healthySpec([10, 50], {
    gates: [
      { name: "smoke", type: "pre-rollout", url: "https://user:secret@ci.example:8443/hook?token=t" },
      { name: "confirm", type: "confirm-promotion", url: "http://qa.example/ok", failureLimit: 5 },
    ],
  });

  it("gives the plan, the commands that apply, the gates and the creation and step times", () => {
    const r = record(
      "web",
      {
        ...progressing,
        stepStartedAt: new Date(T0).toISOString(),
        gates: [
          {
            name: "smoke",
            type: "pre-rollout",
            result: "Passed",
            failures: 1,
            message: "HTTP 200",
            since: new Date(T0 - 9000).toISOString(),
            at: new Date(T0 - 6000).toISOString(),
          },
        ],
      },
      gated,
    );
    r.object.metadata.creationTimestamp = new Date(T0 - 60_000).toISOString();
    const detail = fixture(r).backend.getCanary(NS, "web")!;
    expect(detail.createdAt).toBe(new Date(T0 - 60_000).toISOString());
    expect(detail.stepStartedAt).toBe(new Date(T0).toISOString());
    expect(detail.plan).toEqual([
      { weight: 10, holdMs: 2000, gate: "analysis" },
      { weight: 50, holdMs: 2000, gate: "analysis" },
    ]);
    // Progressing: the same answers POST would give (commandRefusal), null where a command applies.
    const applies = Object.entries(detail.commands!)
      .filter(([, why]) => why === null)
      .map(([c]) => c);
    expect(applies.sort()).toEqual(["abort", "pause", "promote", "promote-full"]);
    expect(detail.commands!.resume).toMatch(/^resume does not apply in phase Progressing/);
    expect(detail.gates).toEqual([
      {
        name: "smoke",
        type: "pre-rollout",
        origin: "https://ci.example:8443",
        failureLimit: 3,
        result: "Passed",
        failures: 1,
        message: "HTTP 200",
        at: new Date(T0 - 6000).toISOString(),
      },
      { name: "confirm", type: "confirm-promotion", origin: "http://qa.example", failureLimit: 5 },
    ]);
    expect(JSON.stringify(detail)).not.toContain("secret");
  });

  it("keeps each check's evidence of the current rollout, with its rollback level", () => {
    const f = fixture(record("web", progressing));
    const analysis = (e: number) => ({
      verdict: "inconclusive" as const,
      reason: "",
      rollbackAt: 100,
      checks: [
        { name: "failure-rate", verdict: "inconclusive" as const, eValue: e },
        { name: "latency-p99", verdict: "pass" as const },
      ],
    });
    f.backend.analysed(`${NS}/web`, T0 + 1000, 1, analysis(2));
    f.backend.analysed(`${NS}/web`, T0 + 2000, 1, analysis(8));
    // A replayed or older analysis adds nothing.
    f.backend.analysed(`${NS}/web`, T0 + 2000, 1, analysis(9));
    expect(f.backend.getCanary(NS, "web")!.evidence).toEqual({
      rollbackAt: 100,
      points: [
        { t: T0 + 1000, step: 1, e: { "failure-rate": 2 } },
        { t: T0 + 2000, step: 1, e: { "failure-rate": 8 } },
      ],
    });
    // A retry starts a new rollout: the evidence shown starts with it.
    const retried: CanaryStatus = {
      ...progressing,
      phase: "Initializing",
      step: 0,
      history: [
        ...progressing.history!,
        {
          at: new Date(T0 + 1500).toISOString(),
          from: "Progressing",
          to: "RollingBack",
          step: 1,
          weightBp: 0,
          reason: "failure-rate failed",
        },
        {
          at: new Date(T0 + 1600).toISOString(),
          from: "RollingBack",
          to: "RolledBack",
          step: 1,
          weightBp: 0,
          reason: "all traffic back",
        },
        {
          at: new Date(T0 + 1800).toISOString(),
          from: "RolledBack",
          to: "Initializing",
          step: 0,
          weightBp: 0,
          reason: "retried by operator",
        },
      ],
    };
    f.records.set(`${NS}/web`, record("web", retried));
    const detail = f.backend.getCanary(NS, "web")!;
    expect(detail.evidence!.points.map((p) => p.t)).toEqual([T0 + 2000]);
    expect(detail.rollouts!.map((r) => [r.phase, r.endedAt !== undefined])).toEqual([
      ["Initializing", false],
      ["RolledBack", true],
    ]);
    // The rolled-back rollout keeps the decision taken in it; the new one has none yet.
    expect(detail.rollouts![1]!.finalDecision).toMatchObject({ at: decision.at, action: "hold" });
    expect(detail.rollouts![0]!.finalDecision).toBeUndefined();
    f.backend.removed(NS, "web");
    f.records.set(`${NS}/web`, record("web", progressing));
    expect(f.backend.getCanary(NS, "web")!.evidence).toEqual({ points: [] });
  });
});
