/**
 * The Helm chart in charts/meshcanary: its values are checked against values.schema.json (what
 * `helm install` enforces), its CRD is the generated one, and — where a helm binary is available
 * (HELM, build/tools/helm from `make helm`, or helm on PATH) — `helm lint` passes and `helm template`
 * renders objects that validate against Kubernetes' and Istio's schemas and match the kustomize
 * install object for object. Without helm the rendering is reported as skipped: Go templates are
 * not re-implemented here.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { kustomizeBuild, readObjects } from "./kustomize.js";
import { crdValidator, type KubeObject, validatorFor } from "./validators.js";

const CHART = "charts/meshcanary";
// biome-ignore lint/suspicious/noExplicitAny: untyped YAML documents
type Yaml = any;
const schema = JSON.parse(readFileSync(`${CHART}/values.schema.json`, "utf8"));
const defaults = parse(readFileSync(`${CHART}/values.yaml`, "utf8")) as Yaml;
const TOKEN = "0123456789abcdef0123456789abcdef";

function errorsOf(values: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const check = ajv.compile(schema);
  return check(values) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
const withValues = (patch: (v: Yaml) => void) => {
  const v = structuredClone(defaults);
  v.telemetry.token = TOKEN;
  patch(v);
  return v;
};

function findHelm(): string | undefined {
  const candidates = [process.env.HELM, "build/tools/helm"].filter((c): c is string => !!c);
  for (const c of candidates) if (existsSync(c)) return c;
  return spawnSync("helm", ["version"], { stdio: "ignore" }).status === 0 ? "helm" : undefined;
}
const helm = findHelm();

describe("Helm chart values", () => {
  it("values.yaml is valid once the required token is set, and says so when it is not", () => {
    expect(errorsOf(withValues(() => undefined))).toEqual([]);
    expect(errorsOf(defaults)).toEqual([
      "/telemetry/token must NOT have fewer than 16 characters",
      '/telemetry/token must match pattern "^[A-Za-z0-9._~+/=-]+$"',
    ]);
  });

  it.each<[string, (v: Yaml) => void, string]>([
    ["a digest with sha256: prefix", (v) => (v.filter.sha256 = `sha256:${"a".repeat(64)}`), "/filter/sha256"],
    ["an http url for the filter", (v) => (v.filter.url = "https://example.com/x.wasm"), "/filter/url"],
    ["no namespace to inject", (v) => (v.filter.namespaces = []), "/filter/namespaces"],
    ["a namespace name with capitals", (v) => (v.filter.namespaces = ["Shop"]), "/filter/namespaces/0"],
    ["zero replicas", (v) => (v.replicaCount = 0), "/replicaCount"],
    ["an unknown value", (v) => (v.replicas = 2), "must NOT have additional properties"],
    ["a pull policy typo", (v) => (v.image.pullPolicy = "IfNotPresnt"), "/image/pullPolicy"],
    [
      "a placeholder token",
      (v) => (v.telemetry.token = "change-me-before-install"),
      "/telemetry/token must NOT be valid",
    ],
    [
      "a trust domain with a slash",
      (v) => (v.telemetry.trustDomain = "cluster.local/ns"),
      "/telemetry/trustDomain",
    ],
  ])("rejects %s", (_, patch, where) => {
    expect(errorsOf(withValues(patch)).join("; ")).toContain(where);
  });

  it("ships the generated CRD unchanged", () => {
    expect(readFileSync(`${CHART}/crds/canaries.meshcanary.io.yaml`, "utf8")).toBe(
      readFileSync("istio/crd/canaries.meshcanary.io.yaml", "utf8"),
    );
  });
});

describe.skipIf(helm === undefined)("helm template (rendered by a real helm binary)", () => {
  const render = (...set: string[]) => {
    const args = ["template", "mc", CHART, "--namespace", "meshcanary-system", "--include-crds"];
    for (const s of [`telemetry.token=${TOKEN}`, ...set]) args.push("--set", s);
    const text = execFileSync(helm!, args, { encoding: "utf8" });
    return parseAllDocuments(text)
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null);
  };
  const crds = crdValidator(readObjects("istio/crd/canaries.meshcanary.io.yaml", [])[0]!);
  const id = (o: Yaml) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

  it("lints clean", () => {
    execFileSync(helm!, ["lint", CHART, "--strict", "--set", `telemetry.token=${TOKEN}`], {
      encoding: "utf8",
    });
  });

  it("refuses to render without a token, naming the value", () => {
    const run = spawnSync(helm!, ["template", "mc", CHART], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("telemetry");
  });

  it("renders valid objects: the kustomize install's, object for object, plus the PDB when enabled", () => {
    const objects = render("podDisruptionBudget.enabled=true", "filter.namespaces={default,shop}");
    for (const o of objects) {
      const validate = validatorFor(o, crds);
      expect(validate, `${id(o)} has a validator`).toBeDefined();
      expect(validate!(o), id(o)).toEqual([]);
    }
    const kustomized = kustomizeBuild("istio").objects.filter((o) => o.kind !== "Namespace");
    const rendered = new Set(objects.map(id));
    for (const o of kustomized) expect(rendered, id(o)).toContain(id(o));
    expect(rendered).toContain("WasmPlugin/shop/meshcanary");
    expect(rendered).toContain("PodDisruptionBudget/meshcanary-system/meshcanary-controller");
  });

  it("carries values into the objects: image, replicas, resources, token, filter image", () => {
    const objects = render("image.tag=1.2.3", "replicaCount=3", "resources.limits.memory=1Gi") as Yaml[];
    const deployment = objects.find((o) => o.kind === "Deployment");
    expect(deployment.spec.replicas).toBe(3);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe("ghcr.io/meshcanary/meshcanary-controller:1.2.3");
    expect(container.resources.limits.memory).toBe("1Gi");
    const secret = objects.find((o) => o.kind === "Secret");
    expect(secret.stringData.token).toBe(TOKEN);
    const plugin = objects.find((o) => o.kind === "WasmPlugin");
    expect(plugin.spec.vmConfig.env[0].value).toBe(TOKEN);
    expect(plugin.spec.sha256).toBe(defaults.filter.sha256);
    expect(plugin.spec.pluginConfig.controller.cluster).toBe(
      "outbound|9090||meshcanary-controller.meshcanary-system.svc.cluster.local",
    );
  });

  it("adds a ServiceMonitor for /metrics only when asked", () => {
    expect(render().some((o) => o.kind === "ServiceMonitor")).toBe(false);
    const monitor = render("serviceMonitor.enabled=true").find((o) => o.kind === "ServiceMonitor") as Yaml;
    expect(monitor.spec.endpoints).toEqual([{ port: "http-api", path: "/metrics", interval: "30s" }]);
  });
});
