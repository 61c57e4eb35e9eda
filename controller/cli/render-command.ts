/**
 * `render <canary.yaml> [--virtual-service vs.yaml | --http-route route.yaml]`: what the controller
 * would produce for the Canary's current step (its status), or its first step when it has not
 * started: the Canary with defaults filled in, the VirtualService or HTTPRoute, and the filter
 * configuration (WasmPlugin pluginConfig).
 * Uses the controller's own mappings (withDefaults, planRollout, meshIntentFor, planVirtualService,
 * routeTable); only the Directive route → pluginConfig JSON renaming (weightBp → weight) lives here.
 */
import { type Command, Option } from "commander";
import { type RouteTable, routeTable } from "../app/directive.js";
import { meshIntentFor } from "../app/mesh-intent.js";
import type { HttpRouteObject } from "../mesh/http-route-types.js";
import { planHttpRoute } from "../mesh/plan-http-route.js";
import { planVirtualService } from "../mesh/plan-virtual-service.js";
import type { VirtualService } from "../mesh/types.js";
import { planRollout } from "../rollout/plan.js";
import { stateFromStatus } from "../rollout/status.js";
import type { RolloutState } from "../rollout/types.js";
import { type SpecWithDefaults, withDefaults } from "../spec/defaults.js";
import { backendOf } from "../spec/routing-target.js";
import type { Canary } from "../spec/schema.js";
import { validateCanary } from "../spec/validate.js";
import { CliError, EXIT } from "./exit.js";
import { readYamlDocuments, toYaml } from "./yaml-documents.js";

interface RenderOptions {
  virtualService?: string;
  httpRoute?: string;
  output: "yaml" | "json";
}

/** What render produces for one Canary. */
export interface Rendering {
  canary: Canary & { spec: SpecWithDefaults };
  /** The routing object as the controller would write it (spec.virtualService). */
  virtualService?: VirtualService;
  /** The routing object as the controller would write it (spec.httpRoute). */
  httpRoute?: HttpRouteObject;
  /** WasmPlugin spec.pluginConfig carrying this Canary's route (docs/filter-config.md). */
  filterConfig: { routes: FilterRoute[] };
  /** Which step was rendered, e.g. "step 1/4 (canary 1%)". */
  rendered: string;
}

/** One route of the filter configuration (docs/filter-config.md). */
export type FilterRoute = Omit<RouteTable[number], "variants" | "sticky"> & {
  variants: Array<{ name: string; weight: number }>;
  sticky?: { header: string } | { cookie: string };
};

export function registerRenderCommand(cli: Command): void {
  cli
    .command("render")
    .description(
      "print the Canary with defaults, the VirtualService or HTTPRoute and the filter config the controller would produce for its current (or first) step",
    )
    .argument("<canary-file>", "YAML file with the Canary (multi-document files are searched for it)")
    .option(
      "--virtual-service <file>",
      "the user's VirtualService (default: one route sending the host to the stable subset)",
    )
    .option("--http-route <file>", "the user's HTTPRoute, for a Canary with spec.httpRoute (required there)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .action((file: string, options: RenderOptions) => {
      const canaries = readYamlDocuments(file).filter((d) => kindOf(d.value) === "Canary");
      if (canaries.length === 0) throw new CliError(`${file}: no document of kind Canary`, EXIT.failed);
      const routing = options.virtualService ?? options.httpRoute;
      const services = routing ? readYamlDocuments(routing) : [];
      const renderings = canaries.map((doc) => {
        const result = renderCanary(
          doc.value,
          services.map((s) => s.value),
        );
        if ("error" in result) throw new CliError(`${file} (${doc.label}): ${result.error}`, EXIT.failed);
        return result;
      });
      process.stdout.write(
        options.output === "json"
          ? `${JSON.stringify(renderings.length === 1 ? renderings[0] : renderings, null, 2)}\n`
          : renderings.map(asYaml).join("---\n"),
      );
    });
}

