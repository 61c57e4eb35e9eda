/** The CLI controller (`meshcanary controller`, from build/js) as its own process, for leader-election tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Json } from "../controller/harness.js";
import { until } from "../controller/harness.js";

/** A running controller process and the JSON log lines it printed so far. */
export interface ControllerProcess {
  proc: ChildProcess;
  telemetryPort: number;
  logs: Json[];
  /** Whether it logged that it leads. */
  leads(): boolean;
}

/** Starts it with leader election on; resolves once it logged its start (not necessarily leading). */
export async function startControllerProcess(
  kubeconfigText: string,
  opts: { identity: string; namespace: string; leaseNamespace: string },
): Promise<ControllerProcess> {
  const dir = mkdtempSync(join(tmpdir(), "meshcanary-controller-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigText, { mode: 0o600 });
  const args = ["bin/meshcanary.js", "controller", "--kubeconfig", kubeconfig, "--namespace", opts.namespace];
  args.push(
    "--leader-elect",
    "--lease-namespace",
    opts.leaseNamespace,
    "--lease-duration",
    "2",
    "--tick",
    "200",
  );
  args.push("--telemetry-port", "0", "--http-port", "0", "--log-level", "info");
  const proc = spawn(process.execPath, args, { env: { ...process.env, POD_NAME: opts.identity } });
  proc.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const logs: Json[] = [];
  let partial = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) logs.push(JSON.parse(line));
  });
  let stderr = "";
  proc.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const started = await until(`controller process ${opts.identity} to start (stderr: ${stderr})`, async () =>
    logs.find((l) => l.msg === "controller started"),
  );
  return {
    proc,
    telemetryPort: started.telemetryPort as number,
    logs,
    leads: () => logs.some((l) => l.msg === "leading"),
  };
}

/** SIGTERMs (or SIGKILLs) the process and waits for it to exit. */
export function stopControllerProcess(
  p: ControllerProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.proc.once("exit", () => resolve());
    p.proc.kill(signal);
  });
}
