/**
 * The pods behind every service of the mesh-shaped suite: one server per version label (v1, v2),
 * serving every host. Each request is answered as the test set that host's version to behave, and
 * counted by the Canary it was sent for (x-test-canary) and the variant the filter marked it with
 * (x-meshcanary-variant; "" when unmarked): the ground truth the controller's counts must equal.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** How one version of one host answers. */
export interface Behaviour {
  /** Every n-th request gets a 500 (0: none). 500, not 503: Istio's default policy retries 503s. */
  failEvery: number;
  /** Answers carry hostile values in the tokens metric header (overflow, inf, nan, garbage). */
  hostileMetric: boolean;
}

export const METRIC_HEADER = "x-llm-total-tokens";
const HOSTILE_VALUES = ["1.7e308", "1e999", "inf", "-inf", "nan", "NaN", "-1.7e308", "0x10", "9".repeat(400)];
const HEALTHY: Behaviour = { failEvery: 0, hostileMetric: false };

export interface Upstreams {
  ports: Record<"v1" | "v2", number>;
  /** Sets how `version` of `host` (the request's authority without port) answers from now on. */
  behave(host: string, version: string, b: Partial<Behaviour>): void;
  /** Requests served for a canary tag by variant ("" = not marked by the filter). */
  served(tag: string): Map<string, number>;
  /** Requests in flight (accepted, not yet answered). */
  inFlight(): number;
  close(): Promise<void>;
}

export async function startUpstreams(): Promise<Upstreams> {
  const behaviours = new Map<string, Behaviour>();
  const counts = new Map<string, Map<string, number>>();
  const seq = new Map<string, number>();
  let inFlight = 0;
  const serve = (version: string): Server =>
    createServer((req, res) => {
      inFlight++;
      req.resume();
      const host = (req.headers.host ?? "").split(":")[0]!;
      const key = `${host}/${version}`;
      const b = behaviours.get(key) ?? HEALTHY;
      const n = (seq.get(key) ?? 0) + 1;
      seq.set(key, n);
      const tag = String(req.headers["x-test-canary"] ?? "");
      const variant = String(req.headers["x-meshcanary-variant"] ?? "");
      const byVariant = counts.get(tag) ?? new Map<string, number>();
      byVariant.set(variant, (byVariant.get(variant) ?? 0) + 1);
      counts.set(tag, byVariant);
      const metric = b.hostileMetric ? HOSTILE_VALUES[n % HOSTILE_VALUES.length]! : String(n % 500);
      const status = b.failEvery > 0 && n % b.failEvery === 0 ? 500 : 200;
      res.writeHead(status, { "x-served-by": version, [METRIC_HEADER]: metric });
      res.end(version, () => {
        inFlight--;
      });
    });
  const servers = { v1: serve("v1"), v2: serve("v2") };
  for (const s of Object.values(servers)) {
    s.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  }
  const port = (s: Server) => (s.address() as AddressInfo).port;
  return {
    ports: { v1: port(servers.v1), v2: port(servers.v2) },
    behave: (host, version, b) => {
      const key = `${host}/${version}`;
      behaviours.set(key, { ...(behaviours.get(key) ?? HEALTHY), ...b });
    },
    served: (tag) => new Map(counts.get(tag) ?? []),
    inFlight: () => inFlight,
    close: async () => {
      for (const s of Object.values(servers)) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}
