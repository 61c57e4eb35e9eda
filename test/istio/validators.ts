/**
 * Schema validation for every kind the install manifests use: Istio kinds with the validators of
 * @kubernetes-models/istio (generated from Istio's CRDs), core kinds with kubernetes-models, and
 * the Canary with ajv against the openAPIV3Schema of our generated CRD.
 */
import { WasmPlugin } from "@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin";
import { DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { AuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication";
import { Ajv } from "ajv";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";

/** A Kubernetes object as parsed from YAML. */
export type KubeObject = { apiVersion?: string; kind?: string; [key: string]: unknown };

/** Returns the schema errors of `obj` (empty when valid). */
export type Validator = (obj: KubeObject) => string[];

type ModelClass = new (data: never) => { validate(): void };

function fromModel(model: ModelClass): Validator {
  return (obj) => {
    try {
      new model(obj as never).validate();
      return [];
    } catch (err) {
      return [err instanceof Error ? err.message : String(err)];
    }
  };
}

const MODELS: Record<string, ModelClass> = {
  "extensions.istio.io/v1alpha1/WasmPlugin": WasmPlugin,
  "networking.istio.io/v1/VirtualService": VirtualService,
  "networking.istio.io/v1/DestinationRule": DestinationRule,
  "security.istio.io/v1/PeerAuthentication": PeerAuthentication,
  "security.istio.io/v1/AuthorizationPolicy": AuthorizationPolicy,
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": CustomResourceDefinition,
};

/** An OpenAPI v3 schema node as a structural CRD schema uses it. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  [key: string]: unknown;
}

/**
 * Fields the API server would prune (or reject with strict field validation): keys not declared
 * in `properties` where the schema neither preserves unknown fields nor allows additional ones.
 */
export function unknownFields(value: unknown, schema: SchemaNode, path = ""): string[] {
  if (schema["x-kubernetes-preserve-unknown-fields"]) return [];
  if (Array.isArray(value)) {
    return schema.items ? value.flatMap((v, i) => unknownFields(v, schema.items!, `${path}[${i}]`)) : [];
  }
  if (value === null || typeof value !== "object") return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    // The API server validates metadata as ObjectMeta and always keeps apiVersion/kind, whatever the
    // CRD says (Istio's CRDs declare neither at the root).
    if (path === "" && ["metadata", "apiVersion", "kind"].includes(key)) continue;
    const childPath = path === "" ? key : `${path}.${key}`;
    const declared = schema.properties?.[key];
    const extra = schema.additionalProperties;
    if (declared) found.push(...unknownFields(child, declared, childPath));
    else if (typeof extra === "object") found.push(...unknownFields(child, extra, childPath));
    else if (extra !== true) found.push(childPath);
  }
  return found;
}

/**
 * Turns an OpenAPI v3.0 schema into the JSON Schema ajv validates: boolean exclusiveMinimum/
 * exclusiveMaximum become numbers, and `nullable: true` admits null.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === "properties" || key === "items" || key === "additionalProperties" ? toJsonSchema(value) : value;
    if (key === "properties" && value !== null && typeof value === "object") {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v)]));
    }
    if (["allOf", "anyOf", "oneOf", "not"].includes(key)) out[key] = toJsonSchema(value);
  }
  for (const [flag, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (out[flag] === true) {
      out[flag] = out[bound];
      delete out[bound];
    } else if (out[flag] === false) {
      delete out[flag];
    }
  }
  if (out.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  delete out.nullable;
  return out;
}

/** Validator for custom resources served by `crd` (schema errors plus pruned fields). */
export function crdValidator(crd: KubeObject): Map<string, Validator> {
  const spec = crd.spec as {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: SchemaNode } }[];
  };
  // The formats published CRDs use, accepted unchecked (ajv knows none without ajv-formats and
  // would print a warning per use); the API server checks them.
  const formats = Object.fromEntries(
    ["date-time", "int32", "int64", "ipv4", "ipv6"].map((f) => [f, true as const]),
  );
  const ajv = new Ajv({ strict: false, allErrors: true, formats });
  const byType = new Map<string, Validator>();
  for (const version of spec.versions) {
    const schema = version.schema.openAPIV3Schema;
    const check = ajv.compile(toJsonSchema(schema) as object);
    byType.set(`${spec.group}/${version.name}/${spec.names.kind}`, (obj) => {
      const errors = check(obj)
        ? []
        : (check.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
      return [...errors, ...unknownFields(obj, schema).map((p) => `${p}: unknown field`)];
    });
  }
  return byType;
}

/** The validator for `apiVersion`/`kind`, from the models or the given CRD validators. */
export function validatorFor(obj: KubeObject, crds: Map<string, Validator>): Validator | undefined {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const model = MODELS[key];
  return model ? fromModel(model) : crds.get(key);
}
