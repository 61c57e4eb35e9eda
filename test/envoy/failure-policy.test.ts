// What a trapped Wasm VM does to traffic under each WasmPlugin failStrategy, in real Envoy and in
// the sandbox host: the trapping request, the next request on the same worker, and one after the
// FAIL_RELOAD back-off. The module is the test-only probe (test/fixtures/host/probe.wat), which traps
// on a request carrying `x-trap` and otherwise adds `x-added: 1`; the release filter has no trap door.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import type { FailurePolicy } from "../../sandbox/host/index.js";
import { fixture } from "../host/wat.js";
import { describeEachPlane, send, sleep, startWorld, type World } from "./world.js";

const probePath = join(mkdtempSync(join(tmpdir(), "meshcanary-probe-")), "probe.wasm");
writeFileSync(probePath, fixture("probe"));

/** One request's outcome: its status and whether the filter ran on it (the upstream saw x-added). */
interface Outcome {
  status: number;
  filtered: boolean;
}

async function outcome(w: World, headers: Record<string, string>): Promise<Outcome> {
  const seen = w.up.v1.seen.length;
  const r = await send(w.plane, { "x-meshcanary-pin": "stable", ...headers });
  const forwarded = w.up.v1.seen.slice(seen);
  return { status: r.status, filtered: forwarded.some((h) => h["x-added"] === "1") };
}

/** Observed in Envoy 1.36.2 and 1.40.0 (one worker, so every request meets the trapped VM). */
const EXPECTED: Record<FailurePolicy, { trapping: Outcome; next: Outcome; afterReload: Outcome }> = {
  FAIL_CLOSED: {
    trapping: { status: 503, filtered: false },
    next: { status: 503, filtered: false },
    afterReload: { status: 503, filtered: false },
  },
  FAIL_OPEN: {
    trapping: { status: 503, filtered: false },
    next: { status: 200, filtered: false },
    afterReload: { status: 200, filtered: false },
  },
  FAIL_RELOAD: {
    trapping: { status: 503, filtered: false },
    next: { status: 503, filtered: false },
    afterReload: { status: 200, filtered: true },
  },
};

describeEachPlane("a trapped VM under each failure policy", (kind) => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  for (const policy of ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"] as const) {
    it(policy, async () => {
      w = await startWorld(kind, { wasmPath: probePath, failurePolicy: policy, workers: 1 });
      expect(await outcome(w, {})).toEqual({ status: 200, filtered: true });
      const trapping = await outcome(w, { "x-trap": "1" });
      const next = await outcome(w, {});
      // Envoy re-creates a FAIL_RELOAD VM 1000–1500 ms after it failed.
      await sleep(2000);
      const afterReload = await outcome(w, {});
      expect({ trapping, next, afterReload }).toEqual(EXPECTED[policy]);
    });
  }

  for (const policy of ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"] as const) {
    it(`${policy}: a request in flight when the VM traps`, async () => {
      w = await startWorld(kind, { wasmPath: probePath, failurePolicy: policy, workers: 1 });
      const slow = outcome(w, { "x-test-delay-ms": "400" });
      await sleep(100);
      await outcome(w, { "x-trap": "1" });
      const inFlight = await slow;
      expect(inFlight.status).toBe(503);
    });
  }

  it("FAIL_RELOAD: the back-off counts from the VM's last load, not from the failure", async () => {
    w = await startWorld(kind, { wasmPath: probePath, failurePolicy: "FAIL_RELOAD", workers: 1 });
    const recoveryMs = async () => {
      const trappedAt = Date.now();
      await outcome(w!, { "x-trap": "1" });
      for (;;) {
        if ((await outcome(w!, {})).status === 200) return Date.now() - trappedAt;
        expect(Date.now() - trappedAt).toBeLessThan(5000);
        await sleep(20);
      }
    };
    // Trapped right after the load: the back-off (about a second) runs from that load.
    expect(await recoveryMs()).toBeGreaterThan(500);
    // Trapped 2.5 s after the reload: the back-off has passed, the next request gets a fresh VM.
    await sleep(2500);
    expect(await recoveryMs()).toBeLessThan(400);
  });

  it("FAIL_CLOSED: a configuration update brings the failed worker back", async () => {
    w = await startWorld(kind, { wasmPath: probePath, failurePolicy: "FAIL_CLOSED", workers: 1 });
    await outcome(w, { "x-trap": "1" });
    expect(await outcome(w, {})).toEqual({ status: 503, filtered: false });
    expect(await w.plane.reconfigure('{"changed":true}')).toBe("applied");
    const after = await outcome(w, {});
    expect(after).toEqual({ status: 200, filtered: true });
  });
});
