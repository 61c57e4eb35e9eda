// LLM response-body metrics through both data planes (real Envoy as an Istio sidecar, and the
// TypeScript sidecar): OpenAI-compatible mock models behind a canary, the llm configuration arriving
// in a Directive (proto LlmMetrics), streamed and non-streamed answers passed through unchanged, and
// the controller's windows holding exactly the tokens, cost, bytes and guardrail blocks served.
import { request } from "node:http";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DirectiveSchema, SchemaTarget } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import {
  completionEvents,
  completionJson,
  type MockModel,
  type ModelAnswer,
  startMockModel,
} from "../../sandbox/apps/mock-model.js";
import { type DataPlane, type DataPlaneKind, startDataPlane } from "../../sandbox/data-plane.js";
import type { MeshView } from "../../sandbox/envoy/istio-xds.js";
import { CLUSTER, describeEachPlane, INTERVAL_MS, ROOT, sleep, VARIANT, waitFor } from "./world.js";

const HOST = "model.default.svc.cluster.local";
const CANARY = "default/model";
const FIRST_BYTE_MS = 60;

const stableAnswer = (): ModelAnswer => ({ promptTokens: 10, completionTokens: 20, chunkGapMs: 2 });
const canaryAnswer = (prompt: string): ModelAnswer => ({
  promptTokens: 10,
  completionTokens: 40,
  blocked: prompt.includes("unsafe"),
  firstByteMs: FIRST_BYTE_MS,
  chunkGapMs: 2,
});

function mesh(stable: MockModel, canary: MockModel): MeshView {
  const route = (variant: string, subset: string) => ({
    name: `meshcanary-${variant}`,
    match: [{ headers: { [VARIANT]: { exact: variant } } }],
    route: [{ destination: { host: "model", subset } }],
  });
  return {
    proxyNamespace: "default",
    services: [
      {
        host: HOST,
        port: 8000,
        endpoints: [
          { address: "127.0.0.1", port: stable.port, labels: { version: "v1" } },
          { address: "127.0.0.1", port: canary.port, labels: { version: "v2" } },
        ],
      },
    ],
    virtualServices: [
      {
        namespace: "default",
        name: "model",
        spec: {
          hosts: ["model"],
          http: [
            route("canary", "v2"),
            route("stable", "v1"),
            { route: [{ destination: { host: "model", subset: "v1" } }] },
          ],
        },
      },
    ],
    destinationRules: [
      {
        namespace: "default",
        name: "model",
        host: HOST,
        subsets: ["v1", "v2"].map((v) => ({ name: v, labels: { version: v } })),
      },
    ],
  };
}

const ROUTE = {
  host: HOST,
  canary: CANARY,
  variants: [
    { name: "stable", weightBp: 9000 },
    { name: "canary", weightBp: 1000 },
  ],
};

/** The Directive that turns the body metrics on (the plugin configuration has none). */
function directive(version: number) {
  return create(DirectiveSchema, {
    version: BigInt(version),
    routes: [
      {
        ...ROUTE,
        llm: {
          maxBodyBytes: 65536,
          guardrailField: "finish_reason",
          guardrailValues: ["content_filter"],
          schemaTarget: SchemaTarget.CONTENT,
          schemaRequired: ["answer"],
          prices: [
            { model: "model-a", promptPerMillion: 1, completionPerMillion: 3 },
            { model: "model-b", promptPerMillion: 2, completionPerMillion: 5 },
          ],
        },
      },
    ],
  });
}

interface Reply {
  body: string;
  ms: number;
}

function chat(plane: DataPlane, pin: string, prompt: string, stream: boolean): Promise<Reply> {
  const started = performance.now();
  const payload = JSON.stringify({ model: "any", stream, messages: [{ role: "user", content: prompt }] });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: plane.port,
        method: "POST",
        path: "/v1/chat/completions",
        headers: { host: HOST, "content-type": "application/json", "x-meshcanary-pin": pin },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ body, ms: performance.now() - started }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Sum and count of a metric over every window the controller holds for `variant`. */
function metric(server: TelemetryServer, variant: string, name: string): { count: number; sum: number } {
  let count = 0;
  let sum = 0;
  for (const w of server.reader.series(CANARY, 0, Number.MAX_SAFE_INTEGER)) {
    const m = w.variants.get(variant)?.metrics.get(name);
    if (!m) continue;
    count += m.count;
    sum += m.sum;
  }
  return { count, sum };
}

