/** `meshcanary demo`: a whole canary release on this machine (sandbox: no cluster, no Docker). */
import { Command } from "commander";
import { runLlmDemo } from "./llm-scenario.js";
import { runDemo } from "./run-demo.js";
import type { Fault } from "./scenario-state.js";
import { SHAPES } from "./shapes.js";
import { CliError, EXIT } from "../../controller/cli/exit.js";
import { runStrategyDemo } from "./strategy-demo.js";
import { STRATEGY_SCENARIOS } from "./strategy-scenarios.js";

const SCENARIOS = ["healthy", "faulty", "both", "llm", ...Object.keys(STRATEGY_SCENARIOS)] as const;

/** `error-rate=0.05` (a share, or `5%`) or `latency=+200ms`. */
export function parseFault(text: string): Fault | Error {
  const bad = () =>
    new Error(`--fault: expected error-rate=<0..1 or N%> or latency=+<N>ms, got ${JSON.stringify(text)}`);
  const [key, value] = text.split("=", 2);
  if (value === undefined) return bad();
  if (key === "error-rate") {
    const rate = value.endsWith("%") ? Number(value.slice(0, -1)) / 100 : Number(value);
    return value !== "" && Number.isFinite(rate) && rate > 0 && rate <= 1
      ? { kind: "error-rate", rate }
      : bad();
  }
  if (key === "latency") {
    const m = /^\+?(\d+(?:\.\d+)?)ms$/.exec(value);
    return m && Number(m[1]) > 0 ? { kind: "latency", extraMs: Number(m[1]) } : bad();
  }
  return bad();
}

function positive(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (text === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new CliError(
      `${flag}: expected a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(text)}`,
      EXIT.usage,
    );
  return n;
}

/** `--scenario llm` (sandbox/demo/llm-scenario.ts). */
async function runLlm(o: { speed: string; rps: string; users: string }): Promise<void> {
  const result = await runLlmDemo({
    speed: positive("--speed", o.speed, false),
    rps: positive("--rps", o.rps, true),
    users: positive("--users", o.users, true),
    out: { write: (t) => process.stdout.write(t), isTTY: false },
  });
  if (!result.ok) throw new CliError(`demo failed: ${result.reason}`, EXIT.failed);
}

/** Resolves on the first Ctrl-C / SIGTERM. */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

export function demoCommand(): Command {
  return new Command("demo")
    .description("run a whole canary release on this machine (sandbox: no cluster, no Docker)")
    .option("--scenario <which>", `${SCENARIOS.join(" | ")}`, "both")
    .option("--speed <x>", "scale the step pauses (2 = twice as fast)", "1")
    .option(
      "--fault <fault>",
      "the faulty canary's fault: error-rate=0.05 or latency=+200ms",
      "error-rate=0.05",
    )
    .option("--rps <n>", "requests per second per service", "300")
    .option("--users <n>", "distinct sticky users per service", "2000")
    .option("--shape <shape>", `mesh shape: ${SHAPES.join(" | ")}`, "sidecar")
    .option("--keep", "keep serving (dashboard, API, sidecar) after the summary until Ctrl-C")
    .option("--report <path>", "JSON timeline report", "build/demo-report.json")
    .action(async (o) => {
      if (!(SCENARIOS as readonly string[]).includes(o.scenario))
        throw new CliError(
          `--scenario: expected ${SCENARIOS.join(", ")}, got ${JSON.stringify(o.scenario)}`,
          EXIT.usage,
        );
      if (!(SHAPES as readonly string[]).includes(o.shape))
        throw new CliError(
          `--shape: expected ${SHAPES.join(", ")}, got ${JSON.stringify(o.shape)}`,
          EXIT.usage,
        );
      if (o.scenario === "llm") return runLlm(o);
      const strategy = STRATEGY_SCENARIOS[o.scenario];
      if (strategy) return strategyAction(o.scenario, strategy, o);
      const fault = parseFault(o.fault);
      if (fault instanceof Error) throw new CliError(fault.message, EXIT.usage);
      const result = await runDemo({
        scenario: o.scenario,
        speed: positive("--speed", o.speed, false),
        fault,
        rps: positive("--rps", o.rps, true),
        users: positive("--users", o.users, true),
        reportPath: o.report,
        shape: o.shape,
        ...(o.keep ? { keepUntil: interrupted() } : {}),
        out: {
          write: (t) => process.stdout.write(t),
          isTTY: process.stdout.isTTY === true,
          columns: process.stdout.columns,
        },
      });
      if (!result.ok) throw new CliError(`demo failed: ${result.reason}`, EXIT.failed);
    });
}

/** `--scenario blue-green | ab-test | shadow`: a whole release of that strategy (strategy-scenarios.ts). */
async function strategyAction(
  name: string,
  scenario: (typeof STRATEGY_SCENARIOS)[string],
  o: { speed: string; rps: string; users: string; report: string; keep?: boolean },
): Promise<void> {
  const result = await runStrategyDemo(name, scenario, {
    speed: positive("--speed", o.speed, false),
    rps: positive("--rps", o.rps, true),
    users: positive("--users", o.users, true),
    reportPath: o.report,
    ...(o.keep ? { keepUntil: interrupted() } : {}),
    out: { write: (t) => process.stdout.write(t), isTTY: false },
  });
  if (!result.ok) throw new CliError(`demo failed: ${result.reason}`, EXIT.failed);
}
