import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildWasmImage } from "../../controller/oci/image.js";
import { kustomizeBuild, readObjects } from "./kustomize.js";
import { publishedValidators } from "./published-schemas.js";
import { crdValidator, type KubeObject, validatorFor } from "./validators.js";

const CRD_PATH = "istio/crd/canaries.meshcanary.io.yaml";
const KUSTOMIZATIONS = [
  "istio",
  "istio/samples",
  "istio/samples/gated",
  "istio/samples/blue-green",
  "istio/samples/ab-test",
  "istio/samples/shadow",
  "istio/samples/llm",
  "istio/gateway",
  "istio/samples/ambient",
  "istio/ambient",
  "istio/ambient/traffic-extension",
  "istio/gateway-api",
];

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith(".yaml") ? [path] : [];
  });
}

const files = yamlFiles("istio");
const crdExists = existsSync(CRD_PATH);
const crds = new Map([
  ...(crdExists ? crdValidator(readObjects(CRD_PATH, [])[0]!) : []),
  ...publishedValidators(),
]);

/** Parsed YAML is navigated freely here; a wrong path fails the expectation that reads it. */
// biome-ignore lint/suspicious/noExplicitAny: untyped YAML documents
type Yaml = any;
type Obj = KubeObject & { metadata: { name: string; namespace?: string }; spec: Yaml; data?: Yaml };
const nameOf = (o: KubeObject) => `${o.kind}/${(o as Obj).metadata?.name}`;
const builds = new Map(KUSTOMIZATIONS.map((dir) => [dir, kustomizeBuild(dir)]));
const installed = builds.get("istio")!.objects as Obj[];
const find = (objects: Obj[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objects: Obj[], kind: string, name?: string) => {
  const found = find(objects, kind, name);
  expect(found.map(nameOf)).toHaveLength(1);
  return found[0]!;
};

describe("every manifest in istio/", () => {
  it.each(files)("%s parses and validates against its schema", (file) => {
    const problems: string[] = [];
    const objects = readObjects(file, problems);
    expect(problems).toEqual([]);
    expect(objects.length).toBeGreaterThan(0);
    for (const obj of objects) {
      if (obj.kind === "Kustomization" || obj.kind === "Component") continue;
      if (obj.kind === "Canary" && !crdExists) {
        console.warn(`skipped ${file}: ${CRD_PATH} not generated yet`);
        continue;
      }
      const validate = validatorFor(obj, crds);
      expect(validate, `no validator for ${obj.apiVersion}/${obj.kind}`).toBeDefined();
      expect(validate!(obj), `${file} ${nameOf(obj)}`).toEqual([]);
    }
  });

  it("is part of some kustomization, all of which build", () => {
    const problems = [...builds.values()].flatMap((b) => b.problems);
    expect(problems).toEqual([]);
    // Each kustomization's own folder listing must match what it references (no orphans).
    const listed = (dir: string): string[] => {
      const k = readObjects(join(dir, "kustomization.yaml"), [])[0] as {
        resources?: string[];
        components?: string[];
      };
      return [...(k.resources ?? []), ...(k.components ?? [])].flatMap((r) => {
        const path = join(dir, r);
        return statSync(path).isDirectory() ? [join(path, "kustomization.yaml"), ...listed(path)] : [path];
      });
    };
    const reachable = new Set([
      ...KUSTOMIZATIONS.flatMap((d) => [join(d, "kustomization.yaml"), ...listed(d)]),
    ]);
    expect(files.filter((f) => !reachable.has(f)).map((f) => relative(".", f))).toEqual([]);
  });
});

describe("the validators catch real mistakes", () => {
  const wasmPlugin = structuredClone(one(installed, "WasmPlugin"));
  it.each([
    ["failStrategy typo", (o: Obj) => (o.spec.failStrategy = "FAIL_OPEN_PLEASE"), /failStrategy/],
    ["sha256 with prefix", (o: Obj) => (o.spec.sha256 = `sha256:${"a".repeat(64)}`), /sha256/],
    ["unknown match mode", (o: Obj) => (o.spec.match = [{ mode: "OUTBOUND" }]), /mode/],
  ])("WasmPlugin: %s", (_, mutate, error) => {
    const bad = structuredClone(wasmPlugin);
    mutate(bad);
    expect(validatorFor(bad, crds)!(bad).join("\n")).toMatch(error);
  });

  it("Deployment without a container image", () => {
    const bad = structuredClone(one(installed, "Deployment"));
    bad.spec.template.spec.containers[0].image = 42;
    expect(validatorFor(bad, crds)!(bad).join("\n")).toMatch(/image/);
  });

  it.skipIf(!crdExists)("Canary with an unknown or mistyped field", () => {
    const canary = readObjects("istio/samples/canary.yaml", [])[0] as Obj;
    const typo = structuredClone(canary);
    typo.spec.stabel = typo.spec.stable;
    expect(validatorFor(typo, crds)!(typo)).toContain("spec.stabel: unknown field");
    const wrongType = structuredClone(canary);
    wrongType.spec.host = 7;
    expect(validatorFor(wrongType, crds)!(wrongType).join("\n")).toMatch(/\/spec\/host/);
  });
});

describe("kustomize build istio/ (what kubectl apply -k installs)", () => {
  const params = readObjects("istio/wasm/wasm-image.yaml", [])[0] as Obj;

  it("renders valid objects, without the local-config parameters", () => {
    for (const [dir, b] of builds) {
      expect(b.problems, dir).toEqual([]);
      for (const obj of b.objects) {
        if (obj.kind === "Canary" && !crdExists) continue;
        expect(validatorFor(obj, crds)!(obj), `${dir}: ${nameOf(obj)}`).toEqual([]);
      }
      expect(find(b.objects as Obj[], "ConfigMap", "meshcanary-wasm")).toEqual([]);
    }
  });

  it("puts the image parameters and one token into the WasmPlugins and the Secret", () => {
    const plugins = [
      ...find(installed, "WasmPlugin"),
      ...find(builds.get("istio/gateway")!.objects as Obj[], "WasmPlugin"),
    ];
    expect(plugins).toHaveLength(2);
    for (const p of plugins) {
      expect(p.spec.url).toBe(params.data.url);
      expect(p.spec.sha256).toBe(params.data.sha256);
      expect(p.spec.vmConfig.env).toEqual([
        { name: "MESHCANARY_TOKEN", valueFrom: "INLINE", value: params.data.token },
      ]);
    }
    const secret = one(installed, "Secret", "meshcanary-telemetry-token") as Obj & {
      stringData: { token: string };
    };
    expect(secret.stringData.token).toBe(params.data.token);
  });

  it("sets the controller image tag", () => {
    const image = one(installed, "Deployment").spec.template.spec.containers[0].image;
    expect(image).toMatch(/^ghcr\.io\/meshcanary\/meshcanary-controller:\d+\.\d+\.\d+$/);
  });
});

describe("WasmPlugin", () => {
  const params = readObjects("istio/wasm/wasm-image.yaml", [])[0] as Obj;
  const plugin = one(installed, "WasmPlugin");
  const service = one(installed, "Service", "meshcanary-controller");

  it.skipIf(!existsSync("build/meshcanary.wasm"))(
    "is pinned to the digest `make oci` builds from build/meshcanary.wasm",
    () => {
      const image = buildWasmImage(new Uint8Array(readFileSync("build/meshcanary.wasm")), "0.1.0");
      expect(params.data.sha256, "istio/wasm/wasm-image.yaml is stale: run `make oci`").toBe(
        image.manifest.digest.slice(7),
      );
    },
  );

  it("pins a 64-hex digest and an oci:// url", () => {
    expect(params.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(params.data.url).toMatch(/^oci:\/\/[^@]+:[\w.-]+$/);
  });

  it("runs outbound only, fails open, in the STATS phase", () => {
    for (const p of [plugin, one(builds.get("istio/gateway")!.objects as Obj[], "WasmPlugin")]) {
      expect(p.spec.match).toEqual([{ mode: "CLIENT" }]);
      expect(p.spec.failStrategy).toBe("FAIL_OPEN");
      expect(p.spec.phase).toBe("STATS");
      expect(p.spec.imagePullPolicy).toBe("IfNotPresent");
    }
  });

  it("points the filter at the controller Service's gRPC port, with the token env it defines", () => {
    const grpc = service.spec.ports.find((p: { name: string }) => p.name.startsWith("grpc-"));
    const fqdn = `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
    const controller = plugin.spec.pluginConfig.controller;
    expect(controller.cluster).toBe(`outbound|${grpc.port}||${fqdn}`);
    expect(controller.authority).toBe(fqdn);
    expect(controller.intervalMs).toBeGreaterThanOrEqual(100);
    expect(plugin.spec.vmConfig.env.map((e: { name: string }) => e.name)).toContain(controller.tokenEnv);
  });

  it("targets the ingress gateway in the root namespace for north-south", () => {
    const gateway = one(builds.get("istio/gateway")!.objects as Obj[], "WasmPlugin");
    expect(gateway.metadata.namespace).toBe("istio-system");
    expect(gateway.spec.selector).toEqual({ matchLabels: { istio: "ingressgateway" } });
    expect(gateway.spec.pluginConfig).toEqual(plugin.spec.pluginConfig);
  });
});

describe("controller", () => {
  const deployment = one(installed, "Deployment", "meshcanary-controller");
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it("has least-privilege RBAC without wildcards", () => {
    const roles = [...find(installed, "ClusterRole"), ...find(installed, "Role")] as (Obj & {
      rules: Yaml[];
    })[];
    for (const rule of roles.flatMap((r) => r.rules)) {
      for (const field of ["apiGroups", "resources", "verbs", "resourceNames"]) {
        expect(rule[field] ?? [], `${field} in ${JSON.stringify(rule)}`).not.toContain("*");
      }
    }
    const grants = (role: Obj & { rules: Yaml[] }) =>
      role.rules
        .flatMap((r) =>
          r.resources.map((res: string) => `${r.apiGroups[0]}/${res}: ${[...r.verbs].sort().join(",")}`),
        )
        .sort();
    expect(grants(one(installed, "ClusterRole") as Yaml)).toEqual([
      "/events: create,patch",
      "authentication.k8s.io/tokenreviews: create",
      "authorization.k8s.io/subjectaccessreviews: create",
      "events.k8s.io/events: create,patch",
      "gateway.networking.k8s.io/httproutes: get,update",
      "meshcanary.io/canaries/status: get,patch,update",
      "meshcanary.io/canaries: get,list,patch,update,watch",
      "networking.istio.io/destinationrules: get,list,watch",
      "networking.istio.io/virtualservices: get,list,patch,update,watch",
    ]);
    const role = one(installed, "Role") as Yaml;
    expect(role.metadata.namespace).toBe("meshcanary-system");
    expect(grants(role)).toEqual(["coordination.k8s.io/leases: create,get,update"]);
    for (const binding of [
      ...find(installed, "ClusterRoleBinding"),
      ...find(installed, "RoleBinding"),
    ] as Yaml[]) {
      expect(binding.subjects).toEqual([
        { kind: "ServiceAccount", name: pod.serviceAccountName, namespace: "meshcanary-system" },
      ]);
      expect(find(installed, binding.roleRef.kind, binding.roleRef.name)).toHaveLength(1);
    }
  });

  it("runs two leader-electing replicas, hardened", () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(container.args).toContain("--leader-elect");
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(Object.keys(container.resources.requests).sort()).toEqual(["cpu", "memory"]);
    expect(Object.keys(container.resources.limits).sort()).toEqual(["cpu", "memory"]);
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http-api" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http-api" });
  });

  it("reads the stream token from the Secret the kustomization installs", () => {
    const env = container.env.find((e: { name: string }) => e.name === "MESHCANARY_TOKEN");
    const ref = env.valueFrom.secretKeyRef;
    const secret = one(installed, "Secret", ref.name) as Yaml;
    expect(secret.metadata.namespace).toBe(deployment.metadata.namespace);
    expect(Object.keys(secret.stringData)).toContain(ref.key);
  });

  it("has a Service with grpc-/http- named ports that reach named container ports", () => {
    const service = one(installed, "Service", "meshcanary-controller");
    expect(service.spec.selector).toEqual(
      deployment.spec.template.metadata.labels.app ? { app: "meshcanary-controller" } : {},
    );
    const ports = service.spec.ports.map((p: Yaml) => [p.name, p.port, p.appProtocol]);
    expect(ports).toEqual([
      ["grpc-telemetry", 9090, "grpc"],
      ["http-api", 8080, "http"],
    ]);
    const containerPorts = container.ports.map((p: Yaml) => p.name);
    for (const p of service.spec.ports) expect(containerPorts).toContain(p.targetPort);
  });

  it("accepts only mTLS, gRPC from mesh identities, the API from one namespace", () => {
    const peer = one(installed, "PeerAuthentication");
    expect(peer.spec.mtls.mode).toBe("STRICT");
    const policy = one(installed, "AuthorizationPolicy");
    for (const p of [peer, policy]) {
      expect(p.metadata.namespace).toBe("meshcanary-system");
      expect(p.spec.selector.matchLabels).toEqual({ app: deployment.spec.template.metadata.labels.app });
    }
    expect(policy.spec.action).toBe("ALLOW");
    const byPort = Object.fromEntries(
      policy.spec.rules.map((r: Yaml) => [r.to[0].operation.ports.join(), r.from[0].source]),
    );
    expect(byPort["9090"].principals).toEqual(["cluster.local/ns/*"]);
    expect(byPort["8080"].namespaces).toHaveLength(1);
    // Istio matches principals exactly, by prefix ("x*"), suffix ("*x") or presence ("*") only.
    for (const principal of byPort["9090"].principals as string[]) {
      expect(principal.slice(1, -1), principal).not.toContain("*");
    }
  });
});

describe("samples", () => {
  const sample = builds.get("istio/samples")!.objects as Obj[];
  const dr = one(sample, "DestinationRule", "reviews");
  const vs = one(sample, "VirtualService", "reviews");
  const subsets = new Map<string, Record<string, string>>(
    dr.spec.subsets.map((s: Yaml) => [s.name, s.labels]),
  );

  it("routes the VirtualService to a subset the DestinationRule defines", () => {
    expect(vs.spec.http).toHaveLength(1);
    for (const d of vs.spec.http[0].route) expect(subsets.has(d.destination.subset)).toBe(true);
  });

  it("has a Deployment for every subset, behind the Service", () => {
    const service = one(sample, "Service", "reviews");
    for (const labels of subsets.values()) {
      const deployment = find(sample, "Deployment").find((d) =>
        Object.entries({ ...service.spec.selector, ...labels }).every(
          ([k, v]) => d.spec.template.metadata.labels[k] === v,
        ),
      );
      expect(deployment, JSON.stringify(labels)).toBeDefined();
      expect(service.spec.ports[0].name).toMatch(/^http(-|$)/);
    }
  });

  it.skipIf(!existsSync("istio/samples/canary.yaml"))(
    "has a Canary naming that VirtualService and those subsets",
    () => {
      const canary = one(sample, "Canary", "reviews");
      expect(canary.spec.virtualService.name).toBe(vs.metadata.name);
      expect(subsets.has(canary.spec.stable.subset)).toBe(true);
      expect(subsets.has(canary.spec.canary.subset)).toBe(true);
    },
  );
});

describe("kustomizeBuild reports what kustomize would refuse", () => {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-kustomize-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata: {v: x}\n");
  write("pod.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {t: old}\n");

  it.each([
    ["a missing resource", "resources: [cm.yaml, nope.yaml]", "resource ../nope.yaml does not exist"],
    [
      "an unused image",
      "resources: [cm.yaml]\nimages: [{name: x/y, newTag: '1'}]",
      "image x/y matches no container",
    ],
    [
      "a missing replacement source",
      "resources: [pod.yaml]\nreplacements:\n- source: {kind: ConfigMap, name: p, fieldPath: data.v}\n  targets: []",
      "replacement source",
    ],
    [
      "a missing target field",
      "resources: [cm.yaml, pod.yaml]\nreplacements:\n- source: {kind: ConfigMap, name: p, fieldPath: data.v}\n  targets: [{select: {kind: Secret}, fieldPaths: [stringData.u]}]",
      "Secret has no stringData.u",
    ],
  ])("%s", (name, body, problem) => {
    const sub = name.replace(/\W/g, "_");
    write(`${sub}/kustomization.yaml`, `kind: Kustomization\n${body.replaceAll(/(\w+\.yaml)/g, "../$1")}\n`);
    expect(kustomizeBuild(join(dir, sub)).problems.join("\n")).toContain(problem);
  });

  it("applies a replacement into a [name=…] list element", () => {
    write(
      "w.yaml",
      "kind: WasmPlugin\nmetadata: {name: w}\nspec: {vmConfig: {env: [{name: A, value: old}]}}\n",
    );
    write(
      "ok/kustomization.yaml",
      "resources: [../cm.yaml, ../w.yaml]\nreplacements:\n- source: {kind: ConfigMap, name: p, fieldPath: data.v}\n  targets: [{select: {kind: WasmPlugin}, fieldPaths: ['spec.vmConfig.env.[name=A].value']}]\n",
    );
    const built = kustomizeBuild(join(dir, "ok"));
    expect(built.problems).toEqual([]);
    const plugin = built.objects.find((o) => o.kind === "WasmPlugin") as Obj;
    expect(plugin.spec.vmConfig.env[0].value).toBe("x");
  });
});
