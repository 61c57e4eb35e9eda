/**
 * Which reporter group each reporter's data of a canary is kept in, so the analysis can ask whether
 * a verdict holds with any one group left out (issue #14: no single reporter decides). The first
 * REPORTER_GROUPS reporters of a canary get a group each, so with that few reporters every group is
 * one reporter; later ones are dealt round-robin by first sighting, which a reporter cannot choose.
 */

/** Groups per canary: bounds the per-window memory (one stats set per group) and the analysis' re-runs. */
export const REPORTER_GROUPS = 8;

interface CanaryGroups {
  next: number;
  /** namespace -> pod -> group: looked up without building a key string per entry. */
  byPod: Map<string, Map<string, number>>;
}

/** Reporter -> group per canary. */
export class ReporterGroups {
  private readonly canaries = new Map<string, CanaryGroups>();

  /** The group of (namespace, pod)'s data for `canary`, assigned on first sight. */
  groupOf(canary: string, namespace: string, pod: string): number {
    let c = this.canaries.get(canary);
    if (!c) {
      c = { next: 0, byPod: new Map() };
      this.canaries.set(canary, c);
    }
    let pods = c.byPod.get(namespace);
    if (!pods) {
      pods = new Map();
      c.byPod.set(namespace, pods);
    }
    let g = pods.get(pod);
    if (g === undefined) {
      g = c.next++ % REPORTER_GROUPS;
      pods.set(pod, g);
    }
    return g;
  }

  /** Reporters ("namespace/pod") of each group of `canary`. */
  members(canary: string): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const [namespace, pods] of this.canaries.get(canary)?.byPod ?? []) {
      for (const [pod, g] of pods) {
        let list = out.get(g);
        if (!list) {
          list = [];
          out.set(g, list);
        }
        list.push(`${namespace}/${pod}`);
      }
    }
    return out;
  }

  /** Forgets reporters no longer tracked (`live` false) and canaries left without any. */
  retain(live: (namespace: string, pod: string) => boolean): void {
    for (const [canary, c] of this.canaries) {
      for (const [namespace, pods] of c.byPod) {
        for (const pod of pods.keys()) if (!live(namespace, pod)) pods.delete(pod);
        if (pods.size === 0) c.byPod.delete(namespace);
      }
      if (c.byPod.size === 0) this.canaries.delete(canary);
    }
  }
}
