/**
 * Polls one Canary until a condition on it holds, for the commands that wait on the controller
 * (operator commands waiting for their acknowledgement, `wait`). Every way the wait can end is a
 * value: the condition's result, the deadline, the Canary gone, or the API unreachable for longer
 * than `lostAfterMs` (reported rather than waited on forever).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { type CanaryObject, getCanary } from "../kube/canaries.js";
import { sleep } from "../kube/errors.js";

/** How a poll ended. */
export type PollOutcome<T> =
  | { kind: "met"; value: T; canary: CanaryObject }
  | { kind: "timeout"; canary?: CanaryObject }
  | { kind: "notFound" }
  | { kind: "lost"; error: string };

export interface PollOptions {
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** Time between reads; default 250 ms. */
  intervalMs?: number;
  /** The API failing for this long ends the poll as lost; default 15 s. */
  lostAfterMs?: number;
}

/** One try per read, each with a short deadline: the poll itself does the retrying. */
const READ = { attempts: 1, baseDelayMs: 0, timeoutMs: 5000 };

export async function pollCanary<T>(
  kc: KubeConfig,
  namespace: string,
  name: string,
  until: (canary: CanaryObject) => T | undefined,
  options: PollOptions,
): Promise<PollOutcome<T>> {
  const interval = options.intervalMs ?? 250;
  const lostAfter = options.lostAfterMs ?? 15_000;
  const deadline = Date.now() + options.timeoutMs;
  let failingSince: number | undefined;
  let last: CanaryObject | undefined;
  for (;;) {
    const got = await getCanary(kc, namespace, name, READ);
    if (got.ok) {
      failingSince = undefined;
      last = got.value;
      const value = until(got.value);
      if (value !== undefined) return { kind: "met", value, canary: got.value };
    } else if (got.error.reason === "NotFound") {
      return { kind: "notFound" };
    } else {
      failingSince ??= Date.now();
      const ending = Date.now() >= deadline;
      if (ending || Date.now() - failingSince >= lostAfter) return { kind: "lost", error: got.error.message };
    }
    if (Date.now() >= deadline) return last ? { kind: "timeout", canary: last } : { kind: "timeout" };
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}
