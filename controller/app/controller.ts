/**
 * The controller process: Canary informer, leader election, telemetry server, the reconcile loop
 * (leader only), graceful shutdown. Non-leaders keep their informer warm, refuse telemetry streams
 * (UNAVAILABLE, so filters reconnect to the leader), end the ones they held when they stopped
 * leading (sending them no further Directive) and report not ready.
 */
import pino, { type Logger } from "pino";
import { createMetricsRegistry } from "../api/metrics.js";
import { kubeAccess } from "../api/kube-access.js";
import { type ApiServer, startApiServer } from "../api/server.js";
import { kubeAccessReviews } from "../kube/access-reviews.js";
import {
  type CanaryWatch,
  patchCanaryStatus,
  requestCommand,
  setCanaryFinalizers,
  watchCanaries,
} from "../kube/canaries.js";
import { type KubeConnectOptions, loadKubeConfig } from "../kube/client.js";
import type { RetryPolicy } from "../kube/errors.js";
import { kubeEventRecorder } from "../kube/events.js";
import { type LeaderElector, startLeaderElection } from "../kube/leader.js";
import { kubeHttpRouteStore } from "../kube/http-routes.js";
import { kubeVirtualServiceStore } from "../kube/virtual-services.js";
import { callGate } from "../notify/gate-call.js";
import { httpNotifier, type Notifier, nullNotifier } from "../notify/webhooks.js";
import { startTelemetryServer, type TelemetryServer, type TelemetryStats } from "../telemetry/index.js";
import type { IdentityMode } from "../telemetry/identity.js";
import type { TelemetryReader } from "../telemetry/types.js";
import { ControllerApiBackend } from "./api-backend.js";
import { GatePoller } from "./gate-poller.js";
import { Reconciler } from "./reconciler.js";
import { idOf, Runner } from "./runner.js";

export interface ControllerOptions extends KubeConnectOptions {
  /** Namespace to watch; default all. */
  namespace?: string;
  /** Telemetry gRPC listener; token = shared secret filters must send; identity = how reporters are identified. */
  telemetry: { port: number; host: string; token?: string; identity?: IdentityMode };
  leaderElection: {
    enabled: boolean;
    namespace: string;
    name: string;
    identity: string;
    leaseDurationSeconds: number;
    retryPeriodMs?: number;
    /**
     * How long a replica that stopped leading keeps serving the telemetry streams it holds before
     * ending them, so a Lease lost for a moment and regained (an API blip) moves no filter; default
     * 5000 ms.
     */
    streamGraceMs?: number;
  };
  /** Reconcile interval; default 1000 ms. */
  tickMs?: number;
  /** Routing counts as in force without every filter's confirmation after this long; default 5000 ms. */
  propagationTimeoutMs?: number;
  /** Status changes in figures only (analysis state, messages) are written at most this often; default 30 s. */
  statusCheckpointMs?: number;
  /** Routes in one Directive; default 4096, the filters' limit (tests lower it). */
  maxRoutes?: number;
  /** false: webhooks off. */
  webhooks?: boolean;
  /** Retries and per-attempt deadline of VirtualService and status calls; default DEFAULT_RETRY. */
  kubeRetry?: RetryPolicy;
  /**
   * HTTP API, dashboard, /metrics, /healthz, /readyz; absent = not served. kubernetesAuth: callers
   * present their own Kubernetes token (TokenReview + SubjectAccessReview per Canary). Otherwise
   * reads are open and commands need writeToken (absent = read-only).
   */
  api?: { port: number; host: string; writeToken?: string; kubernetesAuth?: boolean };
  logger?: Logger;
}

export interface RunningController {
  telemetryPort: number;
  /** Port of the HTTP API; undefined when options.api was absent. */
  apiPort?: number;
  isLeader(): boolean;
  reconciler: Reconciler;
  /** The windows the analysis reads (for the API and for tests). */
  telemetry: TelemetryReader;
  /** Telemetry ingest counters, open streams included. */
  telemetryStats(): TelemetryStats;
  close(): Promise<void>;
}

