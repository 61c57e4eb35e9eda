/**
 * A traffic world for decision-quality studies: requests from users (optionally sticky by the real
 * hash, with heterogeneous failure propensity), served by pods of each variant (each pod a
 * reporter), with retries, per-pod failure bursts, shared incidents, diurnal load, heavy-tailed
 * latency with per-pod GC pauses, and an optional fault on the canary from an onset time.
 * Each second every pod's tallies go through the controller's own window aggregation (`Windows`,
 * as ingest adds each reporter's delta, split by the client proxy that tallied them), so the
 * analysis sees what it would see in production.
 */

import { binomial, mulberry32, normal, poisson, type Rng } from "../../controller/analysis/simulate.js";
import { emptySketch, record } from "../../controller/telemetry/sketch.js";
import { REPORTER_GROUPS } from "../../controller/telemetry/reporter-groups.js";
import type { MetricStats } from "../../controller/telemetry/types.js";
import { emptyUserGroups, USER_GROUPS, type UserGroupStats } from "../../controller/telemetry/user-groups.js";
import { countStats, Windows } from "../../controller/telemetry/windows.js";
import type { SlowThreshold } from "../../controller/analysis/slow-thresholds.js";
import { drawLatencies, type Segment } from "./slow-tally.js";
import { userShares } from "./user-shares.js";

/** Users, when requests come from a fixed population with sticky assignment. */
export interface UserModel {
  count: number;
  /** Share of users whose requests fail often. */
  badShare: number;
  /** Failure probability of a bad user's request. */
  badFailure: number;
}

/**
 * Sticky users who differ from the others in what their requests cost, not in whether they fail:
 * a class of users (after the failure-prone ones, by user index) whose requests are slower, or whose
 * responses carry more of the response metric (heavy users asking for long answers). A user keeps
 * its class and, being sticky, its variant for the whole step.
 */
export interface UserClass {
  /** Share of all users in the class. */
  share: number;
  /** Latency of the class's requests × this (default 1). */
  latencyFactor?: number;
  /** Metric value of the class's responses × this (default 1). */
  metricFactor?: number;
}

/** A response metric per request (e.g. tokens per answer): log-normal around a median. */
export interface MetricModel {
  /** Metric name, as a check names it. */
  name: string;
  median: number;
  /** Log-space spread of one response's value. */
  sigma: number;
}

/** Clustered failures on single pods. */
export interface PodBurstModel {
  /** Chance per pod per second that a burst starts. */
  perPodPerSecond: number;
  meanSeconds: number;
  /** Failure probability of the pod's requests during a burst. */
  failure: number;
}

/** Incidents and load swings that hit both variants alike. */
export interface SharedModel {
  /** Chance per second that a shared incident starts. */
  burstPerSecond: number;
  meanSeconds: number;
  /** Failure-rate multiplier during an incident. */
  multiplier: number;
  /** Relative amplitude of the diurnal swing of the failure rate (0 = none). */
  diurnalAmplitude: number;
  periodSeconds: number;
}

/** Heavy-tailed latency with per-pod stop-the-world pauses. */
export interface LatencyModel {
  medianMs: number;
  sigma: number;
  /** Chance per pod per second of a GC pause. */
  gcPerPodPerSecond: number;
  gcMs: number;
  /** Share of the pod's requests in that second delayed by the pause. */
  gcShare: number;
}

/** A regression of the canary from `onsetSecond` on. */
export interface Fault {
  onsetSecond: number;
  failureMultiplier?: number;
  addLatencyMs?: number;
}

/** One world. */
export interface WorldSpec {
  /** Mean requests per second over both variants. */
  rps: number;
  /** Healthy per-request failure probability. */
  baseFailure: number;
  stablePods: number;
  /**
   * Client-side proxies reporting the traffic (the filter runs in the callers' sidecars): each
   * request is tallied by one of them at random, into its own reporter group, as the telemetry server
   * keeps them for the leave-one-out rule. Default 4.
   */
  clients?: number;
  users?: UserModel;
  /** A failed request is retried by its user the next second; a retry fails with `failure` (and is retried again). */
  retries?: { failure: number };
  podBursts?: PodBurstModel;
  shared?: SharedModel;
  latency?: LatencyModel;
  fault?: Fault;
  /** Classes of sticky users with slower requests or heavier responses (needs `users`). */
  userClasses?: UserClass[];
  /** A response metric recorded per request (judged by metric checks). */
  metric?: MetricModel;
}

/** Canary weight (0..1) from `atSecond` on. */
export interface Phase {
  atSecond: number;
  weight: number;
}

/** Per-variant traffic in one second, before pods. */
interface ArmLoad {
  /** Requests and their base failure probabilities, as (requests, probability) groups. */
  groups: Load[];
}

/** Requests with one failure probability; from one user group, or (no sticky key) spread by counter. */
interface Load {
  requests: number;
  failure: number;
  userGroup?: number;
  /** User class (index into WorldSpec.userClasses), when the requests are from one. */
  userClass?: number;
}

interface PodState {
  burstLeft: number;
}