describeEachPlane("LLM body metrics", (kind: DataPlaneKind) => {
  let stable: MockModel;
  let canary: MockModel;
  let server: TelemetryServer;
  let plane: DataPlane;
  beforeAll(async () => {
    stable = await startMockModel({ model: "model-a", answer: stableAnswer });
    canary = await startMockModel({ model: "model-b", answer: canaryAnswer });
    server = await startTelemetryServer({ address: "127.0.0.1:0", isKnownCanary: (id) => id === CANARY });
    const variants = ROUTE.variants.map((v) => ({ name: v.name, weight: v.weightBp }));
    plane = await startDataPlane({
      kind,
      root: ROOT,
      pluginConfig: JSON.stringify({
        controller: { cluster: CLUSTER, intervalMs: INTERVAL_MS },
        routes: [{ host: HOST, canary: CANARY, variants }],
      }),
      node: { pod: "client-0", namespace: "default", workload: "client" },
      controller: { cluster: CLUSTER, address: "127.0.0.1", port: server.port },
      mesh: () => mesh(stable, canary),
      workers: 2,
    });
    const err = server.publish(directive(1));
    if (err) throw err;
    await waitFor(
      () => [...server.reader.routingVersions().values()].some((v) => v >= 1),
      "the llm Directive applied",
      10_000,
    );
  }, 60_000);
  afterAll(async () => {
    await plane?.close();
    await server?.close();
    await stable?.close();
    await canary?.close();
  });

  it("tallies exactly the tokens, cost, bytes and guardrail blocks served, passing every body through unchanged", async () => {
    const replies: Record<string, Reply[]> = { stable: [], canary: [] };
    let bytes = { stable: 0, canary: 0 };
    for (let i = 0; i < 12; i++) {
      for (const pin of ["stable", "canary"] as const) {
        const stream = i % 2 === 0;
        const prompt = i % 3 === 0 ? `unsafe ${i}` : `hello ${i}`;
        const r = await chat(plane, pin, prompt, stream);
        const a = pin === "stable" ? stableAnswer() : canaryAnswer(prompt);
        const model = pin === "stable" ? "model-a" : "model-b";
        expect(r.body).toBe(stream ? completionEvents(model, a).join("") : completionJson(model, a));
        replies[pin]!.push(r);
        bytes = { ...bytes, [pin]: bytes[pin] + Buffer.byteLength(r.body) };
      }
    }
    await waitFor(
      () =>
        metric(server, "stable", "llm-total-tokens").count >= 12 &&
        metric(server, "canary", "llm-total-tokens").count >= 12,
      "the controller to hold every answer",
      10_000,
    );
    await sleep(INTERVAL_MS + 200);
    expect(metric(server, "stable", "llm-total-tokens")).toEqual({ count: 12, sum: 12 * 30 });
    expect(metric(server, "canary", "llm-total-tokens")).toEqual({ count: 12, sum: 12 * 50 });
    expect(metric(server, "stable", "llm-cost")).toEqual({ count: 12, sum: 12 * (10 * 1 + 20 * 3) });
    expect(metric(server, "canary", "llm-cost")).toEqual({ count: 12, sum: 12 * (10 * 2 + 40 * 5) });
    expect(metric(server, "stable", "llm-response-bytes")).toEqual({ count: 12, sum: bytes.stable });
    expect(metric(server, "canary", "llm-response-bytes")).toEqual({ count: 12, sum: bytes.canary });
    // i = 0, 3, 6, 9 ask "unsafe": the canary model's finish_reason is content_filter.
    expect(metric(server, "canary", "llm-guardrail-blocks")).toEqual({ count: 12, sum: 4 });
    expect(metric(server, "stable", "llm-guardrail-blocks")).toEqual({ count: 12, sum: 0 });
    // Unblocked answers carry {"answer": ...} as content: all pass the schema.
    expect(metric(server, "canary", "llm-schema-failures")).toEqual({ count: 8, sum: 0 });
    expect(metric(server, "stable", "llm-unparsed")).toEqual({ count: 12, sum: 0 });
    expect(metric(server, "canary", "llm-unparsed")).toEqual({ count: 12, sum: 0 });
    // Time to first byte: at least the model's delay, at most what the client waited in all.
    const ttft = metric(server, "canary", "llm-ttft-ms");
    const clientMs = replies.canary!.reduce((a, r) => a + r.ms, 0);
    expect(ttft.count).toBe(12);
    expect(ttft.sum).toBeGreaterThanOrEqual(12 * FIRST_BYTE_MS * 0.99);
    expect(ttft.sum).toBeLessThanOrEqual(clientMs);
  });
});
