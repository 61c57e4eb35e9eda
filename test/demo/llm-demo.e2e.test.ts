/**
 * `meshcanary demo --scenario llm`, shortened: the demo app answering as an OpenAI-compatible model
 * server through the real sidecar and controller. The healthy model must be promoted and the verbose
 * one rolled back by the tokens check; the dashboard's series carry tokens, cost and guardrail
 * blocks per variant, and the API shows the canary's share of tokens next to its share of requests.
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CanaryDetail, SeriesPoint } from "../../controller/api/types.js";
import { runLlmDemo } from "../../sandbox/demo/llm-scenario.js";

describe.skipIf(!existsSync("build/meshcanary.wasm"))("meshcanary demo --scenario llm (shortened)", () => {
  it("promotes the healthy model and rolls back the verbose one by its token count", async () => {
    const lines: string[] = [];
    let metrics: string[] = [];
    let exposure: CanaryDetail["exposure"];
    const result = await runLlmDemo({
      speed: 4,
      weights: [25, 50],
      rps: 300,
      users: 2000,
      timeoutMs: 90_000,
      out: { write: (t) => lines.push(t), isTTY: false },
      inspect: async (sandbox) => {
        const since = Date.now() - 60_000;
        const res = await fetch(`${sandbox.apiUrl}/api/v1/canaries/default/chat/series?since=${since}`);
        const { points } = (await res.json()) as { points: SeriesPoint[] };
        metrics = [...new Set(points.flatMap((p) => Object.keys(p.variants.stable?.metrics ?? {})))].sort();
        const d = (await (
          await fetch(`${sandbox.apiUrl}/api/v1/canaries/default/assistant`)
        ).json()) as CanaryDetail;
        exposure = d.exposure;
      },
    });
    expect(result.ok, lines.join("")).toBe(true);
    expect(result.outcomes.chat?.phase).toBe("Succeeded");
    expect(result.outcomes.assistant?.phase).toBe("RolledBack");
    expect(result.outcomes.assistant?.reason).toMatch(/^tokens: llm-total-tokens per request vs 1.5x stable/);
    expect(lines.join("")).toContain("answers use more tokens per request than 1.5x the stable model's");
    expect(metrics).toEqual(
      expect.arrayContaining(["llm-cost", "llm-guardrail-blocks", "llm-total-tokens", "llm-ttft-ms"]),
    );
    // The verbose model's share of tokens is above its share of requests.
    expect(exposure?.tokens).toBeGreaterThan((exposure?.requests ?? 100) * 1.2);
  }, 120_000);
});
