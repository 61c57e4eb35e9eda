import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { watchStatus } from "../../controller/cli/status-command.js";
import type { StatusView } from "../../controller/cli/status-view.js";
import { COMMAND_ANNOTATION, getCanary, patchCanaryStatus } from "../../controller/kube/canaries.js";
import { type KubeConfig, loadKubeConfig } from "../../controller/kube/client.js";
import { type KubeApiServer, startKubeApi } from "../../sandbox/kube-api/index.js";
import { mustRequest, until } from "../kube/helpers.js";
import { runCli } from "./run-cli.js";

const CANARIES = "/apis/meshcanary.io/v1alpha1/namespaces/default/canaries";
const dir = mkdtempSync(join(tmpdir(), "meshcanary-cli-kube-"));
const kubeconfig = join(dir, "kubeconfig");

let server: KubeApiServer;
let kc: KubeConfig;

const STATUS = {
  phase: "Paused",
  pausedBy: "approval",
  step: 2,
  weightBp: 2500,
  canaryWeight: 25,
  routingVersion: 5,
  message: "step 3/4: waiting for approval",
  conditions: [
    {
      type: "Ready",
      status: "True",
      reason: "Progressing",
      message: "rollout running",
      lastTransitionTime: "2026-11-02T10:00:00Z",
    },
  ],
  lastDecision: {
    at: "2026-11-02T10:04:00Z",
    action: "pause",
    reason: "step 3 needs approval",
    checks: [
      {
        name: "failure-rate",
        verdict: "pass",
        message: "canary 0.1% vs stable 0.2%",
        value: 0.001,
        eValue: 0.25,
        threshold: 0.02,
      },
    ],
  },
  history: [
    {
      at: "2026-11-02T10:01:00Z",
      from: "Initializing",
      to: "Progressing",
      step: 0,
      weightBp: 100,
      reason: "started",
    },
    {
      at: "2026-11-02T10:04:00Z",
      from: "Progressing",
      to: "Paused",
      step: 2,
      weightBp: 2500,
      reason: "approval",
    },
  ],
};

