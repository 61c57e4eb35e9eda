/**
 * The runner shared by the release-strategy scenarios of `meshcanary demo` (blue-green, ab-test,
 * shadow; strategy-scenarios.ts): a sandbox with the scenario's services, its Canaries taken from
 * istio/samples/<strategy>/canary.yaml with timings scaled to a demo, progress lines as each
 * Canary moves, then the scenario's own checks and figures, printed and written as a JSON report.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { AppBehaviour } from "../apps/demo-app.js";
import type { DataPlaneKind } from "../data-plane.js";
import { type Sandbox, startSandbox } from "./environment.js";
import type { Manifest } from "./kube-objects.js";
import { DEMO_NAMESPACE, readManifests, renameService, repoRoot } from "./manifests.js";
import type { Output } from "./scenario.js";

/** A Canary's status as far as the scenarios read it. */
export interface StrategyStatus {
  phase?: string;
  step?: number;
  weightBp?: number;
  stepStartedAt?: string;
  message?: string;
  history?: { at: string; from: string; to: string; step: number; weightBp: number; reason: string }[];
  report?: Record<string, unknown>;
}

/** One service of a scenario and the Canary rolling it out. */
export interface StrategyService {
  name: string;
  versions: Record<string, Partial<AppBehaviour>>;
  shadowReceiver?: string;
  /** The Canary to apply (strategy-scenarios.ts builds it from the sample). */
  canary: Manifest;
  /** The phase the Canary must end in. */
  expect: "Succeeded" | "RolledBack";
}

/** What a scenario measured and whether it behaved: `failures` empty means it did. */
export interface StrategyResult {
  failures: string[];
  /** Figures for the summary and the report, e.g. switch times. */
  figures: Record<string, unknown>;
  lines: string[];
}

export interface StrategyScenario {
  description: string;
  services(speed: number, root: string): StrategyService[];
  /** Runs once the Canaries are applied; resolves when every Canary is done (or the time is up). */
  run(ctx: ScenarioContext): Promise<StrategyResult>;
}

export interface ScenarioContext {
  sandbox: Sandbox;
  services: StrategyService[];
  speed: number;
  deadlineMs: number;
  say(line: string): void;
  status(service: string): Promise<StrategyStatus>;
  /** Waits (printing each phase change) until every Canary is in a terminal phase or the deadline passes. */
  settle(during?: (service: string, s: StrategyStatus) => void): Promise<Map<string, StrategyStatus>>;
}

export interface StrategyDemoOptions {
  speed: number;
  rps: number;
  users: number;
  reportPath: string;
  out: Output;
  dataPlane?: DataPlaneKind;
  warmupMs?: number;
  timeoutMs?: number;
  keepUntil?: Promise<void>;
  logger?: Logger;
  kubeconfigPath?: string;
  /** Called with the live sandbox before it closes (tests). */
  inspect?: (sandbox: Sandbox, result: StrategyResult) => Promise<void>;
}

