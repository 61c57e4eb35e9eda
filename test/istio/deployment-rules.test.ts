/**
 * The controller Deployment under the rules Kubernetes applies to it, on the manifests kustomize
 * builds: the Deployment controller's rolling update (maxSurge rounded up, maxUnavailable rounded
 * down, old pods scaled down only while replicas − maxUnavailable stay available, unready old pods
 * first), its Available condition (available ≥ replicas − maxUnavailable) and the PodDisruptionBudget's
 * allowed disruptions (healthy − minAvailable). Pods become ready by a readiness rule: "every replica"
 * (what /readyz does now) or "the leader only" (what it did), with the Lease passing to the oldest
 * remaining pod when the leader's pod goes. No cluster runs here; this is the arithmetic the
 * controllers do, applied to our numbers.
 */
import { describe, expect, it } from "vitest";
import { kustomizeBuild } from "./kustomize.js";

// biome-ignore lint/suspicious/noExplicitAny: manifests navigated freely
type Yaml = any;
const objects = kustomizeBuild("istio").objects as Yaml[];
const deployment = objects.find(
  (o) => o.kind === "Deployment" && o.metadata.name === "meshcanary-controller",
);
const pdb = objects.find(
  (o) => o.kind === "PodDisruptionBudget" && o.metadata.name === "meshcanary-controller",
);

type Readiness = "every replica" | "leader only";
interface Pod {
  id: number;
  template: "old" | "new";
  ready: boolean;
}

/** Resolves an int-or-percent of replicas the way the Deployment controller does. */
function resolve(
  value: number | string | undefined,
  replicas: number,
  fallback: string,
  roundUp: boolean,
): number {
  const v = value ?? fallback;
  if (typeof v === "number") return v;
  const exact = (Number.parseFloat(v) / 100) * replicas;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** Runs a rolling update from the old to the new template; returns what was observed at each step. */
function rollOut(d: Yaml, readiness: Readiness, steps = 60) {
  const replicas: number = d.spec.replicas ?? 1;
  const rolling = d.spec.strategy?.rollingUpdate ?? {};
  const maxSurge = resolve(rolling.maxSurge, replicas, "25%", true);
  let maxUnavailable = resolve(rolling.maxUnavailable, replicas, "25%", false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const minAvailable = replicas - maxUnavailable;
  let nextId = 0;
  let pods: Pod[] = Array.from({ length: replicas }, () => ({ id: nextId++, template: "old", ready: false }));
  let leader = 0;
  const markReady = () => {
    if (!pods.some((p) => p.id === leader)) leader = Math.min(...pods.map((p) => p.id));
    for (const p of pods) p.ready = readiness === "every replica" || p.id === leader;
  };
  markReady();
  const available = () => pods.filter((p) => p.ready).length;
  const availableAtStart = available() >= minAvailable;
  const readyCounts: number[] = [];
  for (let step = 0; step < steps; step++) {
    const fresh = pods.filter((p) => p.template === "new");
    const allowed = replicas + maxSurge - pods.length;
    const create = Math.max(0, Math.min(replicas - fresh.length, allowed));
    for (let i = 0; i < create; i++) pods.push({ id: nextId++, template: "new", ready: false });
    const newUnready = pods.filter((p) => p.template === "new" && !p.ready).length;
    let budget = pods.length - minAvailable - newUnready;
    for (const p of pods.filter((x) => x.template === "old" && !x.ready)) {
      if (budget <= 0) break;
      pods = pods.filter((x) => x !== p);
      budget--;
    }
    let removable = Math.min(budget, available() - minAvailable);
    for (const p of pods.filter((x) => x.template === "old" && x.ready)) {
      if (removable <= 0) break;
      pods = pods.filter((x) => x !== p);
      removable--;
    }
    markReady();
    readyCounts.push(available());
    const done = pods.length === replicas && pods.every((p) => p.template === "new" && p.ready);
    if (done) return { availableAtStart, completed: true, steps: step + 1, readyCounts, minAvailable };
  }
  return { availableAtStart, completed: false, steps, readyCounts, minAvailable };
}

/** Evictions the PDB allows with every replica running. */
function disruptionsAllowed(d: Yaml, readiness: Readiness): number {
  const replicas: number = d.spec.replicas;
  const healthy = readiness === "every replica" ? replicas : 1;
  return Math.max(0, healthy - pdb.spec.minAvailable);
}

describe("controller Deployment under Kubernetes' rollout and disruption rules", () => {
  it("the manifests: 2 replicas, surge one before stopping one, a PDB keeping one", () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(pdb.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: deployment.spec.selector.matchLabels },
    });
  });

  it("with every replica ready: Available, an update completes with a ready replica at every step, drains allowed", () => {
    const run = rollOut(deployment, "every replica");
    expect(run.availableAtStart).toBe(true);
    expect(run.completed).toBe(true);
    expect(Math.min(...run.readyCounts)).toBeGreaterThanOrEqual(run.minAvailable);
    expect(disruptionsAllowed(deployment, "every replica")).toBe(1);
  });

  it("with only the leader ready (the old /readyz): never Available, the update never completes, no drain", () => {
    const run = rollOut(deployment, "leader only");
    expect(run.availableAtStart).toBe(false);
    expect(run.completed).toBe(false);
    expect(disruptionsAllowed(deployment, "leader only")).toBe(0);
    // Not an artefact of our strategy: Kubernetes' default (25%/25%) gets stuck the same way.
    const defaults = { ...deployment, spec: { ...deployment.spec, strategy: undefined } };
    expect(rollOut(defaults, "leader only").completed).toBe(false);
    expect(rollOut(defaults, "every replica").completed).toBe(true);
  });
});
