/**
 * `status [name]`: one Canary as a tree (or all of a namespace as a table), `--output json|yaml`
 * for scripts, `--watch` to redraw on every change (in place on a terminal) until the rollout ends.
 */
import { type Command, Option } from "commander";
import { type CanaryObject, getCanary, listCanaries, watchCanaries } from "../kube/canaries.js";
import { positiveDurationOption } from "./duration-option.js";
import { CliError, EXIT } from "./exit.js";
import { formatStatus, formatSummary } from "./format-status.js";
import {
  addKubeOptions,
  type KubeTarget,
  type KubeTargetOptions,
  kubeFailure,
  kubeTarget,
} from "./kube-target.js";
import { type StatusView, statusView } from "./status-view.js";
import { TERMINAL_PHASES } from "../rollout/commands.js";
import { toYaml } from "./yaml-documents.js";

/** Output formats of `status`. */
export type StatusFormat = "text" | "json" | "yaml";

interface StatusOptions extends KubeTargetOptions {
  output: StatusFormat;
  watch?: boolean;
  allNamespaces?: boolean;
  /** With --watch: how long the API may stay unreachable before exit 5. */
  lostAfter: string;
}

export function registerStatusCommand(cli: Command): void {
  addKubeOptions(cli.command("status"))
    .description("show a Canary's phase, step, weights, conditions, last decision and history")
    .argument("[canary]", "name of the Canary (default: a table of all Canaries in the namespace)")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json", "yaml"]).default("text"),
    )
    .option(
      "-w, --watch",
      "redraw on every change; with a name, exit when the rollout ends (exit 5 if the API is lost)",
    )
    .option("-A, --all-namespaces", "without a name: list the Canaries of all namespaces")
    .option("--lost-after <duration>", "with --watch: exit 5 once the API is unreachable this long", "15s")
    .action(async (name: string | undefined, options: StatusOptions) => {
      const lostAfterMs = positiveDurationOption("--lost-after", options.lostAfter);
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
        const redraw = process.stdout.isTTY === true;
        await watchStatus(target, namespace, name, options.output, write, stop.signal, {
          redraw,
          lostAfterMs,
        });
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

/** How `status --watch` behaves beyond what it prints. */
export interface WatchOptions {
  /** Redraw in place (a terminal) instead of printing each state after the last. */
  redraw?: boolean;
  /** The API failing this long ends the watch with exit 5; default 15 s. */
  lostAfterMs?: number;
  /** Where notices about the connection go (not the status output); default stderr. */
  notice?: (text: string) => void;
}

/** Clears the screen and homes the cursor, so each state replaces the last. */
export const REDRAW = "\x1b[H\x1b[2J";

/**
 * Prints the status now and after every change (JSON: one compact line per change) until `signal`
 * aborts, the named Canary is deleted or reaches a terminal phase with no command pending, or the
 * API stays unreachable for `lostAfterMs` (exit 5). A missing named Canary is exit 3 before anything
 * is printed.
 */
export async function watchStatus(
  target: KubeTarget,
  namespace: string | undefined,
  name: string | undefined,
  format: StatusFormat,
  write: (text: string) => void,
  signal: AbortSignal,
  options: WatchOptions = {},
): Promise<void> {
  const initial = await readViews(target, namespace, name);
  const views = new Map(initial.map((v) => [idOf(v), v]));
  let settle: (error?: Error) => void = () => undefined;
  // Once settled, the watch is being stopped: its abort is not a lost connection.
  let settled = false;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error) => {
      settled = true;
      if (error) reject(error);
      else resolve();
    };
  });
  let last = "";
  const print = () => {
    const current = [...views.values()].sort(byId);
    const text =
      format === "json"
        ? `${JSON.stringify(name !== undefined ? current[0] : current)}\n`
        : render(current, name, format);
    if (text !== last) {
      const lead = last === "" || format === "json" ? "" : separator(format);
      write(options.redraw && format === "text" ? `${REDRAW}${text}` : `${lead}${text}`);
      last = text;
    }
    const view = current[0];
    if (name !== undefined && view && TERMINAL_PHASES.has(view.phase) && !view.pendingCommand) settle();
  };
  const matches = (c: CanaryObject) => name === undefined || c.metadata.name === name;
  const upsert = (c: CanaryObject) => {
    if (!matches(c)) return;
    const view = statusView(c);
    views.set(idOf(view), view);
    print();
  };
  const notice = options.notice ?? ((text: string) => process.stderr.write(text));
  const lost = connectionProbe(target, namespace, options.lostAfterMs ?? 15_000, notice, (error) =>
    settle(new CliError(`lost the connection to the Kubernetes API: ${error}`, EXIT.apiLost)),
  );
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
          settle();
        }
      },
      onError: (error) => {
        if (!settled) lost.failed(error);
      },
    },
    namespace === undefined ? {} : { namespace },
  );
  if (!watch.ok) throw kubeFailure(target.kc, watch.error, "watch of canaries");
  if (signal.aborted) settle();
  signal.addEventListener("abort", () => settle(), { once: true });
  try {
    await finished;
  } finally {
    lost.stop();
    await watch.value.stop();
  }
}

/**
 * After a watch error, lists the Canaries once a second: an answer clears it, failing for
 * `lostAfterMs` calls `onLost`. The informer restarts the watch by itself meanwhile.
 */
function connectionProbe(
  target: KubeTarget,
  namespace: string | undefined,
  lostAfterMs: number,
  notice: (text: string) => void,
  onLost: (error: string) => void,
): { failed(error: string): void; stop(): void } {
  let since: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const probe = async () => {
    const listed = await listCanaries(target.kc, namespace, { attempts: 1, baseDelayMs: 0, timeoutMs: 3000 });
    if (since === undefined) return;
    if (listed.ok) {
      since = undefined;
      return;
    }
    if (Date.now() - since >= lostAfterMs) onLost(listed.error.message);
    else timer = setTimeout(probe, 1000);
  };
  return {
    failed(error) {
      if (since !== undefined) return;
      since = Date.now();
      notice(`watch interrupted (${error}); retrying for up to ${lostAfterMs / 1000}s\n`);
      timer = setTimeout(probe, 1000);
    },
    stop() {
      since = undefined;
      clearTimeout(timer);
    },
  };
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
