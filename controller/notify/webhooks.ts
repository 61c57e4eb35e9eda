/**
 * Webhook notifications of rollout transitions: a POST per webhook whose `events` include the
 * phase entered, in the webhook's format (formats.ts: json, slack, teams, cloudevents). Sending
 * never blocks the reconcile loop: each delivery runs in the background with
 * the webhook's timeout and a bounded number of retries, and at most `maxInFlight` deliveries are
 * pending (further ones are dropped and logged). `nullNotifier` is the "off" implementation.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Phase, WebhookFormat } from "../spec/schema.js";
import { type FormattedBody, formatPayload } from "./formats.js";
import { boundedPost, originOf } from "./http-post.js";

/** One endpoint, as in spec.webhooks. */
export interface WebhookTarget {
  name: string;
  url: string;
  /** Phases that trigger it; absent = all. */
  events?: Phase[];
  timeoutSeconds?: number;
  /** Body format; default json (the WebhookPayload itself). */
  format?: WebhookFormat;
}

/** The JSON body of a notification. */
export interface WebhookPayload {
  /** "<namespace>/<name>". */
  canary: string;
  namespace: string;
  name: string;
  /** Phase entered. */
  event: Phase;
  step: number;
  canaryWeight: number;
  message: string;
  /** RFC3339 time of the transition. */
  at: string;
}

export interface Notifier {
  /** Queues the payload for every target whose events include payload.event; returns at once. */
  notify(targets: readonly WebhookTarget[], payload: WebhookPayload): void;
  /** Waits for pending deliveries (each bounded by its timeout and retries). */
  close(): Promise<void>;
}

export interface HttpNotifierOptions {
  logger: Logger;
  /** Attempts per delivery; default 3. */
  attempts?: number;
  /** Delay before the second attempt; doubles after; default 500 ms. */
  backoffMs?: number;
  /** Deliveries pending at once; default 100. */
  maxInFlight?: number;
}

export const nullNotifier: Notifier = { notify() {}, close: async () => {} };

/** Targets a payload goes to. */
export function targetsFor(targets: readonly WebhookTarget[], event: Phase): WebhookTarget[] {
  return targets.filter((t) => t.events === undefined || t.events.includes(event));
}

export function httpNotifier(options: HttpNotifierOptions): Notifier {
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  const maxInFlight = options.maxInFlight ?? 100;
  const pending = new Set<Promise<void>>();
  let closed = false;

  const deliver = async (target: WebhookTarget, body: FormattedBody): Promise<void> => {
    let last = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
      const result = await post(target, body);
      if (result === undefined) return;
      last = result;
    }
    const url = originOf(target.url);
    options.logger.warn({ webhook: target.name, url, error: last }, "webhook delivery failed");
  };

  return {
    notify(targets, payload) {
      for (const target of targetsFor(targets, payload.event)) {
        if (closed || pending.size >= maxInFlight) {
          options.logger.warn(
            { webhook: target.name, event: payload.event },
            "webhook dropped: too many pending",
          );
          continue;
        }
        const p = deliver(target, formatPayload(target.format ?? "json", payload)).finally(() =>
          pending.delete(p),
        );
        pending.add(p);
      }
    },
    async close() {
      closed = true;
      await Promise.allSettled([...pending]);
    },
  };
}

/** One POST; undefined on a 2xx, else what went wrong (http-post.ts: bounded, no redirects, URL reduced to its origin). */
async function post(
  target: WebhookTarget,
  { contentType, body }: FormattedBody,
): Promise<string | undefined> {
  const outcome = await boundedPost(target.url, contentType, body, {
    timeoutMs: (target.timeoutSeconds ?? 10) * 1000,
  });
  if (!outcome.ok) return outcome.error;
  const { status, redirectTo } = outcome.answer;
  if (status >= 200 && status < 300) return undefined;
  return redirectTo === undefined
    ? `HTTP ${status}`
    : `HTTP ${status} (redirect to ${redirectTo} not followed)`;
}
