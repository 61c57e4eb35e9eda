import { describe, expect, it } from "vitest";
import { loadHost } from "../../sandbox/host/index.js";
import { fixture } from "./wat.js";

const guestCalls = (logs: Array<{ message: string }>): number =>
  logs.filter((l) => l.message.startsWith("wasm log")).length;

describe("trap handling (contract §5.6)", () => {
  it("FAIL_CLOSED: 503 wasm_fail_stream for the trapping and later requests, callbacks skipped", async () => {
    const host = await loadHost({ module: fixture("probe"), timers: "manual" });
    const r1 = host.request({
      request: { headers: { ":path": "/", "x-trap": "1" } },
      response: { status: 200 },
    });
    expect(r1.localReply).toEqual({
      status: 503,
      details: "wasm_fail_stream",
      body: new Uint8Array(0),
      headers: [[":status", "503"]],
    });
    expect(host.failed()).toBe(true);
    expect(
      host.logs.some((l) =>
        /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/.test(l.message),
      ),
    ).toBe(true);
    const before = guestCalls(host.logs);
    const r2 = host.request({ request: { headers: { ":path": "/" } }, response: { status: 200 } });
    expect(r2.localReply?.status).toBe(503);
    expect(guestCalls(host.logs)).toBe(before);
    await host.close();
  });

  it("FAIL_OPEN: the trapping request gets 503, later requests skip the filter", async () => {
    const host = await loadHost({ module: fixture("probe"), timers: "manual", failurePolicy: "FAIL_OPEN" });
    const trapping = host.request({ request: { headers: { ":path": "/", "x-trap": "1" } } });
    expect(trapping.localReply).toMatchObject({ status: 503, details: "wasm_fail_stream" });
    const r = host.request({
      request: { headers: { ":path": "/", "x-user": "u" } },
      response: { status: 200 },
    });
    expect(r.localReply).toBeUndefined();
    expect(r.requestHeaders.find(([k]) => k === "x-added")).toBeUndefined();
    await host.close();
  });

  it("FAIL_RELOAD: a fresh VM serves after the backoff", async () => {
    const host = await loadHost({ module: fixture("probe"), timers: "manual", failurePolicy: "FAIL_RELOAD" });
    host.request({ request: { headers: { ":path": "/", "x-trap": "1" } } });
    expect(host.request({ request: { headers: { ":path": "/" } } }).localReply?.status).toBe(503);
    await host.advance(1000);
    const r = host.request({ request: { headers: { ":path": "/" } } });
    expect(r.localReply).toBeUndefined();
    expect(r.requestHeaders).toContainEqual(["x-added", "1"]);
    expect(host.failed()).toBe(false);
    await host.close();
  });
});
