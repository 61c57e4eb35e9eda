/**
 * The release lifecycle from a terminal: the built CLI runs as its own process against the embedded
 * Kubernetes API with a controller leading, as an operator or a pipeline would run it. Commands are
 * answered (applied or refused with the reason, exit codes per outcome), `wait` and `status --watch`
 * end on the rollout's outcome, and a lost API is reported instead of waited on.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startKubeApi } from "../../sandbox/kube-api/index.js";
import {
  eventsInclude,
  healthySpec,
  type Json,
  startWorld,
  targetWeights,
  type World,
} from "../controller/harness.js";
import { type CliRun, runCliProcess } from "./run-cli.js";

let world: World;
let kubeconfig: string;
const cli = (...args: string[]) => runCliProcess([...args, "--kubeconfig", kubeconfig, "-n", "default"]);
const ok = (run: CliRun) => {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return run.stdout;
};

beforeAll(async () => {
  world = await startWorld(["reviews"]);
  kubeconfig = join(mkdtempSync(join(tmpdir(), "meshcanary-lifecycle-")), "kubeconfig");
  writeFileSync(kubeconfig, world.api.kubeconfig());
  await world.controller();
  // 60 s per step: nothing moves but by command, so each command's effect is its own.
  await world.createCanary("life", { ...healthySpec([10, 50]), analysis: { minStepDuration: "60s" } });
});
afterAll(async () => {
  await world?.close();
});

describe("release lifecycle through the CLI process", () => {
  it("walks start → pause → promote → promote --full → undo → retry → abort, each command answered", async () => {
    expect(ok(await cli("wait", "life", "--for", "Progressing", "--timeout", "20s"))).toMatch(
      /^canary default\/life: Progressing: step 1\/2 at 10%/,
    );
    expect(ok(await cli("pause", "life"))).toBe("canary default/life: pause applied: paused by operator\n");
    const again = await cli("pause", "life");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("refused: pause does not apply in phase Paused (paused for manual)");

    expect(ok(await cli("promote", "life"))).toBe(
      "canary default/life: promote applied: step 2/2 at 50%: promoted by operator\n",
    );
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v1: 50, v2: 50 });
    const status = ok(await cli("status", "life"));
    expect(status).toMatch(/^├─ ✔ 1 {2}10% .*\n└─ ▶ 2 {2}50% .*in force since/m);
    expect(status).toMatch(
      /^Command: {3}promote\/\d+ applied at .*: step 2\/2 at 50%: promoted by operator$/m,
    );

    expect(ok(await cli("promote", "life", "--full"))).toContain(
      "promote-full applied: fully promoted by operator",
    );
    ok(await cli("wait", "life", "--for", "Succeeded", "--timeout", "20s"));
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v2: 100 });
    const other = await cli("wait", "life", "--for", "RolledBack", "--timeout", "5s");
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("canary default/life: Succeeded: ");
    expect(other.stderr).toContain("(waited for RolledBack)");

    expect(ok(await cli("undo", "life"))).toContain("undo applied: undone by operator");
    ok(await cli("wait", "life", "--for", "RolledBack", "--timeout", "20s"));
    const restored = await world.vs("reviews");
    expect((restored.spec.http as Json[]).map((r) => r.name)).toEqual(["primary"]);
    expect(targetWeights(restored)).toEqual({ v1: 100 });

    expect(ok(await cli("retry", "life"))).toContain("retry applied: retried by operator");
    ok(await cli("wait", "life", "--for", "Progressing", "--timeout", "20s"));
    expect(targetWeights(await world.vs("reviews"))).toEqual({ v1: 90, v2: 10 });
    const slow = await cli("wait", "life", "--for", "Succeeded", "--timeout", "1s");
    expect(slow.code).toBe(4);
    expect(slow.stderr).toContain("not Succeeded after 1s; now Progressing: step 1/2 at 10%");

    expect(ok(await cli("abort", "life"))).toContain("abort applied: aborted by operator");
    // A finished rollout: the watch prints it once and exits by itself.
    const watched = await cli("status", "life", "--watch");
    expect(ok(watched)).toContain("Phase:     Aborted");
    await eventsInclude(world, "life", ["Paused", "Promoting", "Succeeded", "RolledBack", "Aborted"]);
  }, 120_000);

  it("a missing Canary is exit 3 for wait and for commands", async () => {
    expect((await cli("wait", "ghost", "--timeout", "2s")).code).toBe(3);
    expect((await cli("retry", "ghost")).code).toBe(3);
  });

  it("prints its version; validates stdin", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(ok(await runCliProcess(["--version"]))).toBe(`${pkg.version}\n`);
    const sample = readFileSync("istio/samples/canary.yaml", "utf8");
    expect(ok(await runCliProcess(["validate", "-"], { stdin: sample }))).toBe(
      "stdin: document 1, line 2 (Canary default/reviews): valid\n",
    );
    const bad = await runCliProcess(["validate", "-"], { stdin: sample.replace("strategy:", "stratgy:") });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('spec.stratgy: unknown field (did you mean "strategy"?)');
  });
});

describe("a lost API connection", () => {
  it("ends status --watch with exit 5 instead of hanging", async () => {
    const api = await startKubeApi({ port: 0 });
    const file = join(mkdtempSync(join(tmpdir(), "meshcanary-lost-")), "kubeconfig");
    api.writeKubeconfig(file);
    const crd = parse(readFileSync("istio/crd/canaries.meshcanary.io.yaml", "utf8"));
    const post = (path: string, body: unknown) =>
      fetch(api.url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
    const canary = parse(readFileSync("istio/samples/canary.yaml", "utf8"));
    await post("/apis/meshcanary.io/v1alpha1/namespaces/default/canaries", canary);
    let printed: () => void = () => undefined;
    const firstFrame = new Promise<void>((resolve) => {
      printed = resolve;
    });
    const watching = runCliProcess(
      ["status", "reviews", "--watch", "--lost-after", "2s", "--kubeconfig", file],
      {
        timeoutMs: 60_000,
        onStdout: (out) => out.includes("Steps:") && printed(),
      },
    );
    await firstFrame;
    await api.close();
    const run = await watching;
    expect(run.stderr).toContain("lost the connection to the Kubernetes API");
    expect(run.code).toBe(5);
    expect(run.stdout).toContain("Name:      reviews");
    expect(run.stderr).toContain("watch interrupted");
    expect(run.stderr).toContain("lost the connection to the Kubernetes API");
    expect(run.stderr).toContain("retrying for up to 2s");
  }, 60_000);

  it("refuses a --lost-after that is not a positive duration, naming the flag and the value", async () => {
    for (const [args, message] of [
      [["status", "reviews", "--watch", "--lost-after", "soon"], '--lost-after: invalid duration "soon"'],
      [["wait", "reviews", "--lost-after", "0"], '--lost-after: must be above 0, got "0"'],
    ] as const) {
      const run = await runCliProcess([...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
    }
  });
});
