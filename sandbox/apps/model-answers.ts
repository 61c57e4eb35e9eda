/**
 * The demo app as a model server (sandbox/demo/llm-scenario.ts): its LLM endpoint answers with
 * OpenAI-compatible chat completions (sandbox/apps/mock-model.ts), streamed (SSE) for half the
 * users and JSON for the others. A user's prompt is fixed by their key, so "some prompts" are the
 * same users every time: a model with tokenFactor 2 on affectedShare 0.8 doubles the answers of
 * 80% of the users. Guardrail trips answer finish_reason content_filter.
 */
import type { ServerResponse } from "node:http";
import { completionEvents, completionJson, type ModelAnswer } from "./mock-model.js";

/** How a model version answers. */
export interface ModelBehaviour {
  /** The `model` value in answers. */
  model: string;
  /** Mean prompt and completion tokens of a normal answer. */
  promptTokens: number;
  completionTokens: number;
  /** Multiplier of the completion tokens on the affected prompts, and their share. */
  tokenFactor: number;
  affectedShare: number;
  /** Probability of a guardrail block (finish_reason content_filter). */
  guardrailRate: number;
}

/** FNV-1a of a user key, in [0, 1). */
function unit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h / 4294967296;
}

/** The answer to `user`'s prompt. */
export function answerFor(m: ModelBehaviour, user: string, random: () => number): ModelAnswer {
  const u = unit(user);
  const scale = 0.8 + 0.4 * u; // each prompt has its own length
  const affected = unit(`${user}#prompt`) < m.affectedShare;
  return {
    promptTokens: Math.max(1, Math.round(m.promptTokens * scale)),
    completionTokens: Math.max(1, Math.round(m.completionTokens * scale * (affected ? m.tokenFactor : 1))),
    blocked: random() < m.guardrailRate,
  };
}

/** Writes the chat completion for `user` (streamed for half the users); `headers` go with it. */
export function writeAnswer(
  res: ServerResponse,
  m: ModelBehaviour,
  user: string,
  random: () => number,
  headers: Record<string, string>,
): void {
  const a = answerFor(m, user, random);
  if (unit(`${user}#stream`) < 0.5) {
    res.writeHead(200, { ...headers, "content-type": "text/event-stream" });
    res.end(completionEvents(m.model, a).join(""));
    return;
  }
  res.writeHead(200, { ...headers, "content-type": "application/json" });
  res.end(completionJson(m.model, a));
}
