/**
 * Fault injection for reliability tests: fail or delay the next N requests matching a method and a
 * path pattern, and force open watches to expire (410 Gone) so informers must relist.
 */

/** Which requests a rule applies to. */
export interface FaultMatch {
  /** HTTP method (GET, POST, PUT, PATCH, DELETE); any method when omitted. */
  method?: string;
  /** Tested against the URL path (no query string), e.g. /virtualservices/ or /leases/leader$/. */
  path: RegExp;
  /** How many matching requests the rule affects; default 1. */
  times?: number;
}

/** What happens to a matched request. */
export type FaultAction =
  | { kind: "fail"; status: number; message: string }
  | { kind: "delay"; delayMs: number };

interface Rule {
  method?: string;
  path: RegExp;
  remaining: number;
  action: FaultAction;
}

export class FaultInjector {
  private readonly rules: Rule[] = [];
  private readonly expirers = new Set<() => void>();

  /** The next `times` matching requests fail with `status` (e.g. 409, 500, 503) and a Status body. */
  failNext(match: FaultMatch & { status: number; message?: string }): void {
    const message = match.message ?? `injected fault: ${match.status}`;
    this.add(match, { kind: "fail", status: match.status, message });
  }

  /** The next `times` matching requests are held for delayMs before being served normally. */
  delayNext(match: FaultMatch & { delayMs: number }): void {
    this.add(match, { kind: "delay", delayMs: match.delayMs });
  }

  /** Ends every open watch with a 410 Gone ERROR event and drops the change history (resume → 410). */
  expireWatches(): void {
    for (const expire of [...this.expirers]) expire();
  }

  /** Rules not yet used up. */
  pending(): number {
    return this.rules.reduce((n, r) => n + r.remaining, 0);
  }

  /** Removes all rules. */
  clear(): void {
    this.rules.length = 0;
  }

  /** Server side: the action for this request, consuming one use of the first matching rule. */
  take(method: string, path: string): FaultAction | undefined {
    const rule = this.rules.find((r) => (r.method === undefined || r.method === method) && r.path.test(path));
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule.action;
  }

  /** Server side: connects expireWatches() to a store; returns the disconnect function. */
  attachExpirer(expire: () => void): () => void {
    this.expirers.add(expire);
    return () => this.expirers.delete(expire);
  }

  private add(match: FaultMatch, action: FaultAction): void {
    const times = match.times ?? 1;
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError(`times: must be a positive integer, got ${times}`);
    this.rules.push({ method: match.method?.toUpperCase(), path: match.path, remaining: times, action });
  }
}
