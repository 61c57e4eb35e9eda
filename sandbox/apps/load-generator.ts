/**
 * Open-loop load generator with a population of sticky users: each request carries one user's id
 * in a header, at a target rate (with an optional linear ramp). It records what each user was
 * served (the app's `x-app-version`), so stickiness can be checked from outside the proxy.
 */
import { Agent, request } from "node:http";
import { UserTransitions } from "./user-transitions.js";

export interface LoadOptions {
  /** Proxy (sidecar) address requests are sent to, e.g. http://127.0.0.1:15001. */
  target: string;
  /** Host header naming the service, e.g. reviews.default.svc.cluster.local. */
  authority: string;
  /** Requests per second once ramped up. */
  rps: number;
  /** Number of distinct users; each request picks one at random. */
  users: number;
  /** Header carrying the user id (the Canary's sticky key). */
  userHeader?: string;
  /** Ramp from 0 to `rps` over this many milliseconds. */
  rampMs?: number;
  /** Path requested; default "/". */
  path?: string;
  /** Requests allowed in flight before new ones are dropped (counted, not queued). */
  maxInFlight?: number;
  /** Called when a user is served by a different version than before, as it happens. */
  onTransition?: (from: string, to: string) => void;
  /** Extra headers on every request (e.g. a tester's pin). */
  headers?: Record<string, string>;
  /** Called for every answer: when its request was sent (Unix ms), the version that answered, the user. */
  onServed?: (sentAtMs: number, version: string, user: number) => void;
}

/** Outcomes by the version that answered ("none" when no response arrived). */
export interface LoadStats {
  sent: number;
  dropped: number;
  /** Requests that got an HTTP response (from the app or the proxy itself). */
  answered: number;
  /** Requests that got no HTTP response (connection refused or reset): they never reached a filter. */
  transportErrors: number;
  byVersion: Map<string, { requests: number; failures: number }>;
  /** Users whose version changed, by "from->to" ("v2->v1" is a canary->stable flip); only moves whose order is known (user-transitions.ts). */
  transitions: Map<string, number>;
}

export interface LoadGenerator {
  stats(): LoadStats;
  /** Change the rate while running. */
  setRate(rps: number): void;
  stop(): Promise<void>;
}

const TICK_MS = 20;

export function startLoad(opts: LoadOptions): LoadGenerator {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const userHeader = opts.userHeader ?? "x-user-id";
  const maxInFlight = opts.maxInFlight ?? 256;
  const url = new URL(opts.path ?? "/", opts.target);
  const byVersion = new Map<string, { requests: number; failures: number }>();
  const users = new UserTransitions();
  let rps = opts.rps;
  let sent = 0;
  let dropped = 0;
  let answered = 0;
  let transportErrors = 0;
  let inFlight = 0;
  let credit = 0;
  const started = Date.now();

  const record = (user: number, seq: number, version: string, failed: boolean): void => {
    const entry = byVersion.get(version) ?? { requests: 0, failures: 0 };
    entry.requests++;
    if (failed) entry.failures++;
    byVersion.set(version, entry);
    if (version === "none") return;
    const move = users.answered(user, seq, version, sent);
    if (move !== undefined) opts.onTransition?.(move.from, move.to);
  };

  const fire = (): void => {
    const user = Math.floor(Math.random() * opts.users);
    const sentAtMs = Date.now();
    const seq = sent;
    inFlight++;
    sent++;
    const req = request(
      url,
      {
        agent,
        method: "GET",
        headers: { ...opts.headers, host: opts.authority, [userHeader]: `user-${user}` },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          inFlight--;
          answered++;
          const version = String(res.headers["x-app-version"] ?? "none");
          record(user, seq, version, (res.statusCode ?? 0) >= 500);
          opts.onServed?.(sentAtMs, version, user);
        });
      },
    );
    req.on("error", () => {
      inFlight--;
      transportErrors++;
      record(user, seq, "none", true);
    });
    req.end();
  };

  let lastTick = started;
  const timer = setInterval(() => {
    const now = Date.now();
    const ramp = opts.rampMs ? Math.min(1, (now - started) / opts.rampMs) : 1;
    // Credit by the time that really passed: a busy event loop fires ticks late, not fewer requests.
    credit += (rps * ramp * Math.min(now - lastTick, 1000)) / 1000;
    lastTick = now;
    while (credit >= 1) {
      credit--;
      if (inFlight >= maxInFlight) dropped++;
      else fire();
    }
  }, TICK_MS);

  return {
    stats: () => ({
      sent,
      dropped,
      answered,
      transportErrors,
      byVersion: new Map([...byVersion].map(([k, v]) => [k, { ...v }])),
      transitions: new Map(users.counts),
    }),
    setRate: (next) => {
      rps = next;
    },
    stop: async () => {
      clearInterval(timer);
      const deadline = Date.now() + 5000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      agent.destroy();
    },
  };
}
