/**
 * Which version each load-generator user was served, and when a user moved between versions.
 *
 * A move counts only when the later request was sent after the earlier one's answer arrived. Two
 * requests of one user in flight together are routed in an order nobody observes: on a loaded
 * machine the one sent first can wait (socket connect, a busy Envoy worker) until after a weight
 * change while the one sent second was routed before it, so send order or arrival order would show
 * a canary→stable move that routing never made. A request sent after an answer was routed after it.
 */

/** Per user: the version of the latest-sent answered request, its send sequence, and `sent` when it was answered. */
interface Served {
  version: string;
  seq: number;
  answeredBefore: number;
}

export class UserTransitions {
  private readonly servedBy = new Map<number, Served>();
  /** Transitions "from->to" counted so far. */
  readonly counts = new Map<string, number>();

  /**
   * Records request `seq` of `user` answered by `version` when `sentSoFar` requests had been sent;
   * returns the move it makes, or undefined.
   */
  answered(
    user: number,
    seq: number,
    version: string,
    sentSoFar: number,
  ): { from: string; to: string } | undefined {
    const before = this.servedBy.get(user);
    if (before !== undefined && seq < before.seq) return undefined;
    this.servedBy.set(user, { version, seq, answeredBefore: sentSoFar });
    if (before === undefined || before.version === version) return undefined;
    // Sent while the earlier answer was still on its way: the two were routed in an unknown order.
    if (seq < before.answeredBefore) return undefined;
    const key = `${before.version}->${version}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return { from: before.version, to: version };
  }
}
