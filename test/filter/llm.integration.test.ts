// LLM response-body metrics (docs/llm.md): the real build/meshcanary.wasm in the sandbox host, fed
// response bodies chunk by chunk as Envoy's encodeData does. Every figure is exact: token sums,
// cost, bytes, time to first byte under the manual clock, guardrail and schema counts.
import { fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ReportSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { completionEvents, completionJson, type ModelAnswer } from "../../sandbox/apps/mock-model.js";
import type { ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterHosts } from "./filter-hosts.js";

const HOST = "model.default.svc.cluster.local";
const MODEL = "mock-1";

const LLM = {
  maxBodyBytes: 4096,
  guardrail: {
    statusCodes: [451],
    header: "x-guardrail",
    headerValue: "blocked",
    field: "finish_reason",
    values: ["content_filter"],
  },
  outputSchema: { target: "content", required: ["answer"] },
  prices: [
    { model: MODEL, promptPerMillion: 2, completionPerMillion: 10 },
    { model: "*", promptPerMillion: 1, completionPerMillion: 1 },
  ],
};

function config(llm: object = LLM): string {
  return JSON.stringify({
    routes: [
      {
        host: HOST,
        canary: "default/model",
        variants: [
          { name: "stable", weight: 10000 },
          { name: "canary", weight: 0 },
        ],
        llm,
      },
    ],
  });
}

const startHost = filterHosts();

function newHost(cfg = config()): Promise<ProxyWasmHost> {
  return startHost({ workers: 1, pluginConfig: cfg });
}

interface Response {
  status?: number;
  headers?: Record<string, string>;
  /** Body chunks as sent by the upstream. */
  chunks: (string | Uint8Array)[];
  /** Manual-clock ms between the request and the first chunk. */
  firstByteMs?: number;
  variant?: "stable" | "canary";
}

const enc = new TextEncoder();

/** One exchange; returns each body callback's action. */
async function exchange(host: ProxyWasmHost, r: Response): Promise<string[]> {
  const s = host.startStream(0);
  s.requestHeaders(
    {
      ":authority": HOST,
      ":path": "/v1/chat/completions",
      ":method": "POST",
      "x-meshcanary-pin": r.variant ?? "stable",
    },
    false,
  );
  const status = r.status ?? 200;
  s.responseHeaders(status, { "content-type": "application/json", ...r.headers }, false);
  if (r.firstByteMs) await host.advance(r.firstByteMs);
  const actions: string[] = [];
  for (const c of r.chunks)
    actions.push(s.responseBody(typeof c === "string" ? enc.encode(c) : c, false).action);
  actions.push(s.responseBody(new Uint8Array(0), true).action);
  s.complete({ responseCode: status });
  return actions;
}

interface Metric {
  count: number;
  sum: number;
}

/** The variant's LLM metrics and request figures, as the tick stores them for the reporter. */
async function tallies(host: ProxyWasmHost, variant = "stable") {
  await host.advance(1000);
  const entry = host.sharedData.get("meshcanary.state");
  if (!entry) throw new Error("no tallies in shared data");
  const report = fromBinary(ReportSchema, entry.value.subarray(1));
  const t = report.totals.find((x) => x.variant === variant);
  const metrics = new Map<string, Metric>();
  for (const m of t?.metrics ?? []) metrics.set(m.name, { count: Number(m.count), sum: m.sum });
  return { requests: Number(t?.requests ?? 0), failures: Number(t?.failures ?? 0), metrics };
}

function m(metrics: Map<string, Metric>, name: string): Metric {
  return metrics.get(name) ?? { count: 0, sum: 0 };
}

/** Splits `s` into chunks of the given sizes (cycled). */
function chunked(s: string, sizes: number[]): string[] {
  const out: string[] = [];
  for (let i = 0, k = 0; i < s.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(s.slice(i, i + n));
    i += n;
  }
  return out;
}

const ANSWER: ModelAnswer = { promptTokens: 12, completionTokens: 34 };

describe("LLM body metrics through the sandbox host", () => {
  it("reads usage from a JSON answer split at every byte boundary, passing every chunk on", async () => {
    const host = await newHost();
    const body = completionJson(MODEL, ANSWER);
    const n = body.length - 1;
    for (let cut = 1; cut <= n; cut++) {
      const actions = await exchange(host, { chunks: [body.slice(0, cut), body.slice(cut)] });
      expect(actions.every((a) => a === "continue")).toBe(true);
    }
    const { requests, failures, metrics } = await tallies(host);
    expect(requests).toBe(n);
    expect(failures).toBe(0);
    expect(m(metrics, "llm-prompt-tokens")).toEqual({ count: n, sum: 12 * n });
    expect(m(metrics, "llm-completion-tokens")).toEqual({ count: n, sum: 34 * n });
    expect(m(metrics, "llm-total-tokens")).toEqual({ count: n, sum: 46 * n });
    // Price table: 12 × 2 + 34 × 10 millionths per request.
    expect(m(metrics, "llm-cost")).toEqual({ count: n, sum: 364 * n });
    expect(m(metrics, "llm-response-bytes")).toEqual({ count: n, sum: body.length * n });
    expect(m(metrics, "llm-unparsed")).toEqual({ count: n, sum: 0 });
    expect(m(metrics, "llm-schema-failures")).toEqual({ count: n, sum: 0 });
    expect(m(metrics, "llm-guardrail-blocks")).toEqual({ count: n, sum: 0 });
  });

  it("reads a streamed (SSE) answer in 1-byte and uneven chunks: usage, content schema, time to first byte", async () => {
    const host = await newHost();
    const sse = completionEvents(MODEL, ANSWER).join("");
    const streamed = { "content-type": "text/event-stream" };
    await exchange(host, { headers: streamed, chunks: chunked(sse, [1]), firstByteMs: 250 });
    await exchange(host, { headers: streamed, chunks: chunked(sse, [7, 100, 3, 33]), firstByteMs: 40 });
    // CRLF line ends are SSE too.
    await exchange(host, {
      headers: streamed,
      chunks: chunked(sse.replaceAll("\n", "\r\n"), [5, 11]),
      firstByteMs: 10,
    });
    const { metrics } = await tallies(host);
    expect(m(metrics, "llm-total-tokens")).toEqual({ count: 3, sum: 3 * 46 });
    expect(m(metrics, "llm-cost")).toEqual({ count: 3, sum: 3 * 364 });
    expect(m(metrics, "llm-ttft-ms")).toEqual({ count: 3, sum: 300 });
    expect(m(metrics, "llm-schema-failures")).toEqual({ count: 3, sum: 0 });
    expect(m(metrics, "llm-unparsed")).toEqual({ count: 3, sum: 0 });
  });

  it("reads Anthropic-style input/output tokens (message_start + cumulative message_delta)", async () => {
    const host = await newHost(
      config({ prices: [{ model: "claude-x", promptPerMillion: 3, completionPerMillion: 15 }] }),
    );
    const events = [
      {
        type: "message_start",
        message: { id: "m", model: "claude-x", usage: { input_tokens: 25, output_tokens: 1 } },
      },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 15 } },
      { type: "message_stop" },
    ];
    const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
    await exchange(host, { headers: { "content-type": "text/event-stream" }, chunks: chunked(sse, [9]) });
    const { metrics } = await tallies(host);
    expect(m(metrics, "llm-prompt-tokens")).toEqual({ count: 1, sum: 25 });
    expect(m(metrics, "llm-completion-tokens")).toEqual({ count: 1, sum: 15 });
    expect(m(metrics, "llm-total-tokens")).toEqual({ count: 1, sum: 40 });
    expect(m(metrics, "llm-cost")).toEqual({ count: 1, sum: 25 * 3 + 15 * 15 });
  });

  it("counts guardrail blocks by JSON field, status code and header, per variant", async () => {
    const host = await newHost();
    const blocked = completionJson(MODEL, { ...ANSWER, blocked: true });
    await exchange(host, { variant: "canary", chunks: [blocked] });
    await exchange(host, { variant: "canary", status: 451, chunks: ['{"error":"policy"}'] });
    await exchange(host, {
      variant: "canary",
      headers: { "x-guardrail": "blocked" },
      chunks: [completionJson(MODEL, ANSWER)],
    });
    await exchange(host, {
      variant: "canary",
      headers: { "x-guardrail": "passed" },
      chunks: [completionJson(MODEL, ANSWER)],
    });
    await exchange(host, { variant: "stable", chunks: [completionJson(MODEL, ANSWER)] });
    const canary = await tallies(host, "canary");
    expect(m(canary.metrics, "llm-guardrail-blocks")).toEqual({ count: 4, sum: 3 });
    // Blocked answers are not judged against the output schema; the one passing answer is.
    expect(m(canary.metrics, "llm-schema-failures")).toEqual({ count: 1, sum: 0 });
    expect(canary.failures).toBe(0);
    const stable = await tallies(host, "stable");
    expect(m(stable.metrics, "llm-guardrail-blocks")).toEqual({ count: 1, sum: 0 });
  });

  it("counts output-schema failures: content that is not JSON or lacks a required field", async () => {
    const host = await newHost();
    for (const content of ['{"answer": "ok"}', "not json", '{"other": 1}', '{"answer": 1', '["answer"]']) {
      await exchange(host, { chunks: chunked(completionJson(MODEL, { ...ANSWER, content }), [13]) });
    }
    const { metrics } = await tallies(host);
    expect(m(metrics, "llm-schema-failures")).toEqual({ count: 5, sum: 4 });
    expect(m(metrics, "llm-unparsed")).toEqual({ count: 5, sum: 0 });
  });

  it("checks the response JSON itself when the schema targets the response", async () => {
    const host = await newHost(config({ outputSchema: { target: "response", required: ["id", "usage"] } }));
    await exchange(host, { chunks: [completionJson(MODEL, ANSWER)] });
    await exchange(host, { chunks: ['{"id": "x"}'] });
    await exchange(host, { chunks: ['{"id": "x", "usage": {}'] });
    const { metrics, failures } = await tallies(host);
    expect(m(metrics, "llm-schema-failures")).toEqual({ count: 3, sum: 2 });
    // The truncated body is also unparsed; neither is an HTTP failure.
    expect(m(metrics, "llm-unparsed")).toEqual({ count: 3, sum: 1 });
    expect(failures).toBe(0);
  });

  it("counts a body past maxBodyBytes, an encoded body and a broken stream as unparsed, not failed", async () => {
    const host = await newHost();
    const long = completionJson(MODEL, { ...ANSWER, content: "y".repeat(5000) });
    await exchange(host, { chunks: chunked(long, [1000]) });
    const gzip = new Uint8Array([0x1f, 0x8b, 8, 0]);
    const broken = 'data: {"usage": \n\ndata: [DONE]\n\n';
    await exchange(host, { headers: { "content-encoding": "gzip" }, chunks: [gzip] });
    await exchange(host, { headers: { "content-type": "text/event-stream" }, chunks: [broken] });
    await exchange(host, { headers: { "content-type": "text/html" }, chunks: ["<html>"] });
    const { metrics, failures, requests } = await tallies(host);
    expect(requests).toBe(4);
    expect(failures).toBe(0);
    // The HTML answer is not scanned at all: it has bytes and a guardrail verdict, no parse verdict.
    expect(m(metrics, "llm-unparsed")).toEqual({ count: 3, sum: 3 });
    expect(m(metrics, "llm-total-tokens").count).toBe(0);
    expect(m(metrics, "llm-response-bytes")).toEqual({
      count: 4,
      sum: long.length + gzip.length + broken.length + 6,
    });
  });

  it("survives hostile bodies with fixed memory: deep nesting, huge keys and numbers, megabytes of stream", async () => {
    const host = await newHost(config({ ...LLM, maxBodyBytes: 64 * 1048576 }));
    const before = host.memoryBytes(0);
    await exchange(host, { chunks: ["[".repeat(100_000)] });
    await exchange(host, { chunks: [`{"${"k".repeat(100_000)}": ${"9".repeat(100_000)}}`] });
    await exchange(host, { chunks: ['{"usage": {"total_tokens": 1e400, "prompt_tokens": -5}}'] });
    const event = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "z".repeat(4000) } }] })}\n\n`;
    const big = Array.from({ length: 1000 }, () => event); // ~4 MB in 1000 chunks
    await exchange(host, { headers: { "content-type": "text/event-stream" }, chunks: big });
    const { metrics } = await tallies(host);
    expect(host.failed(0)).toBe(false);
    expect(m(metrics, "llm-unparsed")).toEqual({ count: 4, sum: 1 });
    // An infinite or negative count is dropped, not summed.
    expect(m(metrics, "llm-total-tokens").count).toBe(0);
    expect(m(metrics, "llm-prompt-tokens").count).toBe(0);
    expect(host.memoryBytes(0) - before).toBeLessThanOrEqual(64 * 1024);
  });

  it("rejects an invalid llm configuration naming the field and the value", async () => {
    const host = await newHost();
    // The host answers with Envoy's generic NACK; the filter logs each problem.
    const bad = (llm: object) => {
      const from = host.logs.length;
      const r = host.configure(config(llm));
      return r.ok
        ? "accepted"
        : host.logs
            .slice(from)
            .map((l) => l.message)
            .join("\n");
    };
    expect(bad({ maxBodyBytes: 0 })).toContain("routes[0].llm.maxBodyBytes: must be an integer 1..");
    expect(bad({ guardrail: { field: "finish_reason" } })).toContain("routes[0].llm.guardrail.values");
    expect(bad({ outputSchema: { target: "xml" } })).toContain(
      'routes[0].llm.outputSchema.target: must be "response" or "content", got "xml"',
    );
    expect(bad({ prices: [{ model: "a", promptPerMillion: -1 }] })).toContain(
      "routes[0].llm.prices[0].promptPerMillion: must be a number >= 0",
    );
    expect(bad({ prices: [{ model: "a" }, { model: "a" }] })).toContain(
      'routes[0].llm.prices[1].model: duplicate model "a"',
    );
    expect(bad({ guardrail: { statusCodes: [99] } })).toContain(
      "routes[0].llm.guardrail.statusCodes[0]: must be an integer 100..599, got 99",
    );
    // The last good configuration stays: traffic is still scanned.
    await exchange(host, { chunks: [completionJson(MODEL, ANSWER)] });
    const { metrics } = await tallies(host);
    expect(m(metrics, "llm-total-tokens")).toEqual({ count: 1, sum: 46 });
  });
});
