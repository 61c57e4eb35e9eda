import { describe, expect, it } from "vitest";
import { parseDuration } from "../../controller/spec/durations.js";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["2h", 7_200_000],
    ["1h2m3s4ms", 3_723_004],
    ["1.5s", 1500],
    ["0", 0],
    ["0s", 0],
  ])("%s = %i ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(["", "30", "s", "1d", "1m 30s", "-1s", "1.s", "30S"])("rejects %j naming the value", (text) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error).toContain(JSON.stringify(text));
  });
});
