/**
 * `meshcanary demo` end to end: start the sandbox, let stable traffic flow for a moment (the
 * controller's baseline), run the scenarios, print the summary, write the JSON report, optionally
 * keep serving until interrupted, and say whether the release behaved as expected.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { type Sandbox, startSandbox } from "./environment.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import { demoCanary } from "./manifests.js";
import { checksHeader, renderSummary, summaryRow, type SummaryRow } from "./render.js";
import { analysisFor, type Output, runScenarios, type ScenarioOptions, scenarioPlans } from "./scenario.js";
import { failureOf, type ScenarioState } from "./scenario-state.js";
import type { MeshShape } from "./shapes.js";

export interface DemoOptions extends ScenarioOptions {
  /** Requests per second per service. */
  rps: number;
  /** Distinct sticky users per service. */
  users: number;
  /** JSON timeline report path. */
  reportPath: string;
  /** Kubeconfig of the embedded API (for the CLI); default build/sandbox/kubeconfig. */
  kubeconfigPath?: string;
  /** Stable-only traffic before the Canaries are applied, ms; default 3000. */
  warmupMs?: number;
  /** Mesh shape to run the release in; default sidecar (VirtualService). */
  shape?: MeshShape;
  /** Give up on unfinished scenarios after this long, ms; default 170 s. */
  timeoutMs?: number;
  /** Keep everything running after the summary until this resolves (e.g. Ctrl-C). */
  keepUntil?: Promise<void>;
  out: Output;
  logger?: Logger;
  /** Called with the live sandbox after the report is written, before it closes (tests, benchmarks). */
  inspect?: (sandbox: Sandbox, states: ScenarioState[]) => Promise<void>;
}

/** The JSON report: outcome, where things were, and each scenario's timeline. */
export interface DemoReport {
  ok: boolean;
  reason?: string;
  startedAt: string;
  durationMs: number;
  kubeconfig: string;
  dashboard: string;
  options: { scenario: string; speed: number; fault: unknown; rps: number; users: number; shape: string };
  summary: SummaryRow[];
  scenarios: {
    name: string;
    canary: string;
    service: string;
    expected: string;
    outcome: string;
    steps: { weight: number; pauseMs: number }[];
    fault?: unknown;
    faultInjectedAtMs?: number;
    rollbackAtMs?: number;
    flipsBeforeRollback: number;
    timeline: unknown[];
  }[];
}

export interface DemoResult {
  ok: boolean;
  reason?: string;
  states: ScenarioState[];
  report: DemoReport;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function scenarioReport(s: ScenarioState): DemoReport["scenarios"][number] {
  return {
    name: s.plan.name,
    canary: s.plan.canary,
    service: s.plan.service,
    expected: s.plan.expect,
    outcome: s.phase,
    steps: s.plan.steps,
    ...(s.plan.fault ? { fault: s.plan.fault } : {}),
    ...(s.faultInjectedMs !== undefined ? { faultInjectedAtMs: s.faultInjectedMs - s.startedMs } : {}),
    ...(s.rollbackMs !== undefined ? { rollbackAtMs: s.rollbackMs - s.startedMs } : {}),
    flipsBeforeRollback: s.flipsBeforeRollback,
    // Times relative to the Canary being applied.
    timeline: s.timeline.map((e) => ({ ...e, atMs: e.atMs - s.startedMs })),
  };
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const plans = scenarioPlans(opts);
  const say = (line = "") => opts.out.write(`${line}\n`);
  say(`meshcanary demo: ${plans.map((p) => `${p.name} (${p.canary})`).join(", ")}; starting the sandbox…`);
  const sandbox = await startSandbox({
    services: plans.map((p) => ({
      name: p.service,
      versions: { [p.stableVersion]: {}, [p.canaryVersion]: {} },
    })),
    load: { rps: opts.rps, users: opts.users },
    ...(opts.shape ? { shape: opts.shape } : {}),
    ...(opts.kubeconfigPath ? { kubeconfigPath: opts.kubeconfigPath } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  try {
    say(`  sidecar  ${sandbox.dataPlane.url} (compiled filter in ${sandbox.dataPlane.label})`);
    if (sandbox.fallbackReason)
      say(`           Envoy is not installed (${sandbox.fallbackReason}); 'make envoy' installs it`);
    say(`  kube API ${sandbox.kubeApi.url}  (meshcanary status --kubeconfig ${sandbox.kubeconfigPath})`);
    say(`  load     ${opts.rps} rps and ${opts.users} sticky users per service`);
    say(`  dashboard ${sandbox.apiUrl}/`);
    const first = plans[0]!;
    const canary = demoCanary(sandbox.root, first.service, first.steps, analysisFor(opts.speed));
    for (const line of checksHeader((canary.spec as CanarySpec).analysis ?? {})) say(line);
    await sleep(opts.warmupMs ?? 3000);
    const states = await runScenarios(sandbox, plans, {
      speed: opts.speed,
      timeoutMs: opts.timeoutMs ?? 170_000,
      out: opts.out,
    });
    const failures = states.map(failureOf).filter((f): f is string => f !== undefined);
    const reason = failures.length > 0 ? failures.join("; ") : undefined;
    const summary = states.map(summaryRow);
    say();
    for (const line of renderSummary(summary)) say(line);
    say();
    const outcomes = states.map((s) => `${s.plan.name} canary ${s.phase}`).join(", ");
    say(
      reason
        ? `FAILED: ${reason}`
        : `OK: ${outcomes}, as expected; no user moved canary→stable before a rollback.`,
    );
    const report: DemoReport = {
      ok: reason === undefined,
      ...(reason ? { reason } : {}),
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      kubeconfig: sandbox.kubeconfigPath,
      dashboard: `${sandbox.apiUrl}/`,
      options: {
        scenario: opts.scenario,
        speed: opts.speed,
        fault: opts.fault,
        rps: opts.rps,
        users: opts.users,
        shape: sandbox.shape,
      },
      summary,
      scenarios: states.map(scenarioReport),
    };
    mkdirSync(dirname(opts.reportPath), { recursive: true });
    writeFileSync(opts.reportPath, `${JSON.stringify(report, null, 2)}\n`);
    say(`report: ${opts.reportPath}`);
    say(`dashboard: ${sandbox.apiUrl}/${opts.keepUntil ? "" : " (closes now; run with --keep to keep it)"}`);
    await opts.inspect?.(sandbox, states);
    if (opts.keepUntil) {
      say(
        `still serving until Ctrl-C: dashboard ${sandbox.apiUrl}/, kube API ${sandbox.kubeApi.url}, sidecar ${sandbox.dataPlane.url}`,
      );
      await opts.keepUntil;
    }
    return { ok: report.ok, ...(reason ? { reason } : {}), states, report };
  } finally {
    await sandbox.close();
  }
}
