// Which data planes the suites in this directory run on (MESHCANARY_PLANES), and the error for a typo.
import { describe, expect, it } from "vitest";
import { selectedPlanes } from "./world.js";

describe("selectedPlanes", () => {
  it.each([
    [undefined, ["envoy", "sandbox"]],
    ["", ["envoy", "sandbox"]],
    ["envoy", ["envoy"]],
    [" sandbox ", ["sandbox"]],
    ["sandbox,envoy", ["envoy", "sandbox"]],
  ])("%j runs %j", (value, planes) => {
    expect(selectedPlanes(value)).toEqual(planes);
  });

  it("names the unknown plane and the variable", () => {
    expect(() => selectedPlanes("envoy,evnoy")).toThrow(
      'MESHCANARY_PLANES: unknown plane "evnoy" in "envoy,evnoy"; known: envoy, sandbox',
    );
  });
});
