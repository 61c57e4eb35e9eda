/** `meshcanary status` shows the gating webhooks of the gated sample, each with its last answer. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { formatStatus } from "../../controller/cli/format-status.js";
import { statusView } from "../../controller/cli/status-view.js";
import type { CanaryObject } from "../../controller/kube/canaries.js";

const gated = parse(readFileSync("istio/samples/gated/canary.yaml", "utf8")) as CanaryObject;

describe("status of a gated Canary", () => {
  it("lists each opened gate with its result, failures, last answer and reason", () => {
    const canary = {
      ...gated,
      status: {
        phase: "Paused",
        pausedBy: "gate",
        step: 2,
        weightBp: 5000,
        message: "promotion awaits confirm-promotion gates: change-freeze: HTTP 423: frozen until 12:00",
        gates: [
          {
            name: "smoke",
            type: "pre-rollout",
            result: "Passed",
            failures: 1,
            message: "HTTP 200",
            since: "2026-12-07T10:00:00.000Z",
            at: "2026-12-07T10:00:20.000Z",
          },
          {
            name: "change-freeze",
            type: "confirm-promotion",
            result: "Failed",
            failures: 4,
            message: "HTTP 423: frozen until 12:00",
            since: "2026-12-07T10:05:00.000Z",
            at: "2026-12-07T10:08:00.000Z",
          },
        ],
      },
    } as CanaryObject;
    const lines = formatStatus(statusView(canary));
    expect(lines).toContain("Phase:     Paused (gate)");
    const at = lines.indexOf("Gates:");
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 3).map((l) => l.replace(/\s+/g, " "))).toEqual([
      "├─ ✔ smoke pre-rollout Passed 1 failure 2026-12-07T10:00:20.000Z HTTP 200",
      "└─ ✖ change-freeze confirm-promotion Failed 4 failures 2026-12-07T10:08:00.000Z HTTP 423: frozen until 12:00",
    ]);
  });

  it("has no Gates block when none opened", () => {
    expect(
      formatStatus(statusView({ ...gated, status: { phase: "Progressing" } } as CanaryObject)),
    ).not.toContain("Gates:");
  });
});
