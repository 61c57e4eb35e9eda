/**
 * Per-type behaviour the real API server applies on write: namespaces become Active, secrets fold
 * stringData into base64 data, CustomResourceDefinitions report Established.
 */
import type { KubeObject, ResourceType } from "./types.js";

function isType(type: ResourceType, group: string, plural: string): boolean {
  return type.group === group && type.plural === plural;
}

/** Applies the type's server-side defaults to a fresh copy of obj being created or replaced. */
export function applyDefaults(type: ResourceType, obj: KubeObject): void {
  if (isType(type, "", "namespaces")) {
    obj.spec ??= { finalizers: ["kubernetes"] };
    obj.status = { phase: "Active" };
  } else if (isType(type, "", "secrets")) {
    foldStringData(obj);
  } else if (isType(type, "apiextensions.k8s.io", "customresourcedefinitions")) {
    obj.status = crdStatus(obj);
  }
}

function foldStringData(obj: KubeObject): void {
  const stringData = obj.stringData as Record<string, string> | undefined;
  if (!stringData) return;
  const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
  for (const [k, v] of Object.entries(stringData))
    data[k] = Buffer.from(String(v), "utf8").toString("base64");
  obj.data = data;
  delete obj.stringData;
  obj.type ??= "Opaque";
}

function crdStatus(crd: KubeObject): Record<string, unknown> {
  const spec = (crd.spec ?? {}) as Record<string, unknown>;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const versions = Array.isArray(spec.versions) ? (spec.versions as Record<string, unknown>[]) : [];
  return {
    acceptedNames: spec.names ?? {},
    storedVersions: versions.filter((v) => v.storage === true).map((v) => v.name),
    conditions: [
      {
        type: "NamesAccepted",
        status: "True",
        reason: "NoConflicts",
        message: "no conflicts found",
        lastTransitionTime: now,
      },
      {
        type: "Established",
        status: "True",
        reason: "InitialNamesAccepted",
        message: "the initial names have been accepted",
        lastTransitionTime: now,
      },
    ],
  };
}
