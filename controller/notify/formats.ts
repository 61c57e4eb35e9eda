/**
 * A notification as the receiver expects it: our own JSON, a Slack incoming-webhook message, a
 * Microsoft Teams Adaptive Card message (Workflows / incoming webhooks) or a CloudEvents 1.0 event in
 * structured JSON mode. Pure; samples of each are in test/fixtures/notify/ (docs/notifications.md).
 */
import type { WebhookFormat } from "../spec/schema.js";
import type { WebhookPayload } from "./webhooks.js";

/** What to POST. */
export interface FormattedBody {
  contentType: string;
  body: string;
}

/** CloudEvents `type` prefix; the phase entered follows, lower-cased (io.meshcanary.rollout.succeeded). */
export const CLOUDEVENT_TYPE_PREFIX = "io.meshcanary.rollout.";

export function formatPayload(format: WebhookFormat, payload: WebhookPayload): FormattedBody {
  switch (format) {
    case "json":
      return json(payload);
    case "slack":
      return json(slack(payload));
    case "teams":
      return json(teams(payload));
    case "cloudevents":
      return { contentType: "application/cloudevents+json", body: JSON.stringify(cloudEvent(payload)) };
  }
}

/** One line a person reads first: what happened to which canary. */
export function headline(p: WebhookPayload): string {
  return `${ICON[p.event] ?? "•"} ${p.canary}: ${p.event} at step ${p.step + 1}, canary ${p.canaryWeight}%`;
}

const ICON: Record<string, string> = {
  Succeeded: "✅",
  RolledBack: "⏪",
  RollingBack: "⚠️",
  Aborted: "⛔",
  Paused: "⏸️",
  Promoting: "🚀",
  Progressing: "▶️",
  Initializing: "🆕",
};

function json(value: unknown): FormattedBody {
  return { contentType: "application/json", body: JSON.stringify(value) };
}

/** Slack reads &, < and > as control characters in text (links, mentions); analysis reasons contain ">". */
function slackEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function slack(p: WebhookPayload) {
  const [title, message] = [slackEscape(headline(p)), slackEscape(p.message)];
  return {
    text: `${title}\n${message}`,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${title}*\n${message}` } },
      { type: "context", elements: [{ type: "mrkdwn", text: `namespace ${p.namespace} · ${p.at}` }] },
    ],
  };
}

function teams(p: WebhookPayload) {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: headline(p), weight: "Bolder", wrap: true },
            { type: "TextBlock", text: p.message, wrap: true },
            {
              type: "FactSet",
              facts: [
                { title: "Canary", value: p.canary },
                { title: "Phase", value: p.event },
                { title: "Step", value: String(p.step + 1) },
                { title: "Canary weight", value: `${p.canaryWeight}%` },
                { title: "At", value: p.at },
              ],
            },
          ],
        },
      },
    ],
  };
}

function cloudEvent(p: WebhookPayload) {
  return {
    specversion: "1.0",
    type: `${CLOUDEVENT_TYPE_PREFIX}${p.event.toLowerCase()}`,
    source: `/apis/meshcanary.io/v1alpha1/namespaces/${p.namespace}/canaries/${p.name}`,
    // Unique per source: one transition per phase and step at a given time.
    id: `${p.at}/${p.event}/${p.step}`,
    time: p.at,
    subject: p.canary,
    datacontenttype: "application/json",
    data: p,
  };
}