beforeAll(async () => {
  server = await startKubeApi({ port: 0 });
  server.writeKubeconfig(kubeconfig);
  const loaded = loadKubeConfig({ kubeconfig });
  if ("error" in loaded) throw new Error(loaded.error);
  kc = loaded;
  const crd = parse(readFileSync("istio/crd/canaries.meshcanary.io.yaml", "utf8"));
  await mustRequest(server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  await mustRequest(server, "POST", CANARIES, parse(readFileSync("istio/samples/canary.yaml", "utf8")));
  const patched = await patchCanaryStatus(kc, "default", "reviews", STATUS);
  if (!patched.ok) throw new Error(patched.error.message);
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("status", () => {
  it("prints the tree: phase, step, weights, conditions, last decision and history", async () => {
    const run = await runCli("status", "reviews", "--kubeconfig", kubeconfig);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines).toContain("Phase:     Paused (approval)");
    expect(lines).toContain("Step:      3/4");
    expect(lines).toContain("├─ stable (v1)  75%");
    expect(lines).toContain("└─ canary (v2)  25%");
    expect(lines.slice(lines.indexOf("Steps:"), lines.indexOf("Steps:") + 5)).toEqual([
      "Steps:",
      "├─ ✔ 1  1%   hold ≥30s, then analysis",
      "├─ ✔ 2  5%   hold ≥1m, then analysis",
      "├─ ▶ 3  25%  hold ≥30s, then approval  waiting for the mesh",
      "└─   4  50%  hold ≥30s, then analysis",
    ]);
    expect(run.stdout).toContain("Last decision: pause at 2026-11-02T10:04:00Z: step 3 needs approval");
    expect(run.stdout).toMatch(
      /└─ ✔ failure-rate {2}pass {2}0\.001 \(limit 0\.02\) {2}evidence 0\.25× \(rollback at 100×\) {2}canary 0\.1% vs stable 0\.2%/,
    );
    expect(run.stdout).toMatch(
      /└─ 2026-11-02T10:04:00Z {2}Progressing → Paused +step 3 {2}25% {2}approval$/m,
    );
  });

  it("prints JSON and YAML for scripts", async () => {
    const json = await runCli("status", "reviews", "--kubeconfig", kubeconfig, "-o", "json");
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout) as StatusView;
    expect(view).toMatchObject({ name: "reviews", phase: "Paused", step: 3, steps: 4, pausedBy: "approval" });
    expect(view.weights).toEqual([
      { variant: "stable", subset: "v1", weightBp: 7500 },
      { variant: "canary", subset: "v2", weightBp: 2500 },
    ]);
    const yaml = await runCli("status", "reviews", "--kubeconfig", kubeconfig, "-o", "yaml");
    expect(parse(yaml.stdout)).toEqual(view);
  });

  it("lists the namespace's Canaries as a table without a name", async () => {
    const run = await runCli("status", "--kubeconfig", kubeconfig);
    expect(run.code).toBe(0);
    const [header, row] = run.stdout.split("\n");
    expect(header).toMatch(/^NAMESPACE +NAME +PHASE +STEP +CANARY +MESSAGE$/);
    expect(row).toMatch(/^default +reviews +Paused\(approval\) +3\/4 +25% +step 3\/4: waiting for approval$/);
  });

  it("exits 3 naming a missing Canary", async () => {
    const run = await runCli("status", "nope", "--kubeconfig", kubeconfig, "-n", "shop");
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("canary shop/nope not found");
  });

  it("--watch prints again on a change and stops when aborted", async () => {
    const out: string[] = [];
    const stop = new AbortController();
    const target = { kc, namespace: "default" };
    const watching = watchStatus(target, "default", "reviews", "json", (t) => out.push(t), stop.signal);
    await until("first print", () => out.length >= 1);
    const patched = await patchCanaryStatus(kc, "default", "reviews", {
      ...STATUS,
      phase: "Progressing",
      pausedBy: null,
      step: 3,
      weightBp: 5000,
    });
    if (!patched.ok) throw new Error(patched.error.message);
    await until("print after the change", () => out.some((t) => (JSON.parse(t) as StatusView).step === 4));
    stop.abort();
    await watching;
    const views = out.map((t) => JSON.parse(t) as StatusView);
    expect(views[0]).toMatchObject({ phase: "Paused", step: 3 });
    expect(views[views.length - 1]).toMatchObject({ phase: "Progressing", step: 4 });
    expect(views[views.length - 1]?.weights[1]).toEqual({ variant: "canary", subset: "v2", weightBp: 5000 });
    await patchCanaryStatus(kc, "default", "reviews", STATUS);
  });
});

describe("operator commands", () => {
  const annotation = async () => {
    const got = await getCanary(kc, "default", "reviews");
    if (!got.ok) throw new Error(got.error.message);
    return got.value.metadata.annotations?.[COMMAND_ANNOTATION];
  };

  it.each([
    ["promote", [], "promote"],
    ["promote", ["--full"], "promote-full"],
    ["approve", [], "approve"],
    ["abort", [], "abort"],
  ])(
    "%s %s applies in Paused(approval): --no-wait writes %s with a fresh nonce",
    async (command, extra, written) => {
      const previous = await annotation();
      const args = [command, "reviews", ...extra, "--no-wait", "--kubeconfig", kubeconfig, "-n", "default"];
      const run = await runCli(...args);
      expect(run.code).toBe(0);
      const value = await annotation();
      expect(value).toMatch(new RegExp(`^${written}/\\d+$`));
      expect(value).not.toBe(previous);
      expect(run.stdout).toContain(
        `canary default/reviews: ${written} requested (meshcanary.io/command: ${value})`,
      );
    },
  );

  it.each([
    ["pause", "in Progressing"],
    ["resume", "in Paused (paused by `pause`)"],
    ["retry", "after RolledBack or Aborted"],
    ["undo", "once all traffic is on the canary (a promotion or a blue-green switch)"],
  ])(
    "%s is refused in Paused(approval) before anything is written: exit 1 with the reason",
    async (command, when) => {
      const previous = await annotation();
      const run = await runCli(command, "reviews", "--kubeconfig", kubeconfig);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `canary default/reviews: refused: ${command} does not apply in phase Paused (paused for approval): it applies ${when}`,
      );
      expect(await annotation()).toBe(previous);
    },
  );

  it("two requests of the same command get different nonces", async () => {
    await runCli("approve", "reviews", "--no-wait", "--kubeconfig", kubeconfig);
    const first = await annotation();
    await runCli("approve", "reviews", "--no-wait", "--kubeconfig", kubeconfig);
    expect(await annotation()).not.toBe(first);
  });

  it("waits for the controller's answer up to --timeout: none running is exit 4, the command left pending", async () => {
    const run = await runCli("approve", "reviews", "--timeout", "600ms", "--kubeconfig", kubeconfig);
    expect(run.code).toBe(4);
    const value = await annotation();
    expect(run.stderr).toContain(
      `approve recorded (${value}) but the controller has not answered within 600ms`,
    );
    const status = await runCli("status", "reviews", "--kubeconfig", kubeconfig);
    expect(status.stdout).toContain(`Pending:   ${value} (not yet handled by the controller)`);
  });

  it("a bad --timeout is a usage error", async () => {
    const run = await runCli("approve", "reviews", "--timeout", "soon", "--kubeconfig", kubeconfig);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--timeout: invalid duration "soon"');
  });

  it("exits 3 naming a missing Canary", async () => {
    const run = await runCli("abort", "ghost", "--kubeconfig", kubeconfig);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("canary default/ghost not found");
  });
});

describe("connection errors", () => {
  it("an unreachable API is exit 1 naming its URL", async () => {
    const closed = await startKubeApi({ port: 0 });
    const file = join(dir, "closed-kubeconfig");
    closed.writeKubeconfig(file);
    await closed.close();
    const run = await runCli("status", "reviews", "--kubeconfig", file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach the Kubernetes API at ${closed.url}`);
  });

  it("an unknown context is exit 1 naming it; KUBECONFIG is honoured", async () => {
    const run = await runCli("status", "--kubeconfig", kubeconfig, "--context", "prod");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no context "prod"');
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig;
    try {
      const viaEnv = await runCli("status", "reviews", "-o", "json");
      expect(viaEnv.code).toBe(0);
      expect((JSON.parse(viaEnv.stdout) as StatusView).name).toBe("reviews");
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });
});
