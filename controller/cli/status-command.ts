/**
 * `status [name]`: one Canary as a tree (or all of a namespace as a table), `--output json|yaml`
 * for scripts, `--watch` to print again on every change until interrupted.
 */
import { type Command, Option } from "commander";
import { type CanaryObject, getCanary, listCanaries, watchCanaries } from "../kube/canaries.js";
import { formatStatus, formatSummary } from "./format-status.js";
import {
  addKubeOptions,
  type KubeTarget,
  type KubeTargetOptions,
  kubeFailure,
  kubeTarget,
} from "./kube-target.js";
import { type StatusView, statusView } from "./status-view.js";
import { toYaml } from "./yaml-documents.js";

/** Output formats of `status`. */
export type StatusFormat = "text" | "json" | "yaml";

interface StatusOptions extends KubeTargetOptions {
  output: StatusFormat;
  watch?: boolean;
  allNamespaces?: boolean;
}

export function registerStatusCommand(cli: Command): void {
  addKubeOptions(cli.command("status"))
    .description("show a Canary's phase, step, weights, conditions, last decision and history")
    .argument("[canary]", "name of the Canary (default: a table of all Canaries in the namespace)")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json", "yaml"]).default("text"),
    )
    .option("-w, --watch", "print again on every change until interrupted")
    .option("-A, --all-namespaces", "without a name: list the Canaries of all namespaces")
    .action(async (name: string | undefined, options: StatusOptions) => {
      const target = kubeTarget(options);
      const namespace = options.allNamespaces && name === undefined ? undefined : target.namespace;
      const write = (text: string) => process.stdout.write(text);
      if (!options.watch) {
        write(render(await readViews(target, namespace, name), name, options.output));
        return;
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        await watchStatus(target, namespace, name, options.output, write, stop.signal);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

/** The named Canary (not found → exit 3) or all Canaries of the namespace (all namespaces if undefined). */
async function readViews(target: KubeTarget, namespace: string | undefined, name: string | undefined) {
  const { kc } = target;
  if (name !== undefined) {
    const got = await getCanary(kc, namespace ?? target.namespace, name);
    if (!got.ok) throw kubeFailure(kc, got.error, `canary ${namespace}/${name}`);
    return [statusView(got.value)];
  }
  const listed = await listCanaries(kc, namespace);
  if (!listed.ok) throw kubeFailure(kc, listed.error, `canaries in ${namespace ?? "all namespaces"}`);
  return listed.value.map(statusView).sort(byId);
}

/** Output text for views: a tree for one named Canary, a table otherwise; JSON/YAML keep that shape. */
export function render(views: StatusView[], name: string | undefined, format: StatusFormat): string {
  const data = name !== undefined ? views[0] : views;
  if (format === "json") return `${JSON.stringify(data, null, 2)}\n`;
  if (format === "yaml") return toYaml(data);
  const lines = name !== undefined && views[0] ? formatStatus(views[0]) : formatSummary(views);
  return `${lines.join("\n")}\n`;
}

/**
 * Prints the status now and after every change (JSON: one compact line per change) until `signal`
 * aborts or the named Canary is deleted. A missing named Canary is exit 3 before anything is printed.
 */
export async function watchStatus(
  target: KubeTarget,
  namespace: string | undefined,
  name: string | undefined,
  format: StatusFormat,
  write: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const initial = await readViews(target, namespace, name);
  const views = new Map(initial.map((v) => [idOf(v), v]));
  let last = "";
  const print = () => {
    const current = [...views.values()].sort(byId);
    const text =
      format === "json"
        ? `${JSON.stringify(name !== undefined ? current[0] : current)}\n`
        : render(current, name, format);
    if (text === last) return;
    write(last === "" || format === "json" ? text : `${separator(format)}${text}`);
    last = text;
  };
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const matches = (c: CanaryObject) => name === undefined || c.metadata.name === name;
  const upsert = (c: CanaryObject) => {
    if (!matches(c)) return;
    const view = statusView(c);
    views.set(idOf(view), view);
    print();
  };
  print();
  const watch = await watchCanaries(
    target.kc,
    {
      onAdd: upsert,
      onUpdate: upsert,
      onDelete: (c) => {
        if (!matches(c)) return;
        views.delete(`${c.metadata.namespace}/${c.metadata.name}`);
        if (name === undefined) print();
        else {
          write(`canary ${c.metadata.namespace}/${name} deleted\n`);
          done();
        }
      },
    },
    namespace === undefined ? {} : { namespace },
  );
  if (!watch.ok) throw kubeFailure(target.kc, watch.error, "watch of canaries");
  if (signal.aborted) done();
  signal.addEventListener("abort", () => done(), { once: true });
  try {
    await finished;
  } finally {
    await watch.value.stop();
  }
}

function separator(format: StatusFormat): string {
  return format === "yaml" ? "---\n" : "\n";
}

function idOf(view: StatusView): string {
  return `${view.namespace}/${view.name}`;
}

function byId(a: StatusView, b: StatusView): number {
  return idOf(a).localeCompare(idOf(b));
}
