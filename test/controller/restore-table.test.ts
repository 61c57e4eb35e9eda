/**
 * A replica that starts (or gains leadership) with several rollouts running publishes one routing
 * table holding all of them. A first table with only the canary reconciled first made every filter
 * forget the others' tallies and restart them from zero, which the ingest then dropped as counters
 * going backwards: those rollouts saw no data for minutes (found by test/mesh-e2e).
 */
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { Reconciler } from "../../controller/app/reconciler.js";
import { revisionOf } from "../../controller/app/revision.js";
import type { Directive } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import type { CanaryObject } from "../../controller/kube/canaries.js";
import type { CanarySpec } from "../../controller/spec/schema.js";
import type { TelemetryReader } from "../../controller/telemetry/types.js";
import { healthySpec, offlineRunner } from "./harness.js";

const logger = pino({ level: "silent" });

function running(name: string): CanaryObject {
  const spec = healthySpec([10, 50], { host: `${name}.default.svc.cluster.local`, virtualService: { name } });
  return {
    apiVersion: "meshcanary.io/v1alpha1",
    kind: "Canary",
    metadata: {
      name,
      namespace: "default",
      uid: name,
      generation: 1,
      creationTimestamp: "2026-12-07T10:00:00Z",
    },
    spec,
    status: {
      phase: "Progressing",
      step: 0,
      weightBp: 1000,
      routingVersion: 1,
      revision: revisionOf(spec as CanarySpec),
      stepStartedAt: "2026-12-07T10:00:05Z",
    },
  } as CanaryObject;
}

const reader = {
  routingVersions: () => new Map(),
  series: () => [],
} as unknown as TelemetryReader;

/** Every VirtualService read waits for `hold` when it returns a promise (a slow API server). */
function reconcilerPublishingTo(
  published: Directive[],
  hold: (name: string) => Promise<void> | undefined = () => undefined,
): Reconciler {
  const runner = offlineRunner(async () => undefined, hold);
  return new Reconciler({
    runner,
    reader,
    logger,
    publish: (d) => {
      published.push(d);
      return undefined;
    },
  });
}

describe("the first routing table of a replica", () => {
  it.each([
    ["at start", false],
    ["after gaining leadership", true],
  ])("%s holds every running rollout", async (_, relead) => {
    const published: Directive[] = [];
    const reconciler = reconcilerPublishingTo(published);
    for (const name of ["alpha", "bravo", "charlie"]) reconciler.upsert(running(name));
    const now = Date.parse("2026-12-07T10:01:00Z");
    if (relead) {
      await reconciler.tick(now);
      reconciler.resetFromStatus();
      published.length = 0;
    }
    await reconciler.tick(now + 1000);
    expect(published.length).toBeGreaterThan(0);
    const canaries = published.map((d) => d.routes.map((r) => r.canary).sort());
    expect(canaries[0]).toEqual(["default/alpha", "default/bravo", "default/charlie"]);
  });

  it("after leadership came back while a pass was still running holds every running rollout", async () => {
    // Found by test/mesh-e2e with a 2-s lease: the standby lost and regained leadership within a
    // pass; the rest of that pass published tables without the rollouts it had already passed.
    const published: Directive[] = [];
    let blocked: () => void = () => undefined;
    const release = new Promise<void>((r) => {
      blocked = r;
    });
    let holding = false;
    const reconciler = reconcilerPublishingTo(published, (name) => {
      if (name !== "bravo" || published.length === 0) return undefined;
      holding = true;
      return release;
    });
    for (const name of ["alpha", "bravo", "charlie"]) reconciler.upsert(running(name));
    const now = Date.parse("2026-12-07T10:01:00Z");
    const pass = reconciler.tick(now);
    await vi.waitFor(() => expect(holding).toBe(true));
    reconciler.resetFromStatus();
    blocked();
    await pass;
    await reconciler.tick(now + 1000);
    expect(published.length).toBeGreaterThan(1);
    for (const d of published)
      expect(d.routes.map((r) => r.canary).sort()).toEqual([
        "default/alpha",
        "default/bravo",
        "default/charlie",
      ]);
  });
});
