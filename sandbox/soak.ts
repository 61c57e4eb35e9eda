/**
 * `make soak`: demo traffic through the sandbox for N minutes (`--minutes N`, default 30) with one
 * fault per minute, rotating: stream cut, controller restart, proxy restart, worker stall, Kubernetes
 * API 500s, canary latency spike. At the end it checks zero lost counts (load generator's completed
 * requests = the filter's totals over all proxy instances; the last controller's count within what
 * the filter tallied since that controller started), zero stuck rollouts, and memory (controller heap
 * and wasm memory sampled every minute, series and slope printed). Exits 1 on any violation.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import pino from "pino";
import { type RunningController, startController } from "../controller/app/controller.js";
import { ReportSchema } from "../controller/gen/meshcanary/v1/telemetry_pb.js";
import { loadKubeConfig } from "../controller/kube/client.js";
import { type DemoApp, startDemoApp } from "./apps/demo-app.js";
import { type LoadGenerator, startLoad } from "./apps/load-generator.js";
import { endpointsFor } from "./demo/environment.js";
import { kubeRest } from "./demo/kube-objects.js";
import {
  DEMO_NAMESPACE,
  demoCanary,
  filterWiring,
  repoRoot,
  stageManifests,
  wasmPlugin,
} from "./demo/manifests.js";
import { FaultRelay } from "./fault-relay.js";
import { loadHost, type ProxyWasmHost } from "./host/index.js";
import { startKubeApi } from "./kube-api/index.js";
import { type Sidecar, startSidecar } from "./sidecar/sidecar.js";
import { startVirtualServiceSource } from "./sidecar/virtual-service-source.js";

const SERVICE = "reviews";
const FAULTS = [
  "stream cut",
  "controller restart",
  "proxy restart",
  "worker stall",
  "kube API 500s",
  "canary latency spike",
];
const RPS = 80;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls cond every 200 ms; false when it did not hold within limitMs. */
async function until(cond: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(200);
  }
  return false;
}

function minutesArg(argv: string[]): number {
  const i = argv.indexOf("--minutes");
  const n = i >= 0 ? Number(argv[i + 1]) : 30;
  if (!Number.isFinite(n) || n < 1) throw new Error(`--minutes: must be a number ≥ 1, got ${argv[i + 1]}`);
  return n;
}

