/**
 * The I/O shell that carries out a rollout's effects against the outside world: the VirtualService
 * (applyMesh), Canary status (merge patch), Events, webhooks. Each method reports failures as
 * values; nothing here decides anything.
 */
import type { Logger } from "pino";
import type { CanaryObject } from "../kube/canaries.js";
import type { EventNote, EventRecorder } from "../kube/events.js";
import type { HttpRouteStore } from "../kube/http-routes.js";
import type { VirtualServiceStore } from "../kube/virtual-services.js";
import { type ApplyOutcome, applyMesh } from "../mesh/apply.js";
import { applyHttpRoute } from "../mesh/apply-http-route.js";
import { planHttpRoute } from "../mesh/plan-http-route.js";
import { planVirtualService } from "../mesh/plan-virtual-service.js";
import type { MeshIntent } from "../mesh/types.js";
import type { Notifier, WebhookPayload, WebhookTarget } from "../notify/webhooks.js";
import type { SpecWithDefaults } from "../spec/defaults.js";
import { backendOf, routingTarget } from "../spec/routing-target.js";
import type { RoutingObject } from "./resume-point.js";
import { API_VERSION, KIND } from "../spec/schema.js";

/** Status writes, injected so the runner does not import the Kubernetes client. */
export type StatusWriter = (
  namespace: string,
  name: string,
  patch: Record<string, unknown>,
) => Promise<string | undefined>;

/** Finalizer list writes (conditional on the object's resourceVersion); an error message on failure. */
export type FinalizerWriter = (canary: CanaryObject, finalizers: string[]) => Promise<string | undefined>;

export interface RunnerDeps {
  store: VirtualServiceStore;
  /** HTTPRoutes, for Canaries with spec.httpRoute. */
  httpRoutes: HttpRouteStore;
  writeStatus: StatusWriter;
  writeFinalizers: FinalizerWriter;
  recorder: EventRecorder;
  notifier: Notifier;
  logger: Logger;
}

export class Runner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Reconciles the VirtualService or HTTPRoute to an intent (writes only on change). */
  applyMesh(canary: CanaryObject, intent: MeshIntent): Promise<ApplyOutcome> {
    const target = routingTarget(canary.spec as SpecWithDefaults);
    const ref = { namespace: canary.metadata.namespace, name: target.name };
    if (target.kind === "HTTPRoute") return applyHttpRoute(this.deps.httpRoutes, ref, intent);
    return applyMesh(this.deps.store, ref, intent, { checkSubsets: intent.active });
  }

  /** The Canary's routing object (VirtualService or HTTPRoute) as it is now, or the read's error message. */
  async readRouting(canary: CanaryObject): Promise<RoutingObject | { error: string }> {
    const target = routingTarget(canary.spec as SpecWithDefaults);
    const ns = canary.metadata.namespace;
    if (target.kind === "HTTPRoute") {
      const route = await this.deps.httpRoutes.get(ns, target.name);
      return route.ok ? { kind: "HTTPRoute", route: route.value } : { error: route.error.message };
    }
    const vs = await this.deps.store.get(ns, target.name);
    return vs.ok ? { kind: "VirtualService", vs: vs.value } : { error: vs.error.message };
  }

  /** Whether the VirtualService and both subsets exist and the target route can be split; else what is missing. */
  async checkMesh(
    canary: CanaryObject,
    spec: SpecWithDefaults,
    intent: MeshIntent,
  ): Promise<true | { missing: string[] }> {
    const ns = canary.metadata.namespace;
    const target = routingTarget(spec);
    if (target.kind === "HTTPRoute") {
      const route = await this.deps.httpRoutes.get(ns, target.name);
      if (!route.ok) return { missing: [`HTTPRoute ${ns}/${target.name} (${route.error.message})`] };
      const plan = planHttpRoute(route.value, intent);
      return "error" in plan ? { missing: [plan.error] } : true;
    }
    const vs = await this.deps.store.get(ns, target.name);
    if (!vs.ok) return { missing: [`VirtualService ${ns}/${target.name} (${vs.error.message})`] };
    const subsets = await this.deps.store.listDestinationRuleSubsets(ns, spec.host);
    if (!subsets.ok)
      return { missing: [`DestinationRule subsets for ${spec.host} (${subsets.error.message})`] };
    const missing = [backendOf(spec.stable), backendOf(spec.canary)]
      .filter((s) => !subsets.value.includes(s))
      .map((s) => `DestinationRule subset ${s} of ${spec.host}`);
    if (missing.length > 0) return { missing };
    const plan = planVirtualService(vs.value, intent, { subsets: subsets.value });
    return "error" in plan ? { missing: [plan.error] } : true;
  }

  async writeStatus(canary: CanaryObject, patch: Record<string, unknown>): Promise<boolean> {
    const error = await this.deps.writeStatus(canary.metadata.namespace, canary.metadata.name, patch);
    if (error === undefined) return true;
    this.deps.logger.warn({ canary: idOf(canary), error }, "status write failed");
    // Status cannot carry this failure, so an Event does (identical ones aggregate into a count).
    await this.event(canary, { type: "Warning", reason: "StatusWriteFailed", message: error });
    return false;
  }

  /** Sets the Canary's finalizers; false (logged) when the write failed, e.g. the object moved on. */
  async setFinalizers(canary: CanaryObject, finalizers: string[]): Promise<boolean> {
    const error = await this.deps.writeFinalizers(canary, finalizers);
    if (error === undefined) return true;
    this.deps.logger.warn({ canary: idOf(canary), error }, "finalizer write failed");
    return false;
  }

  async event(canary: CanaryObject, note: EventNote): Promise<void> {
    const about = {
      apiVersion: API_VERSION,
      kind: KIND,
      namespace: canary.metadata.namespace,
      name: canary.metadata.name,
      ...(canary.metadata.uid ? { uid: canary.metadata.uid } : {}),
    };
    const recorded = await this.deps.recorder.record(about, note);
    if (!recorded.ok)
      this.deps.logger.warn({ canary: idOf(canary), error: recorded.error.message }, "event not recorded");
  }

  webhook(targets: readonly WebhookTarget[], payload: WebhookPayload): void {
    this.deps.notifier.notify(targets, payload);
  }
}

export function idOf(canary: CanaryObject): string {
  return `${canary.metadata.namespace}/${canary.metadata.name}`;
}
