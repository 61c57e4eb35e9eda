/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
 * renewTime every retry period; a candidate takes over only when it has seen the same lease record
 * unchanged for leaseDurationSeconds by its own clock (so clock skew between pods does not matter).
 * Every write carries the read resourceVersion, so two candidates cannot both win a round.
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { call, type KubeError, type KubeResult, ok } from "./errors.js";

export interface LeaderElectionOptions {
  namespace: string;
  /** Lease name, e.g. "meshcanary-controller". */
  name: string;
  /** This candidate's identity (pod name + random suffix). */
  identity: string;
  /** How long a lease is valid without renewal; default 15 s. */
  leaseDurationSeconds?: number;
  /** How often to renew or try to acquire; default 2/15 of the lease duration (client-go's 2 s of 15 s). */
  retryPeriodMs?: number;
  /** A leader that could not renew for this long steps down; default 2/3 of the lease duration. */
  renewDeadlineMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  /** Failed API calls (the election keeps going). */
  onError?(error: KubeError): void;
  /** Clock in ms, for tests. */
  now?: () => number;
}

export interface LeaderElector {
  isLeader(): boolean;
  /** Stops campaigning; a leader releases the lease so another candidate takes over at once. */
  stop(): Promise<void>;
}

/** Starts campaigning immediately and then every retry period. */
export function startLeaderElection(kc: KubeConfig, options: LeaderElectionOptions): LeaderElector {
  const api = kc.makeApiClient(CoordinationV1Api);
  const now = options.now ?? Date.now;
  const durationS = options.leaseDurationSeconds ?? 15;
  const retryMs = options.retryPeriodMs ?? (durationS * 1000 * 2) / 15;
  const renewDeadlineMs = options.renewDeadlineMs ?? (durationS * 1000 * 2) / 3;
  const { namespace, name, identity } = options;
  // A renewal must conclude before the renew deadline, or a hung request would keep us "leading".
  const once = { attempts: 1, baseDelayMs: 0, timeoutMs: Math.max(100, renewDeadlineMs / 2) };

  let leading = false;
  let lastRenewMs = 0;
  let observed: { record: string; atMs: number } | undefined;
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;

  const setLeading = (value: boolean) => {
    if (value === leading) return;
    leading = value;
    if (value) options.onStartedLeading();
    else options.onStoppedLeading();
  };

  const spec = (previous: V1Lease["spec"] | undefined) => {
    const at = new V1MicroTime(now());
    const sameHolder = previous?.holderIdentity === identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: durationS,
      acquireTime: sameHolder && previous?.acquireTime ? new V1MicroTime(previous.acquireTime) : at,
      renewTime: at,
      // As client-go: taking a Lease someone else held counts, even one its holder released.
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous === undefined || sameHolder ? 0 : 1),
    };
  };

  /** "acquired": we hold it now; "held": another live holder; "raced": a concurrent write won this round. */
  const tryAcquireOrRenew = async (): Promise<KubeResult<"acquired" | "held" | "raced">> => {
    const read = await call(() => api.readNamespacedLease({ namespace, name }), once);
    if (!read.ok && read.error.reason === "NotFound") {
      const body = { metadata: { name, namespace }, spec: spec(undefined) };
      const created = await call(() => api.createNamespacedLease({ namespace, body }), once);
      if (created.ok) return ok("acquired");
      return created.error.reason === "Conflict" ? ok("raced") : created;
    }
    if (!read.ok) return read;
    const lease = read.value;
    const holder = lease.spec?.holderIdentity ?? "";
    const record = JSON.stringify([
      holder,
      String(lease.spec?.renewTime ?? ""),
      lease.metadata?.resourceVersion,
    ]);
    if (observed?.record !== record) observed = { record, atMs: now() };
    const expired = now() - observed.atMs >= (lease.spec?.leaseDurationSeconds ?? durationS) * 1000;
    if (holder !== "" && holder !== identity && !expired) return ok("held");
    const body = { ...lease, spec: { ...lease.spec, ...spec(lease.spec) } };
    const replaced = await call(() => api.replaceNamespacedLease({ namespace, name, body }), once);
    if (replaced.ok) return ok("acquired");
    return replaced.error.reason === "Conflict" ? ok("raced") : replaced;
  };

  // Steps down the moment the renew deadline passes, not at the next round: a round stuck on a hung
  // API call would otherwise keep us leading after another candidate may have taken the lease.
  const armDeadline = () => {
    if (deadline) clearTimeout(deadline);
    const leftMs = renewDeadlineMs - (now() - lastRenewMs);
    // Timers may fire a millisecond early by the wall clock: check again rather than give up.
    deadline = setTimeout(
      () => (now() - lastRenewMs >= renewDeadlineMs ? setLeading(false) : armDeadline()),
      Math.max(1, leftMs),
    );
  };

  const campaign = async () => {
    // The renewal counts from before the request: the lease may have been written at any point since.
    const startedMs = now();
    const result = await tryAcquireOrRenew();
    if (stopped) return;
    if (result.ok && result.value === "acquired") {
      lastRenewMs = startedMs;
      setLeading(true);
      armDeadline();
      return;
    }
    if (!result.ok) options.onError?.(result.error);
    // Another live holder; a lapsed renew deadline is armDeadline's to act on, at the moment it lapses.
    if (result.ok && result.value === "held") setLeading(false);
  };

  const tick = () => {
    round = campaign().finally(() => {
      if (!stopped) timer = setTimeout(tick, retryMs);
    });
  };
  tick();

  return {
    isLeader: () => leading,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (deadline) clearTimeout(deadline);
      await round;
      if (leading) await release();
      setLeading(false);
    },
  };

  async function release() {
    const read = await call(() => api.readNamespacedLease({ namespace, name }), once);
    if (!read.ok || read.value.spec?.holderIdentity !== identity) return;
    const at = new V1MicroTime(now());
    const body = {
      ...read.value,
      spec: {
        ...read.value.spec,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        renewTime: at,
        acquireTime: at,
      },
    };
    const released = await call(() => api.replaceNamespacedLease({ namespace, name, body }), once);
    if (!released.ok) options.onError?.(released.error);
  }
}
