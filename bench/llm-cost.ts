/**
 * Filter cost per request of the LLM body scan (docs/llm.md): build/meshcanary.wasm in the sandbox
 * host, the same request and the same response body chunks through a route with `llm` metrics and
 * through one without (the baseline, measured in the same run, alternating rounds). Bodies are the
 * mock model's answers: a streamed one (SSE, ~60 events) and a JSON one. Also the filter's linear
 * memory before and after a long run of scanned answers (goal: no growth).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { completionEvents, completionJson, type ModelAnswer } from "../sandbox/apps/mock-model.js";
import { loadHost, type ProxyWasmHost } from "../sandbox/host/index.js";
import { type Bench, type BenchEntry, entry } from "./results.js";

const HOST = "model.default.svc.cluster.local";
const ROUNDS = 9;

function config(llm: boolean): string {
  return JSON.stringify({
    routes: [
      {
        host: HOST,
        canary: "default/model",
        variants: [
          { name: "stable", weight: 9000 },
          { name: "canary", weight: 1000 },
        ],
        ...(llm
          ? {
              llm: {
                guardrail: { field: "finish_reason", values: ["content_filter"] },
                outputSchema: { target: "content", required: ["answer"] },
                prices: [{ model: "bench", promptPerMillion: 1, completionPerMillion: 2 }],
              },
            }
          : {}),
      },
    ],
  });
}

const ANSWER: ModelAnswer = { promptTokens: 200, completionTokens: 400 };
const enc = new TextEncoder();
const BODIES: Record<string, { contentType: string; chunks: Uint8Array[] }> = {
  sse: {
    contentType: "text/event-stream",
    chunks: completionEvents("bench", ANSWER).map((e) => enc.encode(e)),
  },
  json: { contentType: "application/json", chunks: [enc.encode(completionJson("bench", ANSWER))] },
};
const EMPTY = new Uint8Array(0);

function send(host: ProxyWasmHost, body: { contentType: string; chunks: Uint8Array[] }): void {
  const s = host.startStream(0);
  s.requestHeaders({ ":authority": HOST, ":path": "/v1/chat/completions", ":method": "POST" }, false);
  s.responseHeaders(200, { "content-type": body.contentType }, false);
  for (const c of body.chunks) s.responseBody(c, false);
  s.responseBody(EMPTY, true);
  s.complete({ responseCode: 200, durationNs: 1_000_000 });
}

function timeBody(host: ProxyWasmHost, body: (typeof BODIES)[string], n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) send(host, body);
  return Number(process.hrtime.bigint() - t0) / n;
}

function sizes(mode: string) {
  if (mode === "full") return { perBody: 60_000, soak: 300_000 };
  if (mode === "quick") return { perBody: 15_000, soak: 30_000 };
  return { perBody: 600, soak: 3000 };
}

export const llmCost: Bench = {
  name: "llm-cost",
  async run(ctx) {
    const wasmPath = resolve("build/meshcanary.wasm");
    if (!existsSync(wasmPath)) {
      ctx.log("llm-cost: build/meshcanary.wasm missing (run make wasm); skipped");
      return [];
    }
    const n = sizes(ctx.mode);
    const module = new Uint8Array(readFileSync(wasmPath));
    const scanned = await loadHost({ module, workers: 1, pluginConfig: config(true), timers: "manual" });
    const plain = await loadHost({ module, workers: 1, pluginConfig: config(false), timers: "manual" });
    try {
      const out: BenchEntry[] = [];
      for (const [name, body] of Object.entries(BODIES)) {
        timeBody(scanned, body, Math.ceil(n.perBody / 5));
        timeBody(plain, body, Math.ceil(n.perBody / 5));
        let s = Number.POSITIVE_INFINITY;
        let p = Number.POSITIVE_INFINITY;
        for (let r = 0; r < ROUNDS; r++) {
          s = Math.min(s, timeBody(scanned, body, Math.ceil(n.perBody / 3)));
          p = Math.min(p, timeBody(plain, body, Math.ceil(n.perBody / 3)));
        }
        const bytes = body.chunks.reduce((a, c) => a + c.length, 0);
        out.push(
          entry(`llm-cost.${name}.per-request`, s, "ns (sandbox host)", {
            baseline: p,
            note: `measured, no goal: the scan reads each of the ${bytes} bytes once (${body.chunks.length} chunk(s)); baseline: the same answer on a route without llm metrics; scan cost ${((s - p) / bytes).toFixed(1)} ns/byte`,
          }),
        );
      }
      ctx.log(`llm-cost: memory over ${n.soak} scanned answers`);
      for (let i = 0; i < 1000; i++) send(scanned, i % 2 ? BODIES.sse! : BODIES.json!);
      const before = scanned.memoryBytes(0);
      for (let i = 0; i < n.soak; i++) send(scanned, i % 2 ? BODIES.sse! : BODIES.json!);
      const after = scanned.memoryBytes(0);
      out.push(
        entry("llm-cost.memory-growth", after - before, "bytes of linear memory", {
          baseline: null,
          goal: "== 0",
          met: after === before,
          note: `over ${n.soak} scanned answers; filter memory ${after} bytes`,
        }),
      );
      return out;
    } finally {
      await scanned.close();
      await plain.close();
    }
  },
};
