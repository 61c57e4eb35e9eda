// Host limits the source audit named and no other suite drives, in real Envoy and in the sandbox
// host: the 1 GiB cap on Wasm memory, which VMs' root contexts tick (Envoy also loads a VM on its
// main thread), and what a callout to a cluster the proxy does not have returns. The module is the
// test-only test/fixtures/host/limits.wat: a request's `x-probe` picks the action and the result
// reaches the upstream as `x-probe-result`.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fixture } from "../host/wat.js";
import { describeEachPlane, send, sleep, startWorld, type World } from "./world.js";

const limitsPath = join(mkdtempSync(join(tmpdir(), "meshcanary-limits-")), "limits.wasm");
writeFileSync(limitsPath, fixture("limits"));

const COUNTER = "meshcanary_probe_";
const WORKERS = 2;

/** Runs one probe action and returns what the module forwarded as its result. */
async function probe(w: World, action: string): Promise<string | undefined> {
  const seen = w.up.v1.seen.length;
  const r = await send(w.plane, { "x-probe": action });
  expect(r.status).toBe(200);
  const result = w.up.v1.seen.slice(seen).map((h) => h["x-probe-result"]);
  expect(result).toHaveLength(1);
  return result[0] as string | undefined;
}

/** A probe counter (Envoy prefixes custom metrics with `wasmcustom.`). */
async function counter(w: World, name: string): Promise<number> {
  const m = await w.plane.metrics();
  return m.get(`wasmcustom.${COUNTER}${name}`) ?? m.get(`${COUNTER}${name}`) ?? 0;
}

describeEachPlane("host limits", (kind) => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(kind, { wasmPath: limitsPath, workers: WORKERS });
  });
  afterAll(async () => {
    await w?.close();
  });

  it("ticks the root context of each worker's VM and of the main thread's VM", async () => {
    // The module arms a 50 ms tick in on_configure and counts each VM once, at its first tick.
    await sleep(1000);
    expect(await counter(w, "ticking_vms")).toBe(WORKERS + 1);
    // Configured: those three, and the throw-away VM that validates the configuration first.
    expect(await counter(w, "configured_vms")).toBe(WORKERS + 2);
  });

  it("caps Wasm memory at 1 GiB: growing to 16384 pages works, one page more fails", async () => {
    // Both steps run in one request, so on one VM whichever worker takes it.
    expect(await probe(w, "m")).toBe("ok, fail");
  });

  it("a gRPC stream to a missing cluster: the result code per service form, then on_grpc_close", async () => {
    const closes = await counter(w, "grpc_close");
    const statuses = await counter(w, "grpc_close_status_sum");
    expect({ proto: await probe(w, "s"), name: await probe(w, "n") }).toEqual(EXPECTED_GRPC);
    await sleep(500);
    expect({
      closes: (await counter(w, "grpc_close")) - closes,
      statusSum: (await counter(w, "grpc_close_status_sum")) - statuses,
    }).toEqual(EXPECTED_GRPC_CLOSE);
  });

  it("an HTTP call to a missing cluster is refused at once, with no response callback", async () => {
    expect(await probe(w, "h")).toBe("02"); // BadArgument
    await sleep(300);
    expect(await counter(w, "http_response")).toBe(0);
  });
});

/** proxy_grpc_stream's result (two digits) for a GrpcService proto and for a plain cluster name. */
const EXPECTED_GRPC = { proto: "10", name: "04" };
/** on_grpc_close calls (and their status sum) the two refused streams bring. */
const EXPECTED_GRPC_CLOSE = { closes: 1, statusSum: 14 };
