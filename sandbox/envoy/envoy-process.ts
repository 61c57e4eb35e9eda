/**
 * One real Envoy process: started from a bootstrap file, found ready through its admin API, its
 * outbound listener's port read back from the admin API (the bootstrap asks for port 0), stats and
 * log lines read for the tests, stopped with SIGTERM (SIGKILL after a grace period).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface EnvoyProcessOptions {
  binary: string;
  /** Working directory: bootstrap.json, admin address, log. */
  dir: string;
  bootstrap: Record<string, unknown>;
  /** Worker threads (Istio `concurrency`); default 2. */
  concurrency?: number;
  /** Envoy log level; default info. */
  logLevel?: string;
  /** Bounded wait for the listener, ms; default 60 s (Envoy took over 30 s to start at load average 20). */
  startTimeoutMs?: number;
}

export interface EnvoyProcess {
  readonly pid: number;
  readonly adminUrl: string;
  /** Port of the first listener. */
  readonly port: number;
  readonly logPath: string;
  /** Counters and gauges from /stats (name → value). */
  stats(filter?: string): Promise<Map<string, number>>;
  /** GET an admin path; the body as text. */
  admin(path: string): Promise<string>;
  /** Log lines at warning level or above. */
  warnings(): string[];
  /** Whether the process (its watchdog) still runs. */
  alive(): boolean;
  stop(): Promise<void>;
}

// A background list's stdin is /dev/null unless redirected explicitly: keep ours on fd 3 for cat.
const WATCHDOG = [
  "exec 3<&0",
  '"$@" </dev/null & pid=$!',
  'echo "$pid" > "$MESHCANARY_ENVOY_PIDFILE"',
  "trap 'kill $pid 2>/dev/null' TERM INT",
  "{ cat <&3 >/dev/null; kill $pid 2>/dev/null; } &",
  "wait $pid; status=$?",
  "wait $pid 2>/dev/null",
  "exit $status",
].join("\n");

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`envoy: timed out waiting for ${what}`);
    await sleep(50);
  }
}

function firstListenerPort(json: string): number | undefined {
  const parsed = JSON.parse(json) as {
    listener_statuses?: { local_address?: { socket_address?: { port_value?: number } } }[];
  };
  const port = parsed.listener_statuses?.[0]?.local_address?.socket_address?.port_value;
  return port && port > 0 ? port : undefined;
}

/** Parses /stats?format=json (counters and gauges; histograms skipped). */
export function parseStats(json: string): Map<string, number> {
  const out = new Map<string, number>();
  const parsed = JSON.parse(json) as { stats?: { name?: string; value?: number }[] };
  for (const s of parsed.stats ?? [])
    if (s.name !== undefined && typeof s.value === "number") out.set(s.name, s.value);
  return out;
}

export async function startEnvoyProcess(opts: EnvoyProcessOptions): Promise<EnvoyProcess> {
  const bootstrapPath = join(opts.dir, "bootstrap.json");
  const adminPath = join(opts.dir, "admin-address");
  const logPath = join(opts.dir, "envoy.log");
  writeFileSync(bootstrapPath, JSON.stringify(opts.bootstrap, null, 1));
  const args = [
    "-c",
    bootstrapPath,
    "--concurrency",
    String(opts.concurrency ?? 2),
    "--disable-hot-restart",
    "--admin-address-path",
    adminPath,
    "--log-path",
    logPath,
    "-l",
    opts.logLevel ?? "info",
  ];
  const pidPath = join(opts.dir, "envoy.pid");
  // Envoy runs under a tiny shell watchdog that kills it when our end of its stdin closes, so a test
  // process killed mid-run (timeout, SIGKILL) never leaves an Envoy behind.
  const child: ChildProcess = spawn("/bin/sh", ["-c", WATCHDOG, "envoy-watchdog", opts.binary, ...args], {
    stdio: ["pipe", "ignore", "pipe"],
    env: { ...process.env, MESHCANARY_ENVOY_PIDFILE: pidPath },
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const failed = () => (exited ? new Error(`envoy exited at start: ${tail(logPath) || stderr}`) : undefined);

  try {
    const adminUrl = await until("the admin address", deadline, async () => {
      const err = failed();
      if (err) throw err;
      // Envoy creates the file before it writes the address (an ofstream flushed when closed): a
      // read in between finds it empty, and that empty address would be polled until the deadline.
      const address = existsSync(adminPath) ? readFileSync(adminPath, "utf8").trim() : "";
      return /^\S+:\d+$/.test(address) ? `http://${address}` : undefined;
    }).catch((e) => {
      throw failed() ?? e;
    });
    const get = async (path: string) => {
      const res = await fetch(`${adminUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
      return res.text();
    };
    const port = await until("the outbound listener", deadline, async () => {
      if (exited) throw failed();
      return firstListenerPort(await get("/listeners?format=json"));
    }).catch(async (e) => {
      throw failed() ?? new Error(`${(e as Error).message} (${await listenerDiagnosis(get, logPath)})`);
    });
    const pid = Number(readFileSync(pidPath, "utf8").trim());
    return {
      pid,
      adminUrl,
      port,
      logPath,
      admin: get,
      stats: async (filter) =>
        parseStats(await get(`/stats?format=json${filter ? `&filter=${encodeURIComponent(filter)}` : ""}`)),
      warnings: () => logLines(logPath).filter((l) => /\]\[(warning|error|critical)\]/.test(l)),
      alive: () => !exited,
      async stop() {
        if (exited) return;
        child.kill("SIGTERM");
        const killer = setTimeout(() => {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
          child.kill("SIGKILL");
        }, 5000);
        await exit;
        clearTimeout(killer);
        child.stdin?.end();
      },
    };
  } catch (err) {
    child.stdin?.end();
    child.kill("SIGTERM");
    await exit;
    throw err;
  }
}

function logLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch {
    return [];
  }
}

/**
 * Why a listener never became active, for the error: this was seen once in CI after 60 s at low load, and
 * the temporary directory with Envoy's log is gone by the time anyone reads the failure.
 */
async function listenerDiagnosis(get: (path: string) => Promise<string>, logPath: string): Promise<string> {
  const stats = await get("/stats?filter=listener_manager%5C.(total_listeners|lds)")
    .then((t) => t.trim().split("\n").join(", "))
    .catch((e: Error) => `admin unreachable: ${e.message}`);
  return `${stats}; log: ${tail(logPath) || "no warnings"}`;
}

function tail(path: string): string {
  return logLines(path)
    .filter((l) => /\]\[(warning|error|critical)\]/.test(l))
    .slice(-5)
    .join("\n");
}
