/**
 * One call of a gating webhook: a JSON POST (Flagger's payload: name, namespace, phase, type,
 * metadata, plus our rollout position) whose answer passes on a 2xx and fails otherwise. Whatever
 * the endpoint does (hangs, streams a huge body, redirects elsewhere, answers with escape codes)
 * the call ends within the gate's timeout with a one-line reason fit for status (http-post.ts).
 */
import type { GateType, Phase } from "../spec/schema.js";
import { boundedPost } from "./http-post.js";

/** A spec.gates entry, as the caller needs it. */
export interface GateTarget {
  name: string;
  type: GateType;
  url: string;
  timeoutSeconds?: number;
  metadata?: Record<string, string>;
}

/** The JSON body of a gate call. */
export interface GatePayload {
  /** Canary name and namespace (Flagger's fields), and "<namespace>/<name>". */
  name: string;
  namespace: string;
  canary: string;
  /** Gate type being called. */
  type: GateType;
  /** Phase of the rollout when called. */
  phase: Phase;
  revision?: string;
  step: number;
  canaryWeight: number;
  /** The gate's spec.gates metadata. */
  metadata: Record<string, string>;
  /** RFC3339 time of the call. */
  at: string;
}

export interface GateAnswer {
  passed: boolean;
  message: string;
}

export async function callGate(
  target: GateTarget,
  payload: GatePayload,
  signal?: AbortSignal,
): Promise<GateAnswer> {
  const outcome = await boundedPost(target.url, "application/json", JSON.stringify(payload), {
    timeoutMs: (target.timeoutSeconds ?? 10) * 1000,
    ...(signal ? { signal } : {}),
  });
  if (!outcome.ok) return { passed: false, message: outcome.error };
  const { status, redirectTo, excerpt } = outcome.answer;
  if (status >= 200 && status < 300) return { passed: true, message: `HTTP ${status}` };
  if (redirectTo !== undefined)
    return { passed: false, message: `HTTP ${status}: redirect to ${redirectTo} not followed` };
  return { passed: false, message: excerpt === "" ? `HTTP ${status}` : `HTTP ${status}: ${excerpt}` };
}