/** Renders one parsed Canary against the given parsed documents (VirtualServices among them). */
export function renderCanary(doc: unknown, documents: unknown[]): Rendering | { error: string } {
  const checked = validateCanary(doc);
  if (!checked.ok) return { error: checked.errors.map((e) => `${e.path}: ${e.message}`).join("; ") };
  const { canary } = checked;
  const spec = withDefaults(canary.spec);
  const plan = planRollout(spec);
  if (plan.unsupported) return { error: `spec.strategy: ${plan.unsupported}` };
  const namespace = canary.metadata.namespace ?? "default";
  const canaryId = `${namespace}/${canary.metadata.name}`;
  const state = stateToRender(plan, canary.status);
  const intent = meshIntentFor(canaryId, spec, state);
  let object: Pick<Rendering, "virtualService" | "httpRoute">;
  if (spec.httpRoute !== undefined) {
    const observed = findHttpRoute(documents, spec.httpRoute.name);
    if ("error" in observed) return observed;
    const planned = intent ? planHttpRoute(observed, intent) : { route: observed, changed: false };
    if ("error" in planned) return { error: `${planned.condition}: ${planned.error}` };
    object = { httpRoute: planned.route };
  } else {
    const observed = findVirtualService(documents, spec, namespace);
    if ("error" in observed) return observed;
    const planned = intent ? planVirtualService(observed, intent) : { vs: observed, changed: false };
    if ("error" in planned) return { error: `${planned.condition}: ${planned.error}` };
    object = { virtualService: planned.vs };
  }
  const routes = routeTable([{ canaryId, spec, state }]).map(filterRoute);
  const step = plan.steps.length === 0 ? "no steps" : `step ${state.step + 1}/${plan.steps.length}`;
  return {
    canary: { ...canary, spec },
    ...object,
    filterConfig: { routes },
    rendered: `${state.phase}, ${step}, canary ${state.weightBp / 100}%`,
  };
}

/** The state in the Canary's status; before the rollout started, its first step at that step's weight. */
function stateToRender(plan: ReturnType<typeof planRollout>, status: Canary["status"]): RolloutState {
  const state = stateFromStatus(plan, status);
  if (state.phase !== "Initializing") return state;
  return {
    ...state,
    phase: "Progressing",
    step: 0,
    weightBp: plan.steps[0]?.weightBp ?? 0,
    routingVersion: 1,
  };
}

function findVirtualService(
  documents: unknown[],
  spec: SpecWithDefaults,
  namespace: string,
): VirtualService | { error: string } {
  const wanted = spec.virtualService?.name ?? "";
  if (documents.length === 0) return assumedVirtualService(spec, namespace);
  const services = documents.filter((d) => kindOf(d) === "VirtualService") as VirtualService[];
  const found = services.find((vs) => vs.metadata?.name === wanted);
  if (found) return found;
  const names = services.map((vs) => vs.metadata?.name ?? "(unnamed)").join(", ") || "none";
  return {
    error: `spec.virtualService.name: no VirtualService "${wanted}" in --virtual-service (found: ${names})`,
  };
}

/** The user's HTTPRoute named by spec.httpRoute: its parents and ports cannot be assumed, so it must be given. */
function findHttpRoute(documents: unknown[], wanted: string): HttpRouteObject | { error: string } {
  const routes = documents.filter((d) => kindOf(d) === "HTTPRoute") as HttpRouteObject[];
  const found = routes.find((r) => r.metadata?.name === wanted);
  if (found) return found;
  if (routes.length === 0) {
    return {
      error: `spec.httpRoute.name: pass the HTTPRoute "${wanted}" with --http-route <file> (its parents and ports cannot be assumed)`,
    };
  }
  const names = routes.map((r) => r.metadata?.name ?? "(unnamed)").join(", ");
  return { error: `spec.httpRoute.name: no HTTPRoute "${wanted}" in --http-route (found: ${names})` };
}

/** The VirtualService a user typically has before a rollout: every request to the stable subset. */
function assumedVirtualService(spec: SpecWithDefaults, namespace: string): VirtualService {
  const route = {
    ...(spec.virtualService?.route !== undefined ? { name: spec.virtualService.route } : {}),
    route: [{ destination: { host: spec.host, subset: backendOf(spec.stable) } }],
  };
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: spec.virtualService?.name ?? "", namespace },
    spec: { hosts: [spec.host], http: [route] },
  };
}

/** A Directive route as the filter's JSON configuration spells it. */
function filterRoute(route: RouteTable[number]): FilterRoute {
  const { variants, sticky, ...rest } = route;
  const stickyKey = sticky.header
    ? { header: sticky.header }
    : sticky.cookie
      ? { cookie: sticky.cookie }
      : undefined;
  return {
    ...rest,
    variants: variants.map((v) => ({ name: v.name, weight: v.weightBp })),
    ...(stickyKey ? { sticky: stickyKey } : {}),
  };
}

function asYaml(r: Rendering): string {
  return [
    `# Canary with defaults (rendered: ${r.rendered})\n${toYaml(r.canary)}`,
    r.httpRoute
      ? `# HTTPRoute as the controller would write it\n${toYaml(r.httpRoute)}`
      : `# VirtualService as the controller would write it\n${toYaml(r.virtualService)}`,
    `# Filter configuration: WasmPlugin spec.pluginConfig (docs/filter-config.md)\n${toYaml(r.filterConfig)}`,
  ].join("---\n");
}

function kindOf(doc: unknown): unknown {
  return doc !== null && typeof doc === "object" ? (doc as { kind?: unknown }).kind : undefined;
}
