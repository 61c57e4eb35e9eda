// The probes behind bench/envoy-host-calls.ts, run in our host: each makes exactly REPEATS calls of
// its host function per request and nothing else (the reference none), and each call that should
// return a value gets one (a malloc), so the price list in real Envoy measures what each probe says.
import { describe, expect, it } from "vitest";
import { callEntries } from "../../bench/envoy-host-calls.js";
import { PROBES, probeModule, REPEATS } from "../../bench/host-call-probes.js";
import { loadHost } from "../../sandbox/host/index.js";

/** Host calls (and mallocs) of one request through a probe, by name. */
async function callsOf(name: string): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  let counting = false;
  const host = await loadHost({
    module: await probeModule(name),
    workers: 1,
    pluginConfig: "",
    timers: "manual",
    onHostCall: (call) => {
      if (counting) calls.set(call, (calls.get(call) ?? 0) + 1);
    },
  });
  try {
    counting = true;
    host.request({
      request: {
        headers: [
          [":authority", "reviews"],
          [":path", "/"],
        ],
      },
      response: { status: 200, bodyBytes: 10 },
    });
    counting = false;
  } finally {
    await host.close();
  }
  return calls;
}

/** Probes whose call returns a value the host copies into the VM (one malloc each). */
const RETURNS_VALUE = new Set([
  "property-response-code",
  "property-request-duration",
  "property-response-flags",
  "property-response-size",
  "header-status",
  "request-header-pairs",
  "shared-8-bytes",
]);

describe("host-call probes", () => {
  it("the reference makes no host call", async () => {
    expect([...(await callsOf("none"))]).toEqual([]);
  });

  for (const [name, probe] of Object.entries(PROBES)) {
    if (name === "none") continue;
    it(`${name}: ${REPEATS} × ${probe.host}, and a malloc each only when a value comes back`, async () => {
      const calls = await callsOf(name);
      const mallocs = RETURNS_VALUE.has(name) ? REPEATS : 0;
      expect(Object.fromEntries(calls)).toEqual({
        [probe.host]: REPEATS,
        ...(mallocs > 0 ? { malloc: mallocs } : {}),
      });
    });
  }
});

describe("price list entries", () => {
  it("per call: the best round minus the reference's best round, divided by the repeats", () => {
    const runs = new Map(Object.keys(PROBES).map((k) => [k, [90, 80]]));
    runs.set("none", [70, 68]);
    runs.set("clock-monotonic", [77, 76]);
    const entries = callEntries(runs, "1.40.0");
    expect(entries[0]).toMatchObject({ name: "envoy-host-calls.none.cpu-per-request", value: 68 });
    expect(entries.find((e) => e.name === "envoy-host-calls.clock-monotonic")?.value).toBeCloseTo(
      8 / REPEATS,
      9,
    );
    expect(entries.find((e) => e.name === "envoy-host-calls.header-status")?.value).toBeCloseTo(
      12 / REPEATS,
      9,
    );
    expect(entries).toHaveLength(Object.keys(PROBES).length);
  });
});