/** The world over time; `step(t, weight)` adds second t's tallies to `windows`. */
export class World {
  private readonly rng: Rng;
  private readonly pods = new Map<string, PodState>();
  private sharedLeft = 0;
  private requestCounter = 0;
  private readonly retryQueue = { stable: 0, canary: 0 };
  private sharesAt?: { weight: number; shares: ReturnType<typeof userShares> };
  private readonly cohort: string;
  /** The latency thresholds the filter counts per user group (the controller's directive). */
  private slow: readonly SlowThreshold[] = [];

  constructor(
    private readonly spec: WorldSpec,
    seed: number,
    readonly windows = new Windows(60 * 60 * 1000),
    readonly canaryId = "default/sim",
  ) {
    this.rng = mulberry32(seed);
    this.cohort = `cohort-${seed}`;
  }

  /** The thresholds in force from the next second on, as a new directive reaching the filter. */
  setSlowThresholds(thresholds: readonly SlowThreshold[]): void {
    this.slow = thresholds;
  }

  private loads(weight: number): { stable: ArmLoad; canary: ArmLoad } {
    const { spec, rng } = this;
    const u = spec.users;
    if (!u) {
      const n = poisson(rng, spec.rps);
      const c = binomial(rng, n, weight);
      return {
        stable: { groups: [{ requests: n - c, failure: spec.baseFailure }] },
        canary: { groups: [{ requests: c, failure: spec.baseFailure }] },
      };
    }
    if (this.sharesAt?.weight !== weight) {
      this.sharesAt = { weight, shares: userShares(u, this.cohort, weight, spec.userClasses) };
    }
    const s = this.sharesAt.shares;
    const perUser = spec.rps / u.count;
    const arm = (v: "stable" | "canary"): ArmLoad => ({
      groups: s[v].normal.flatMap((normalUsers, g) => [
        { requests: poisson(rng, perUser * normalUsers), failure: spec.baseFailure, userGroup: g },
        { requests: poisson(rng, perUser * s[v].bad[g]!), failure: u.badFailure, userGroup: g },
        ...s[v].classes.map((users, k) => ({
          requests: poisson(rng, perUser * users[g]!),
          failure: spec.baseFailure,
          userGroup: g,
          userClass: k,
        })),
      ]),
    });
    return { stable: arm("stable"), canary: arm("canary") };
  }

  private sharedMultiplier(t: number): number {
    const sh = this.spec.shared;
    if (!sh) return 1;
    if (this.sharedLeft > 0) this.sharedLeft--;
    else if (this.rng() < sh.burstPerSecond) this.sharedLeft = 1 + poisson(this.rng, sh.meanSeconds - 1);
    const diurnal = 1 + sh.diurnalAmplitude * Math.sin((2 * Math.PI * t) / sh.periodSeconds);
    return diurnal * (this.sharedLeft > 0 ? sh.multiplier : 1);
  }

  private pod(name: string): PodState {
    let p = this.pods.get(name);
    if (!p) {
      p = { burstLeft: 0 };
      this.pods.set(name, p);
    }
    const b = this.spec.podBursts;
    if (b) {
      if (p.burstLeft > 0) p.burstLeft--;
      else if (this.rng() < b.perPodPerSecond) p.burstLeft = 1 + poisson(this.rng, b.meanSeconds - 1);
    }
    return p;
  }

  /** Number of pods serving a variant at a weight (the canary scaled to its share, at least one). */
  podCount(variant: "stable" | "canary", weight: number): number {
    const s = this.spec.stablePods;
    if (variant === "stable") return weight >= 1 ? 0 : s;
    return weight <= 0 ? 0 : Math.max(1, Math.round((s * weight) / Math.max(0.05, 1 - weight)));
  }

  private latencyUs(faulty: boolean, paused: boolean, factor = 1): number {
    const l = this.spec.latency!;
    let ms = factor * l.medianMs * Math.exp(l.sigma * normal(this.rng));
    if (paused && this.rng() < l.gcShare) ms += l.gcMs * (0.5 + this.rng());
    if (faulty) ms += this.spec.fault?.addLatencyMs ?? 0;
    return 1000 * ms;
  }

  /** Second t's traffic at canary weight `weight`, one report per pod into the windows. */
  step(t: number, weight: number): void {
    const shared = this.sharedMultiplier(t);
    const loads = this.loads(weight);
    const fault = this.spec.fault;
    const faulty = fault !== undefined && t >= fault.onsetSecond;
    for (const variant of ["stable", "canary"] as const) {
      const pods = this.podCount(variant, weight);
      if (pods === 0) continue;
      const isCanaryFaulty = variant === "canary" && faulty;
      const multiplier = shared * (isCanaryFaulty ? (fault?.failureMultiplier ?? 1) : 1);
      const groups = [...loads[variant].groups];
      const retries = this.retryQueue[variant];
      if (retries > 0) groups.push({ requests: retries, failure: this.spec.retries!.failure });
      this.retryQueue[variant] = 0;
      this.serve(t, variant, pods, groups, multiplier, isCanaryFaulty);
    }
  }

