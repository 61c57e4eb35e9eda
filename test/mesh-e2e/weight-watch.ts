/**
 * Every canary weight the VirtualServices held, per Canary, as the informer (istiod's view) saw
 * each change; and the rule they must follow: never down, except one drop to 0 when rolling back.
 */
import type { VirtualServiceSource } from "../../sandbox/sidecar/virtual-service-source.js";
import type { Lane } from "./lanes.js";

export interface WeightWatch {
  /** Distinct consecutive canary weights (percent on the target route) per Canary name. */
  weights: Map<string, number[]>;
  /** Canary names whose routes appeared in a VirtualService while they were not the lane's Canary. */
  intruders: Set<string>;
}

/** Percent of the target route ("primary") on `subset`; a lone destination without weight is 100. */
export function subsetPercent(http: Array<{ name?: string; route?: unknown[] }>, subset: string): number {
  const target = http.find((r) => r.name === "primary");
  let percent = 0;
  for (const d of (target?.route ?? []) as Array<{ destination?: { subset?: string }; weight?: number }>) {
    if (d.destination?.subset === subset) percent += d.weight ?? 100;
  }
  return percent;
}

export function watchWeights(routing: VirtualServiceSource, lanes: readonly Lane[]): WeightWatch {
  const out: WeightWatch = { weights: new Map(), intruders: new Set() };
  routing.onChange(() => {
    const byName = new Map(routing.namespacedVirtualServices().map((v) => [v.name, v.spec]));
    for (const lane of lanes) {
      const http = (byName.get(lane.service)?.http ?? []) as Array<{ name?: string; route?: unknown[] }>;
      for (const r of http) {
        const owner = r.name?.match(/^meshcanary-(.+?)-(pin-cookie-|pin-)?(stable|canary)$/)?.[1];
        if (owner !== undefined && owner !== lane.active?.name) out.intruders.add(owner);
      }
      if (!lane.active) continue;
      const seq = out.weights.get(lane.active.name) ?? [];
      const w = subsetPercent(http, lane.active.canarySubset);
      if (seq.at(-1) !== w) seq.push(w);
      out.weights.set(lane.active.name, seq);
    }
  });
  return out;
}

/**
 * Why a Canary's weight sequence breaks the rule, or undefined: it never decreases, except that a
 * rolled-back Canary may drop to 0 once and stay there. The sequence starts at the Canary's 0%.
 */
export function backwardsMove(seq: readonly number[], rolledBack: boolean): string | undefined {
  let dropped = false;
  for (let i = 1; i < seq.length; i++) {
    const [a, b] = [seq[i - 1]!, seq[i]!];
    if (dropped && b !== 0) return `weight ${b}% after the rollback to 0% (${seq.join(" → ")})`;
    if (b >= a) continue;
    if (rolledBack && b === 0 && !dropped) {
      dropped = true;
      continue;
    }
    return `weight went back from ${a}% to ${b}% (${seq.join(" → ")})`;
  }
  return undefined;
}
