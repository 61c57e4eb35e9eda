/**
 * The part of `kustomize build` the install manifests use (resources, components, images,
 * replacements, local-config), so the tests can check what `kubectl apply -k` would really apply.
 * Anything kustomize itself would reject (a missing file, a source or field path that does not
 * exist, an image override that matches nothing) is reported as a problem.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "./validators.js";

/** Output of a build: the objects and everything kustomize would have refused. */
export interface Build {
  objects: KubeObject[];
  problems: string[];
}

interface Selector {
  kind?: string;
  name?: string;
}
interface Replacement {
  source: Selector & { fieldPath: string };
  targets: { select: Selector; fieldPaths: string[] }[];
}
interface Kustomization {
  kind?: string;
  resources?: string[];
  components?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replacements?: Replacement[];
}

/** Parses every document of a YAML file; parse errors become problems. */
export function readObjects(path: string, problems: string[]): KubeObject[] {
  const docs = parseAllDocuments(readFileSync(path, "utf8"));
  const objects: KubeObject[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) problems.push(`${path}: ${e.message}`);
    const value = doc.toJS() as KubeObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

function matches(obj: KubeObject, sel: Selector): boolean {
  const name = (obj.metadata as { name?: string } | undefined)?.name;
  return (sel.kind === undefined || sel.kind === obj.kind) && (sel.name === undefined || sel.name === name);
}

/** Splits `a.b.[name=x].c` into segments, keeping the bracketed selector whole. */
function segments(fieldPath: string): string[] {
  return fieldPath.match(/\[[^\]]*\]|[^.]+/g) ?? [];
}

/** The parent container and the last segment of `fieldPath`, or undefined if the path is absent. */
function locate(
  obj: unknown,
  fieldPath: string,
): { parent: Record<string, unknown>; key: string } | undefined {
  const parts = segments(fieldPath);
  let node: unknown = obj;
  for (const part of parts.slice(0, -1)) {
    const select = /^\[(\w+)=(.*)\]$/.exec(part);
    if (select && Array.isArray(node)) node = node.find((item) => item?.[select[1]!] === select[2]);
    else if (node !== null && typeof node === "object") node = (node as Record<string, unknown>)[part];
    else return undefined;
  }
  const key = parts.at(-1)!;
  if (node === null || typeof node !== "object" || !(key in node)) return undefined;
  return { parent: node as Record<string, unknown>, key };
}

function replace(objects: KubeObject[], r: Replacement, where: string, problems: string[]): void {
  const source = objects.find((o) => matches(o, r.source));
  const at = source && locate(source, r.source.fieldPath);
  if (!at) {
    problems.push(`${where}: replacement source ${JSON.stringify(r.source)} not found`);
    return;
  }
  const value = at.parent[at.key];
  for (const target of r.targets) {
    for (const obj of objects.filter((o) => matches(o, target.select))) {
      for (const fieldPath of target.fieldPaths) {
        const dest = locate(obj, fieldPath);
        if (dest) dest.parent[dest.key] = value;
        else problems.push(`${where}: ${obj.kind} has no ${fieldPath} to replace`);
      }
    }
  }
}

function setImages(objects: KubeObject[], k: Kustomization, where: string, problems: string[]): void {
  for (const image of k.images ?? []) {
    let used = false;
    for (const obj of objects) {
      const pod = (obj.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)
        ?.template?.spec;
      for (const c of pod?.containers ?? []) {
        if (c.image?.split(":")[0] !== image.name) continue;
        c.image = `${image.newName ?? image.name}:${image.newTag ?? c.image.split(":")[1] ?? "latest"}`;
        used = true;
      }
    }
    if (!used) problems.push(`${where}: image ${image.name} matches no container`);
  }
}

function build(dir: string, problems: string[]): KubeObject[] {
  const file = join(dir, "kustomization.yaml");
  if (!existsSync(file)) {
    problems.push(`${dir}: no kustomization.yaml`);
    return [];
  }
  const k = readObjects(file, problems)[0] as Kustomization;
  const objects: KubeObject[] = [];
  for (const r of k.resources ?? []) {
    const path = join(dir, r);
    if (!existsSync(path)) problems.push(`${file}: resource ${r} does not exist`);
    else if (statSync(path).isDirectory()) objects.push(...build(path, problems));
    else objects.push(...readObjects(path, problems));
  }
  for (const c of k.components ?? []) {
    const componentFile = join(dir, c, "kustomization.yaml");
    const component = existsSync(componentFile)
      ? (readObjects(componentFile, problems)[0] as Kustomization)
      : {};
    if (component.kind !== "Component") problems.push(`${file}: component ${c} is not a kustomize Component`);
    else objects.push(...build(join(dir, c), problems));
    for (const r of component.replacements ?? []) replace(objects, r, componentFile, problems);
  }
  setImages(objects, k, file, problems);
  if (k.kind !== "Component") for (const r of k.replacements ?? []) replace(objects, r, file, problems);
  return objects;
}

function isLocalConfig(obj: KubeObject): boolean {
  const annotations = (obj.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
  return annotations?.["config.kubernetes.io/local-config"] === "true";
}

/** Builds the kustomization in `dir` like `kustomize build dir`. */
export function kustomizeBuild(dir: string): Build {
  const problems: string[] = [];
  const objects = build(dir, problems).filter((o) => !isLocalConfig(o));
  return { objects, problems };
}