/** Least-squares slope of a series sampled once per minute (units per minute). */
export function slopePerMinute(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

/** The requests one proxy instance has tallied (its shared cumulative state). */
function filterRequests(host: ProxyWasmHost): number {
  const e = host.sharedData.get("meshcanary.state");
  if (!e) return 0;
  const r = fromBinary(ReportSchema, e.value.subarray(1));
  return r.totals.reduce((a, t) => a + Number(t.requests), 0);
}

function controllerRequests(c: RunningController, canary: string): number {
  let n = 0;
  for (const w of c.telemetry.series(canary, 0, Number.MAX_SAFE_INTEGER))
    for (const s of w.variants.values()) n += s.requests;
  return n;
}

async function main(): Promise<number> {
  const minutes = minutesArg(process.argv.slice(2));
  const root = repoRoot();
  const module = new Uint8Array(readFileSync(join(root, "build", "meshcanary.wasm")));
  const wiring = filterWiring(wasmPlugin(root));
  if (wiring instanceof Error) throw wiring;
  const closers: (() => Promise<unknown>)[] = [];
  const violations: string[] = [];
  try {
    const kubeApi = await startKubeApi({ port: 0 });
    closers.push(() => kubeApi.close());
    const kube = kubeRest(kubeApi.kubeconfig());
    for (const m of [...stageManifests(root, [SERVICE]), wasmPlugin(root)]) {
      const r = await kube.apply(m);
      if (r instanceof Error) throw r;
    }
    const apps = new Map<string, DemoApp>();
    for (const v of ["v1", "v2"]) {
      const app = await startDemoApp({ version: v });
      closers.push(() => app.close());
      apps.set(v, app);
    }
    const kc = loadKubeConfig({ kubeconfigText: kubeApi.kubeconfig() });
    if ("error" in kc) throw new Error(kc.error);
    const source = await startVirtualServiceSource(kc);
    if (!source.ok) throw new Error(source.error);
    const routing = source.value;
    closers.push(() => routing.close());

    const controllerOpts = (port: number) => ({
      kubeconfigText: kubeApi.kubeconfig(),
      telemetry: { host: "127.0.0.1", port },
      leaderElection: { enabled: false, namespace: "", name: "", identity: "soak", leaseDurationSeconds: 15 },
      tickMs: 250,
      webhooks: false,
      logger: pino({ level: "silent" }),
    });
    let controller = await startController(controllerOpts(0));
    const telemetryPort = controller.telemetryPort;
    closers.push(() => controller.close());
    const relay = new FaultRelay(telemetryPort);
    await relay.start();
    closers.push(() => relay.close());

    let sidecarPort = 0;
    let host!: ProxyWasmHost;
    let sidecar!: Sidecar;
    const startProxy = async () => {
      host = await loadHost({
        module,
        workers: 2,
        pluginConfig: wiring.pluginConfig,
        clusters: { [wiring.cluster]: `127.0.0.1:${relay.port}` },
        node: {
          metadata: { NAME: "soak-client-0", NAMESPACE: DEMO_NAMESPACE, WORKLOAD_NAME: "soak-client" },
        },
        timers: "real",
      });
      sidecar = await startSidecar({
        host,
        port: sidecarPort,
        virtualServices: () => routing.virtualServices(),
        endpoints: () => endpointsFor(routing.destinationRules(), (_s, v) => apps.get(v)?.url.slice(7)),
      });
      sidecarPort = sidecar.port;
    };
    await startProxy();
    closers.push(async () => {
      await sidecar.close();
      await host.close();
    });
    let retiredFilterRequests = 0;

    const canaryId = `${DEMO_NAMESPACE}/${SERVICE}`;
    const canaryPath = `/apis/meshcanary.io/v1alpha1/namespaces/${DEMO_NAMESPACE}/canaries/${SERVICE}`;
    const steps = [20, 40, 60, 80].map((weight) => ({ weight, pauseMs: 10_000 }));
    const auth = { headers: { authorization: `Bearer ${kubeApi.token}` } };
    const canaryStatus = async () => {
      const res = await fetch(kubeApi.url + canaryPath, auth);
      const body = (await res.json()) as { status?: { phase?: string; step?: number } };
      return body.status ?? {};
    };
    // The filter tallies only hosts in its table, which comes with the Canary: start load after it.
    const createCanary = async () => {
      const r = await kube.apply(demoCanary(root, SERVICE, steps));
      if (r instanceof Error) throw r;
      for (let i = 0; i < 120 && (await canaryStatus()).phase !== "Progressing"; i++) await sleep(500);
      await sleep(2000);
    };
    await createCanary();

    const load: LoadGenerator = startLoad({
      target: `http://127.0.0.1:${sidecarPort}`,
      authority: `${SERVICE}.${DEMO_NAMESPACE}.svc.cluster.local`,
      rps: RPS,
      users: 2000,
      userHeader: "x-user-id",
      rampMs: 1000,
      path: "/v1/completions",
    });
    closers.push(() => load.stop());

    const heap: number[] = [];
    const wasm: number[] = [];
    const terminal = new Set(["Succeeded", "RolledBack", "Aborted"]);
    let lastProgress = { key: "", at: Date.now() };
    let outcomes: string[] = [];
    let controllerStartFilter = 0;
    for (let minute = 0; minute < minutes; minute++) {
      const fault = FAULTS[minute % FAULTS.length]!;
      const t0 = Date.now();
      console.log(`minute ${minute + 1}/${minutes}: ${fault}`);
      if (fault === "stream cut") {
        relay.set({ kind: "cut" });
        await sleep(20_000);
        relay.set({ kind: "pass" });
      } else if (fault === "controller restart") {
        // The new controller counts from the old one's last delivered report (Report.baseline), so
        // the outage's traffic is its to count.
        controllerStartFilter = retiredFilterRequests + filterRequests(host);
        await controller.close();
        await sleep(2000);
        controller = await startController(controllerOpts(telemetryPort));
      } else if (fault === "proxy restart") {
        // Envoy drains: stop sending to the proxy, let in-flight requests and one report finish.
        load.setRate(0);
        await sleep(2500);
        await sidecar.close();
        retiredFilterRequests += filterRequests(host);
        await host.close();
        await startProxy();
        // Like a pod's readiness: traffic once the new proxy holds the controller's routing table
        // (its plugin configuration names no routes, so until then it would neither route nor count).
        for (let i = 0; i < 100 && !host.sharedData.get("meshcanary.directive"); i++) await sleep(50);
        load.setRate(RPS);
      } else if (fault === "worker stall") {
        // A worker thread that stops ticking (no trap: the release filter has no trap path).
        const t = host as unknown as {
          timers: { cancelWorker(w: number): void; set(w: number, r: number, ms: number): void };
        };
        const w = host as unknown as { workers: { rootId: number }[] };
        t.timers.cancelWorker(0);
        await sleep(10_000);
        t.timers.set(0, w.workers[0]!.rootId, 1000);
      } else if (fault === "kube API 500s") {
        kubeApi.faults.failNext({ path: /./, status: 500, times: 40 });
      } else {
        apps.get("v2")!.set({ extraLatencyMs: 150 });
        await sleep(15_000);
        apps.get("v2")!.set({ extraLatencyMs: 0 });
      }
      await sleep(Math.max(0, 60_000 - (Date.now() - t0)));

      const st = await canaryStatus();
      const key = `${st.phase}/${st.step}`;
      if (key !== lastProgress.key) lastProgress = { key, at: Date.now() };
      if (st.phase && terminal.has(st.phase)) {
        outcomes.push(st.phase);
        load.setRate(0);
        await sleep(2000);
        await fetch(kubeApi.url + canaryPath, { method: "DELETE", ...auth });
        // The controller releases it (revert finalizer) on its next pass; then the name is free again.
        if (!(await until(async () => (await fetch(kubeApi.url + canaryPath, auth)).status === 404, 30_000)))
          violations.push("deleted Canary not released by the controller within 30 s");
        await createCanary();
        load.setRate(RPS);
        lastProgress = { key: "recreated", at: Date.now() };
      } else if (Date.now() - lastProgress.at > 4 * 60_000) {
        violations.push(`rollout stuck at ${key} for ${Math.round((Date.now() - lastProgress.at) / 1000)} s`);
      }
      heap.push(process.memoryUsage().heapUsed);
      wasm.push(host.memoryBytes(0));
      // Running totals, so a gap between answered and tallied points at the minute's fault.
      const tallied = retiredFilterRequests + filterRequests(host);
      console.log(
        `  canary ${key}; heap ${(heap.at(-1)! / 2 ** 20).toFixed(1)} MiB; wasm ${wasm.at(-1)} B; answered ${load.stats().answered}, tallied ${tallied}`,
      );
    }

    load.setRate(0);
    await sleep(4000);
    const stats = load.stats();
    // Requests refused before any proxy saw them (stale keep-alive sockets after a proxy restart)
    // reach no filter; every request that got an HTTP answer went through one.
    const completed = stats.answered;
    const filtered = retiredFilterRequests + filterRequests(host);
    const counted = controllerRequests(controller, canaryId);
    console.log("\nsummary");
    console.log(
      `  load: sent ${stats.sent}, answered ${completed}, transport errors ${stats.transportErrors}, dropped ${stats.dropped}`,
    );
    console.log(`  filter totals over all proxy instances: ${filtered}`);
    console.log(
      `  last controller counted ${counted} of ${filtered - controllerStartFilter} tallied since it started`,
    );
    console.log(
      `  rollout outcomes: ${outcomes.join(", ") || "(none finished)"}; current ${lastProgress.key}`,
    );
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(
      `  controller heap MiB per minute: ${heap.map(mib).join(" ")} (slope ${mib(slopePerMinute(heap))} MiB/min)`,
    );
    console.log(
      `  wasm memory B per minute: ${wasm.join(" ")} (slope ${slopePerMinute(wasm).toFixed(0)} B/min)`,
    );
    if (completed !== filtered)
      violations.push(`lost counts: load answered ${completed}, filter tallied ${filtered}`);
    // Plus the traffic between the old controller's last confirmed report and its close (<= 3 s).
    if (counted > filtered - controllerStartFilter + 3 * RPS)
      violations.push(`controller counted ${counted} > tallied ${filtered - controllerStartFilter}`);
    // The last controller takes the proxy's first report as its baseline (up to a few seconds of traffic).
    if (counted < filtered - controllerStartFilter - 10 * RPS)
      violations.push(`controller counted ${counted}, tallied ${filtered - controllerStartFilter}`);
    if (heap.length >= 5 && slopePerMinute(heap) > 8 * 2 ** 20)
      violations.push("controller heap grows > 8 MiB/min");
    if (wasm.length >= 5 && slopePerMinute(wasm) > 64 * 1024)
      violations.push("wasm memory grows > 64 KiB/min");
    outcomes = [];
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }
  for (const v of violations) console.log(`VIOLATION: ${v}`);
  console.log(violations.length ? "soak: FAILED" : "soak: OK");
  return violations.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`soak: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
