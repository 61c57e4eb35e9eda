import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadPureWasm } from "../filter/pure-wasm.js";
import { runCli } from "./run-cli.js";

const SAMPLE = "istio/samples/canary.yaml";
const SAMPLE_VS = "istio/samples/virtual-service.yaml";
const dir = mkdtempSync(join(tmpdir(), "meshcanary-cli-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FixtureError {
  path: string;
  message: string;
}

describe("validate", () => {
  it("accepts the sample Canary", async () => {
    const run = await runCli("validate", SAMPLE);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("(Canary default/reviews): valid");
  });

  it.each(["invalid-steps", "invalid-structure"])(
    "reports every error of %s with its path, exit 1",
    async (name) => {
      const expected = JSON.parse(
        readFileSync(`test/fixtures/spec/${name}.errors.json`, "utf8"),
      ) as FixtureError[];
      const run = await runCli("validate", `test/fixtures/spec/${name}.yaml`);
      expect(run.code).toBe(1);
      const printed = run.stdout
        .split("\n")
        .filter((l) => l.startsWith("  "))
        .map((l) => l.trim());
      expect(printed).toEqual(expected.map((e) => `${e.path}: ${e.message}`));
      expect(run.stderr).toContain("1 invalid Canary document(s)");
    },
  );

  it("checks every Canary of a multi-document file and skips other kinds", async () => {
    const file = join(dir, "multi.yaml");
    const sample = readFileSync(SAMPLE, "utf8");
    const vs = readFileSync(SAMPLE_VS, "utf8");
    const broken = sample
      .replace("name: reviews\n  namespace: default", "name: broken\n  namespace: default")
      .replace("subset: v2", "subset: v1");
    writeFileSync(file, `${sample}\n---\n${vs}\n---\n${broken}`);
    const run = await runCli("validate", file);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("document 1, line 2 (Canary default/reviews): valid");
    expect(run.stdout).toMatch(/document 3, line \d+ \(Canary default\/broken\): 1 error\(s\)/);
    expect(run.stdout).toContain('spec.canary.subset: must differ from stable.subset, got "v1" for both');
    expect(run.stdout).not.toContain("VirtualService");
  });

  it("fails on malformed YAML, a missing file and a file without Canaries", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "kind: Canary\n  spec: [unclosed\n");
    const malformed = await runCli("validate", bad);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain("invalid YAML");
    const missing = await runCli("validate", join(dir, "nope.yaml"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nope.yaml");
    const none = await runCli("validate", SAMPLE_VS);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no document of kind Canary");
  });
});

describe("render", () => {
  const wasm = loadPureWasm("cli-render");

  it("renders the sample against its VirtualService at the first step", async () => {
    const run = await runCli("render", SAMPLE, "--virtual-service", SAMPLE_VS, "-o", "json");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      canary: { spec: { pins: { header: string }; analysis: { checks: Array<{ name: string }> } } };
      virtualService: {
        spec: {
          http: Array<{ name: string; route: Array<{ weight?: number; destination: { subset: string } }> }>;
        };
      };
      filterConfig: { routes: Array<{ variants: Array<{ name: string; weight: number }> }> };
      rendered: string;
    };
    expect(out.rendered).toBe("Progressing, step 1/4, canary 1%");
    // Defaults are filled in: pin names and derived check names.
    expect(out.canary.spec.pins.header).toBe("x-meshcanary-pin");
    expect(out.canary.spec.analysis.checks.map((c) => c.name)).toEqual([
      "failure-rate",
      "latency-p99",
      "metric-tokens",
    ]);
    const http = out.virtualService.spec.http;
    expect(http.map((r) => r.name)).toEqual([
      "meshcanary-reviews-stable",
      "meshcanary-reviews-canary",
      "meshcanary-reviews-pin-stable",
      "meshcanary-reviews-pin-canary",
      "meshcanary-reviews-pin-cookie-stable",
      "meshcanary-reviews-pin-cookie-canary",
      "primary",
    ]);
    const primary = http[http.length - 1];
    expect(primary?.route.map((d) => [d.destination.subset, d.weight])).toEqual([
      ["v1", 99],
      ["v2", 1],
    ]);
    const variants = out.filterConfig.routes[0]?.variants;
    expect(variants).toEqual([
      { name: "stable", weight: 9900 },
      { name: "canary", weight: 100 },
    ]);
    // The filter's own configuration parser (compiled AssemblyScript) accepts it.
    expect(wasm.str("configErrors", JSON.stringify(out.filterConfig))).toBe("");
    expect(wasm.str("configSummary", JSON.stringify(out.filterConfig))).not.toBe("");
  });

  it("renders the step in the Canary's status, as YAML documents without aliases", async () => {
    const file = join(dir, "paused.yaml");
    const status =
      "status:\n  phase: Paused\n  pausedBy: approval\n  step: 2\n  weightBp: 2500\n  routingVersion: 7\n";
    writeFileSync(file, `${readFileSync(SAMPLE, "utf8")}${status}`);
    const run = await runCli("render", file, "--virtual-service", SAMPLE_VS);
    expect(run.code).toBe(0);
    const docs = parseAllDocuments(run.stdout);
    if (!Array.isArray(docs)) throw new Error("expected documents");
    expect(docs.map((d) => (d.toJS() as { kind?: string }).kind ?? "filter config")).toEqual([
      "Canary",
      "VirtualService",
      "filter config",
    ]);
    expect(run.stdout).toContain("rendered: Paused, step 3/4, canary 25%");
    expect(run.stdout).not.toMatch(/[&*]a\d/);
    const config = docs[2]?.toJS() as { routes: Array<{ variants: Array<{ weight: number }> }> };
    expect(config.routes[0]?.variants.map((v) => v.weight)).toEqual([7500, 2500]);
    expect(wasm.str("configErrors", JSON.stringify(config))).toBe("");
  });

  it("without --virtual-service assumes one route to the stable subset", async () => {
    const run = await runCli("render", SAMPLE, "-o", "json");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      virtualService: { spec: { hosts: string[]; http: Array<{ name?: string }> } };
    };
    expect(out.virtualService.spec.hosts).toEqual(["reviews.default.svc.cluster.local"]);
    expect(out.virtualService.spec.http.map((r) => r.name)).toContain("meshcanary-reviews-canary");
  });

  it("renders a Gateway API Canary's HTTPRoute from --http-route, and asks for the route without it", async () => {
    const canary = "istio/samples/gateway-api/canary.yaml";
    const run = await runCli(
      "render",
      canary,
      "--http-route",
      "istio/samples/gateway-api/http-route.yaml",
      "-o",
      "json",
    );
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      virtualService?: unknown;
      httpRoute: {
        kind: string;
        spec: { rules: Array<{ name?: string; backendRefs?: Array<{ name: string }> }> };
      };
    };
    expect(out.virtualService).toBeUndefined();
    expect(out.httpRoute.kind).toBe("HTTPRoute");
    const canaryRule = out.httpRoute.spec.rules.find((r) => r.name?.endsWith("-canary"));
    expect(canaryRule?.backendRefs?.map((b) => b.name)).toEqual(["reviews-v2"]);
    const missing = await runCli("render", canary);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'spec.httpRoute.name: pass the HTTPRoute "reviews" with --http-route <file>',
    );
  });

  it("fails naming the field when the VirtualService is not in the file, or the Canary is invalid", async () => {
    const other = join(dir, "other-vs.yaml");
    writeFileSync(other, readFileSync(SAMPLE_VS, "utf8").replace("name: reviews", "name: ratings"));
    const missing = await runCli("render", SAMPLE, "--virtual-service", other);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'spec.virtualService.name: no VirtualService "reviews" in --virtual-service (found: ratings)',
    );
    const invalid = await runCli("render", "test/fixtures/spec/invalid-steps.yaml");
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("spec.canary.subset: must differ from stable.subset");
  });
});

describe("usage", () => {
  it.each([["--help"], ["status", "--help"], ["render", "--help"], ["abort", "--help"]])(
    "%s prints help and exits 0",
    async (...argv) => {
      const run = await runCli(...argv);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Usage: meshcanary");
    },
  );

  it("exits 2 on an unknown command, a missing argument and a bad option value", async () => {
    const unknown = await runCli("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect((await runCli("promote")).code).toBe(2);
    const badFormat = await runCli("status", "x", "-o", "xml");
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("xml");
  });
});
