/**
 * The controller process: Canary informer, leader election, telemetry server, the reconcile loop
 * (leader only), graceful shutdown. Non-leaders keep their informer warm, refuse telemetry streams
 * (UNAVAILABLE, so filters reconnect to the leader) and report not ready.
 */
import pino, { type Logger } from "pino";
import { type CanaryWatch, patchCanaryStatus, watchCanaries } from "../kube/canaries.js";
import { type KubeConnectOptions, loadKubeConfig } from "../kube/client.js";
import { kubeEventRecorder } from "../kube/events.js";
import { type LeaderElector, startLeaderElection } from "../kube/leader.js";
import { kubeVirtualServiceStore } from "../kube/virtual-services.js";
import { httpNotifier, type Notifier, nullNotifier } from "../notify/webhooks.js";
import { startTelemetryServer, type TelemetryServer } from "../telemetry/index.js";
import { Reconciler } from "./reconciler.js";
import { idOf, Runner } from "./runner.js";

export interface ControllerOptions extends KubeConnectOptions {
  /** Namespace to watch; default all. */
  namespace?: string;
  /** Telemetry gRPC listener; token = shared secret filters must send. */
  telemetry: { port: number; host: string; token?: string };
  leaderElection: {
    enabled: boolean;
    namespace: string;
    name: string;
    identity: string;
    leaseDurationSeconds: number;
    retryPeriodMs?: number;
  };
  /** Reconcile interval; default 1000 ms. */
  tickMs?: number;
  /** Routing counts as in force without every filter's confirmation after this long; default 5000 ms. */
  propagationTimeoutMs?: number;
  /** false: webhooks off. */
  webhooks?: boolean;
  logger?: Logger;
}

export interface RunningController {
  telemetryPort: number;
  isLeader(): boolean;
  reconciler: Reconciler;
  close(): Promise<void>;
}

export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const log = opts.logger ?? pino({ level: "info" });
  const kc = loadKubeConfig(opts);
  if ("error" in kc) throw new Error(kc.error);
  let leading = !opts.leaderElection.enabled;
  const notifier: Notifier = opts.webhooks === false ? nullNotifier : httpNotifier({ logger: log });
  const runner = new Runner({
    store: kubeVirtualServiceStore(kc),
    writeStatus: async (ns, name, patch) => {
      const r = await patchCanaryStatus(kc, ns, name, patch);
      return r.ok ? undefined : r.error.message;
    },
    recorder: kubeEventRecorder(kc, { component: "meshcanary-controller" }),
    notifier,
    logger: log,
  });
  let reconciler: Reconciler | undefined;
  const server: TelemetryServer = await startTelemetryServer({
    address: `${opts.telemetry.host}:${opts.telemetry.port}`,
    token: opts.telemetry.token,
    isKnownCanary: (id) => reconciler?.has(id) ?? false,
    serving: () => leading,
    logger: log,
  });
  reconciler = new Reconciler({
    runner,
    reader: server.reader,
    publish: (d) => server.publish(d),
    logger: log,
    propagationTimeoutMs: opts.propagationTimeoutMs,
  });
  const loop = reconciler;

  const watch = await watchCanaries(
    kc,
    {
      onAdd: (c) => loop.upsert(c),
      onUpdate: (c) => loop.upsert(c),
      onDelete: (c) => {
        loop.remove(c);
        log.info({ canary: idOf(c) }, "canary deleted");
      },
      onError: (error) => log.warn({ error }, "canary watch error"),
    },
    opts.namespace ? { namespace: opts.namespace } : {},
  );
  if (!watch.ok) {
    await server.close();
    throw new Error(`watching canaries: ${watch.error.message}`);
  }
  const informer: CanaryWatch = watch.value;

  // The loop: one pass at a time, every tickMs, while leading.
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (!stopped) timer = setTimeout(runPass, opts.tickMs ?? 1000);
  };
  const runPass = () => {
    pass = (leading ? loop.tick(Date.now()) : Promise.resolve()).finally(schedule);
  };

  let elector: LeaderElector | undefined;
  if (opts.leaderElection.enabled) {
    const le = opts.leaderElection;
    elector = startLeaderElection(kc, {
      namespace: le.namespace,
      name: le.name,
      identity: le.identity,
      leaseDurationSeconds: le.leaseDurationSeconds,
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      onStartedLeading: () => {
        log.info({ identity: le.identity }, "leading");
        loop.resetFromStatus();
        leading = true;
      },
      onStoppedLeading: () => {
        log.info({ identity: le.identity }, "stopped leading");
        leading = false;
      },
      onError: (e) => log.warn({ error: e.message }, "leader election"),
    });
  }
  runPass();

  return {
    telemetryPort: server.port,
    isLeader: () => leading,
    reconciler: loop,
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await pass;
      leading = false;
      await elector?.stop();
      await informer.stop();
      await server.close();
      await notifier.close();
    },
  };
}