export async function startController(opts: ControllerOptions): Promise<RunningController> {
  const log = opts.logger ?? pino({ level: "info" });
  const kc = loadKubeConfig(opts);
  if ("error" in kc) throw new Error(kc.error);
  let leading = !opts.leaderElection.enabled;
  const notifier: Notifier = opts.webhooks === false ? nullNotifier : httpNotifier({ logger: log });
  const runner = new Runner({
    store: kubeVirtualServiceStore(kc, opts.kubeRetry),
    httpRoutes: kubeHttpRouteStore(kc, opts.kubeRetry),
    writeStatus: async (ns, name, patch) => {
      const r = await patchCanaryStatus(kc, ns, name, patch, opts.kubeRetry);
      return r.ok ? undefined : r.error.message;
    },
    writeFinalizers: async (canary, finalizers) => {
      const r = await setCanaryFinalizers(kc, canary, finalizers, opts.kubeRetry);
      return r.ok ? undefined : r.error.message;
    },
    recorder: kubeEventRecorder(kc, { component: "meshcanary-controller" }),
    notifier,
    logger: log,
  });
  const gates = new GatePoller(callGate);
  let reconciler: Reconciler | undefined;
  let backend: ControllerApiBackend | undefined;
  const server: TelemetryServer = await startTelemetryServer({
    address: `${opts.telemetry.host}:${opts.telemetry.port}`,
    token: opts.telemetry.token,
    ...(opts.telemetry.identity ? { identity: opts.telemetry.identity } : {}),
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
    statusCheckpointMs: opts.statusCheckpointMs,
    gates,
    maxRoutes: opts.maxRoutes,
    onStatusChanged: (record) => backend?.statusChanged(record),
    onAnalysis: (id, nowMs, step, analysis) => backend?.analysed(id, nowMs, step, analysis),
  });
  const loop = reconciler;
  // Set once the Canary informer has synced: from then on this replica can lead at once (/readyz).
  let synced = false;
  backend = new ControllerApiBackend({
    reconciler: loop,
    reader: server.reader,
    requestCommand: (ns, name, command) => requestCommand(kc, ns, name, command),
    recordEvent: (canary, note) => runner.event(canary, note),
    isReady: () => synced,
  });
  const api = backend;

  const watch = await watchCanaries(
    kc,
    {
      onAdd: (c) => loop.upsert(c),
      onUpdate: (c) => {
        loop.upsert(c);
        // The leader announces the rollout status it writes (onStatusChanged); any other status
        // (a follower's view, an invalid spec's condition) is announced as the informer sees it.
        const record = loop.get(idOf(c));
        if (record && (!leading || record.state === undefined || record.invalid !== undefined))
          api.statusChanged(record);
      },
      onDelete: (c) => {
        loop.remove(c);
        api.removed(c.metadata.namespace, c.metadata.name);
        log.info({ canary: idOf(c) }, "canary deleted");
      },
      onError: (error) => log.warn({ error }, "canary watch error"),
    },
    opts.namespace ? { namespace: opts.namespace } : {},
  );
  if (!watch.ok) {
    api.close();
    await server.close();
    throw new Error(`watching canaries: ${watch.error.message}`);
  }
  const informer: CanaryWatch = watch.value;
  synced = true;

  let http: ApiServer | undefined;
  if (opts.api) {
    try {
      http = await startApiServer({
        port: opts.api.port,
        host: opts.api.host,
        backend: api,
        ...(opts.api.kubernetesAuth
          ? { access: kubeAccess(kubeAccessReviews(kc)) }
          : { writeToken: opts.api.writeToken }),
        metricsRegistry: createMetricsRegistry({
          canaries: () => api.listCanaries(),
          windows: (ns, name, from, to) => server.reader.series(`${ns}/${name}`, from, to),
          ingest: () => server.stats(),
        }),
        onError: (err) => log.error({ err }, "API handler failed"),
      });
    } catch (e) {
      api.close();
      await informer.stop();
      await server.close();
      throw new Error(`starting the HTTP API on ${opts.api.host}:${opts.api.port}: ${(e as Error).message}`);
    }
  }

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
  let drain: NodeJS.Timeout | undefined;
  if (opts.leaderElection.enabled) {
    const le = opts.leaderElection;
    elector = startLeaderElection(kc, {
      namespace: le.namespace,
      name: le.name,
      identity: le.identity,
      leaseDurationSeconds: le.leaseDurationSeconds,
      ...(le.retryPeriodMs !== undefined ? { retryPeriodMs: le.retryPeriodMs } : {}),
      onStartedLeading: () => {
        clearTimeout(drain);
        log.info({ identity: le.identity }, "leading");
        loop.resetFromStatus();
        leading = true;
      },
      onStoppedLeading: () => {
        leading = false;
        log.info({ identity: le.identity }, "stopped leading");
        // Filters connected here must move to the leader, or it never counts their traffic.
        clearTimeout(drain);
        drain = setTimeout(() => {
          if (leading) return;
          const streams = server.stopServing();
          log.info({ identity: le.identity, streams }, "not leading again: ending telemetry streams");
        }, le.streamGraceMs ?? 5000);
        drain.unref();
      },
      onError: (e) => log.warn({ error: e.message }, "leader election"),
    });
  }
  runPass();

  return {
    telemetryPort: server.port,
    apiPort: http?.port,
    isLeader: () => leading,
    reconciler: loop,
    telemetry: server.reader,
    telemetryStats: () => server.stats(),
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearTimeout(drain);
      await pass;
      leading = false;
      await http?.close();
      api.close();
      await elector?.stop();
      await informer.stop();
      await server.close();
      await notifier.close();
      await gates.close();
    },
  };
}