  private serve(
    t: number,
    variant: "stable" | "canary",
    pods: number,
    groups: Load[],
    multiplier: number,
    faulty: boolean,
  ): void {
    const { rng, spec } = this;
    const left = groups.map((g) => g.requests);
    const clients = spec.clients ?? 4;
    // Without per-pod effects the pods are exchangeable: one split (and one report per client) is enough.
    const reporters = spec.podBursts || spec.latency ? pods : 1;
    for (let i = 0; i < reporters; i++) {
      const p = this.pod(`${variant}-${i}`);
      const tallies = Array.from({ length: clients }, () => ({
        requests: 0,
        failures: 0,
        userGroups: emptyUserGroups(),
        /** Requests per user class (the last entry: users in none) in the order tallied, with their groups. */
        segments: Array.from({ length: (spec.userClasses?.length ?? 0) + 1 }, (): Segment[] => []),
      }));
      for (let g = 0; g < groups.length; g++) {
        const n = i === reporters - 1 ? left[g] : binomial(rng, left[g], 1 / (reporters - i));
        left[g] -= n;
        const base = Math.min(1, groups[g].failure * multiplier);
        const prob = p.burstLeft > 0 ? Math.max(base, spec.podBursts!.failure) : base;
        let unassigned = n;
        for (let c = 0; c < clients; c++) {
          const k = c === clients - 1 ? unassigned : binomial(rng, unassigned, 1 / (clients - c));
          unassigned -= k;
          const failed = binomial(rng, k, prob);
          tallies[c].requests += k;
          tallies[c].failures += failed;
          const cls = groups[g]!.userClass ?? tallies[c].segments.length - 1;
          tallies[c].segments[cls]!.push({
            requests: k,
            userGroup: groups[g]!.userGroup,
            from: this.requestCounter,
          });
          this.tallyUserGroups(tallies[c].userGroups, groups[g]!.userGroup, k, failed);
        }
      }
      const paused = spec.latency !== undefined && rng() < spec.latency.gcPerPodPerSecond;
      const slowUs = this.slow.filter((s) => s.variant === variant).map((s) => s.thresholdUs);
      tallies.forEach(({ requests, failures, userGroups, segments }, client) => {
        if (requests === 0) return;
        if (spec.retries && failures > 0) this.queueRetries(variant, failures);
        const latency = emptySketch();
        if (spec.latency) {
          const factor = (k: number) => spec.userClasses?.[k]?.latencyFactor ?? 1;
          const slow = drawLatencies(segments, slowUs, latency, (k) =>
            this.latencyUs(faulty, paused, factor(k)),
          );
          if (slow) userGroups.slow = slow;
        }
        const at = t * 1000 + 500;
        const group = client % REPORTER_GROUPS;
        const metrics = this.metricStats(segments.map((segs) => segs.reduce((n, x) => n + x.requests, 0)));
        const stats = { ...countStats(requests, failures, latency, metrics), userGroups };
        this.windows.add(this.canaryId, variant, stats, at, group);
      });
    }
  }

  /** The response metric of requests counted per user class (none without a metric model). */
  private metricStats(byClass: readonly number[]): Map<string, MetricStats> {
    const m = this.spec.metric;
    const out = new Map<string, MetricStats>();
    if (!m) return out;
    const stats: MetricStats = { count: 0, sum: 0, sketch: emptySketch() };
    byClass.forEach((n, k) => {
      const factor = this.spec.userClasses?.[k]?.metricFactor ?? 1;
      for (let r = 0; r < n; r++) {
        const v = Math.round(factor * m.median * Math.exp(m.sigma * normal(this.rng)));
        stats.count++;
        stats.sum += v;
        record(stats.sketch, v);
      }
    });
    out.set(m.name, stats);
    return out;
  }

  /**
   * Adds `requests` requests with `failures` failures to their user group, or, without one (no
   * sticky key), spreads them by request counter as the filter does: failures land on random ones.
   */
  private tallyUserGroups(
    into: UserGroupStats,
    group: number | undefined,
    requests: number,
    failures: number,
  ) {
    if (group !== undefined) {
      into.requests[group]! += requests;
      into.failures[group]! += failures;
      return;
    }
    const from = this.requestCounter;
    this.requestCounter += requests;
    const each = Math.floor(requests / USER_GROUPS);
    for (let g = 0; g < USER_GROUPS; g++) {
      const extra = (g - (from % USER_GROUPS) + USER_GROUPS) % USER_GROUPS < requests % USER_GROUPS ? 1 : 0;
      into.requests[g]! += each + extra;
    }
    const failed = new Set<number>();
    while (failed.size < failures) failed.add(Math.floor(this.rng() * requests));
    for (const r of failed) into.failures[(from + r) % USER_GROUPS]!++;
  }

  /** Each failed request is retried once by its user next second (on the same variant: sticky). */
  private queueRetries(variant: "stable" | "canary", failures: number): void {
    this.retryQueue[variant] += failures;
  }
}
