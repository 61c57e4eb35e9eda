// Traffic and checks shared by the data-path reliability suites: unpinned requests through the
// real filter recording what it chose, and the comparison of driven totals with the controller's.
import { create } from "@bufbuild/protobuf";
import { expect } from "vitest";
import { DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import type { TelemetryServer } from "../../controller/telemetry/index.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import { controllerTotals, type Totals } from "../stream/harness.js";

/** Driven totals per variant, as the filter's own header said. */
export type Driven = Map<string, { requests: number; failures: number; s5: number }>;

export interface Round {
  /** Variants chosen in this round. */
  seen: Set<string>;
  /** Mean wall time per request through the host, ms. */
  msPerRequest: number;
}

/** n unpinned requests over `workers` (default all); every 10th answers 500. Records what the filter chose. */
export function driveRound(h: ProxyWasmHost, n: number, driven: Driven, workers?: number[]): Round {
  const on = workers ?? Array.from({ length: h.workerCount }, (_, w) => w);
  const seen = new Set<string>();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const status = i % 10 === 0 ? 500 : 200;
    const r = h.request(
      {
        request: { headers: [[":authority", "reviews"]] },
        response: { status },
        durationNs: 2_000_000,
      },
      on[i % on.length],
    );
    expect(r.localReply).toBeUndefined();
    const variants = r.requestHeaders.filter(([k]) => k === "x-meshcanary-variant").map(([, v]) => v);
    expect(variants).toHaveLength(1);
    const v = variants[0]!;
    seen.add(v);
    const d = driven.get(v) ?? { requests: 0, failures: 0, s5: 0 };
    d.requests++;
    if (status === 500) {
      d.failures++;
      d.s5++;
    }
    driven.set(v, d);
  }
  return { seen, msPerRequest: Number(process.hrtime.bigint() - t0) / 1e6 / n };
}

export function complete(server: TelemetryServer, driven: Driven): boolean {
  for (const [v, d] of driven) if (controllerTotals(server, v).requests !== d.requests) return false;
  return true;
}

export function expectComplete(server: TelemetryServer, driven: Driven): void {
  for (const [v, d] of driven) {
    expect(controllerTotals(server, v), v).toMatchObject<Partial<Totals>>({
      requests: d.requests,
      failures: d.failures,
      status5xx: d.s5,
      latencyCount: d.requests,
    });
  }
}

/** Stream closes the filter logged (one per failed connect or dropped stream). */
export const closedLogs = (h: ProxyWasmHost) =>
  h.logs.filter((l) => l.message.includes("controller stream closed")).length;

export const noWorkerFailed = (h: ProxyWasmHost) => [0, 1, 2].every((w) => !h.failed(w));

/** A table giving every unpinned request to one variant. */
export function allTo(version: bigint, variant: "stable" | "canary") {
  return create(DirectiveSchema, {
    version,
    routes: [
      {
        host: "reviews.default.svc.cluster.local",
        canary: "default/reviews",
        variants: [
          { name: "stable", weightBp: variant === "stable" ? 10000 : 0 },
          { name: "canary", weightBp: variant === "canary" ? 10000 : 0 },
        ],
      },
    ],
  });
}