const TERMINAL = new Set(["Succeeded", "RolledBack", "Aborted"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sample Canary of a strategy for `service`, with `spec` fields replaced. */
export function sampleCanary(root: string, strategy: string, service: string, spec: object): Manifest {
  const sample = readManifests(root, `istio/samples/${strategy}/canary.yaml`).find(
    (m) => m.kind === "Canary",
  );
  if (!sample) throw new Error(`istio/samples/${strategy}/canary.yaml: no Canary`);
  const renamed = renameService(sample, service);
  return {
    ...renamed,
    metadata: { name: service, namespace: DEMO_NAMESPACE },
    spec: { ...(renamed.spec as object), cohort: `${service}-demo`, ...spec },
  };
}

/** A duration the spec accepts, from ms. */
export function ms(value: number): string {
  return `${Math.max(1, Math.round(value))}ms`;
}

export async function runStrategyDemo(
  name: string,
  scenario: StrategyScenario,
  o: StrategyDemoOptions,
): Promise<{ ok: boolean; reason?: string; result: StrategyResult }> {
  const say = (line = "") => o.out.write(`${line}\n`);
  const started = Date.now();
  const root = repoRoot();
  const services = scenario.services(o.speed, root);
  say(`meshcanary demo --scenario ${name}: ${scenario.description}; starting the sandbox…`);
  const sandbox = await startSandbox({
    services: services.map((s) => ({
      name: s.name,
      versions: s.versions,
      ...(s.shadowReceiver ? { shadowReceiver: s.shadowReceiver } : {}),
    })),
    load: { rps: o.rps, users: o.users },
    ...(o.dataPlane ? { dataPlane: o.dataPlane } : {}),
    ...(o.kubeconfigPath ? { kubeconfigPath: o.kubeconfigPath } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
  });
  try {
    say(
      `  sidecar   ${sandbox.dataPlane.label}${sandbox.fallbackReason ? ` (${sandbox.fallbackReason})` : ""}`,
    );
    say(`  dashboard ${sandbox.apiUrl}/   kube API ${sandbox.kubeApi.url}`);
    await sleep(o.warmupMs ?? 3000);
    for (const s of services) {
      const applied = await sandbox.kube.apply(s.canary);
      if (applied instanceof Error) throw applied;
    }
    const ctx = context(sandbox, services, o, started, say);
    const result = await scenario.run(ctx);
    const finals = await Promise.all(services.map(async (s) => [s, await ctx.status(s.name)] as const));
    for (const [s, status] of finals) {
      if (status.phase !== s.expect)
        result.failures.push(`${s.name}: ended ${status.phase ?? "nowhere"}, expected ${s.expect}`);
    }
    say();
    for (const line of result.lines) say(line);
    const reason = result.failures.length > 0 ? result.failures.join("; ") : undefined;
    say(
      reason
        ? `FAILED: ${reason}`
        : `OK: ${finals.map(([s, st]) => `${s.name} ${st.phase}`).join(", ")}, as expected`,
    );
    const report = {
      ok: reason === undefined,
      ...(reason ? { reason } : {}),
      scenario: name,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      dataPlane: sandbox.dataPlane.label,
      figures: result.figures,
      canaries: Object.fromEntries(finals.map(([s, st]) => [s.name, st])),
    };
    mkdirSync(dirname(o.reportPath), { recursive: true });
    writeFileSync(o.reportPath, `${JSON.stringify(report, null, 2)}\n`);
    say(`report: ${o.reportPath}`);
    await o.inspect?.(sandbox, result);
    if (o.keepUntil) {
      say(`still serving until Ctrl-C: dashboard ${sandbox.apiUrl}/`);
      await o.keepUntil;
    }
    return { ok: reason === undefined, ...(reason ? { reason } : {}), result };
  } finally {
    await sandbox.close();
  }
}

function context(
  sandbox: Sandbox,
  services: StrategyService[],
  o: StrategyDemoOptions,
  started: number,
  say: (line: string) => void,
): ScenarioContext {
  const status = async (service: string): Promise<StrategyStatus> => {
    const c = await sandbox.kube.get("meshcanary.io/v1alpha1", "Canary", DEMO_NAMESPACE, service);
    return c && !(c instanceof Error) ? ((c.status ?? {}) as StrategyStatus) : {};
  };
  const deadlineMs = started + (o.timeoutMs ?? 170_000);
  const settle: ScenarioContext["settle"] = async (during) => {
    const last = new Map<string, string>();
    const now = new Map<string, StrategyStatus>();
    while (Date.now() < deadlineMs) {
      for (const s of services) {
        const st = await status(s.name);
        now.set(s.name, st);
        const key = `${st.phase} ${st.step} ${st.weightBp}`;
        if (last.get(s.name) !== key) {
          last.set(s.name, key);
          const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
          say(`${t}s  ${s.name.padEnd(8)} ${(st.phase ?? "(no status)").padEnd(11)} ${st.message ?? ""}`);
        }
        during?.(s.name, st);
      }
      if (services.every((s) => TERMINAL.has(now.get(s.name)?.phase ?? ""))) break;
      await sleep(250);
    }
    return now;
  };
  return { sandbox, services, speed: o.speed, deadlineMs, say, status, settle };
}
