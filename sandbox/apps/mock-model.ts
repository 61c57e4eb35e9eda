/**
 * An OpenAI-compatible mock model server (POST /v1/chat/completions), standing in for one model
 * version: JSON answers, or server-sent events when the request says `"stream": true` (usage in the
 * last data chunk, then `data: [DONE]`, as OpenAI, vLLM and LiteLLM send it with
 * stream_options.include_usage). Token counts, guardrail trips and the time to the first byte
 * follow a per-prompt behaviour the demo and the tests set.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the model does with one prompt. */
export interface ModelAnswer {
  promptTokens: number;
  completionTokens: number;
  /** Answer with finish_reason "content_filter" (a guardrail block) and no text. */
  blocked?: boolean;
  /** The assistant text (default: a JSON object `{"answer": ...}`). */
  content?: string;
  /** Delay before the first body byte, ms. */
  firstByteMs?: number;
  /** Delay between streamed chunks, ms. */
  chunkGapMs?: number;
}

export interface MockModelOptions {
  /** The `model` value in answers. */
  model: string;
  /** The answer to a prompt (the last user message's text). */
  answer(prompt: string): ModelAnswer;
}

export interface MockModel {
  readonly port: number;
  readonly url: string;
  /** Requests answered so far. */
  served(): number;
  close(): Promise<void>;
}

/** The assistant text of an answer. */
export function answerText(a: ModelAnswer): string {
  if (a.blocked) return "";
  return a.content ?? JSON.stringify({ answer: "x".repeat(Math.max(0, Math.min(a.completionTokens, 2000))) });
}

function usage(a: ModelAnswer) {
  return {
    prompt_tokens: a.promptTokens,
    completion_tokens: a.completionTokens,
    total_tokens: a.promptTokens + a.completionTokens,
  };
}

/** A non-streamed chat completion. */
export function completionJson(model: string, a: ModelAnswer): string {
  return JSON.stringify({
    id: "chatcmpl-mock",
    object: "chat.completion",
    created: 1700000000,
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: answerText(a) },
        finish_reason: a.blocked ? "content_filter" : "stop",
      },
    ],
    usage: usage(a),
  });
}

/** A streamed chat completion as SSE events (each a complete `data: ...\n\n` frame). */
export function completionEvents(model: string, a: ModelAnswer): string[] {
  const chunk = (delta: object, finish: string | null, u: object | null) =>
    `data: ${JSON.stringify({
      id: "chatcmpl-mock",
      object: "chat.completion.chunk",
      created: 1700000000,
      model,
      choices: u ? [] : [{ index: 0, delta, finish_reason: finish }],
      usage: u,
    })}\n\n`;
  const text = answerText(a);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 16) pieces.push(text.slice(i, i + 16));
  return [
    chunk({ role: "assistant", content: "" }, null, null),
    ...pieces.map((p) => chunk({ content: p }, null, null)),
    chunk({}, a.blocked ? "content_filter" : "stop", null),
    `data: ${JSON.stringify({ id: "chatcmpl-mock", object: "chat.completion.chunk", model, choices: [], usage: usage(a) })}\n\n`,
    "data: [DONE]\n\n",
  ];
}

/** The last user message's text of a chat request body ("" when there is none). */
export function promptOf(body: unknown): string {
  const messages = (body as { messages?: { role?: string; content?: unknown }[] })?.messages;
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === "user" && typeof m.content === "string") return m.content;
  }
  return "";
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => {
      if (s.length < 1 << 20) s += d;
    });
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answer(opts: MockModelOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "request body is not JSON" } }));
    return;
  }
  const a = opts.answer(promptOf(body));
  if (a.firstByteMs) await wait(a.firstByteMs);
  if ((body as { stream?: unknown }).stream === true) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const e of completionEvents(opts.model, a)) {
      res.write(e);
      if (a.chunkGapMs) await wait(a.chunkGapMs);
    }
    res.end();
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(completionJson(opts.model, a));
}

/** Starts the server on 127.0.0.1 (port 0 = any free port). */
export async function startMockModel(opts: MockModelOptions, port = 0): Promise<MockModel> {
  let served = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== "POST" || !req.url?.startsWith("/v1/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      req.resume();
      return;
    }
    served++;
    answer(opts, req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    served: () => served,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
