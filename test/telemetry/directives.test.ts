import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type Directive, DirectiveSchema } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { DirectiveBroadcaster } from "../../controller/telemetry/directives.js";

const d = (version: number) => create(DirectiveSchema, { version: BigInt(version) });

describe("DirectiveBroadcaster", () => {
  it("sends the current directive on subscribe and newer ones to all subscribers", () => {
    const b = new DirectiveBroadcaster();
    const a: Directive[] = [];
    b.subscribe((x) => a.push(x));
    expect(a).toEqual([]);
    expect(b.publish(d(1))).toBeUndefined();
    const late: Directive[] = [];
    const unsubscribe = b.subscribe((x) => late.push(x));
    expect(late.map((x) => x.version)).toEqual([1n]);
    b.publish(d(2));
    unsubscribe();
    b.publish(d(3));
    expect(a.map((x) => x.version)).toEqual([1n, 2n, 3n]);
    expect(late.map((x) => x.version)).toEqual([1n, 2n]);
    expect(b.size()).toBe(1);
  });

  it("rejects a version not above the current one", () => {
    const b = new DirectiveBroadcaster();
    b.publish(d(5));
    expect(b.publish(d(5))).toBeInstanceOf(Error);
    expect(b.publish(d(4))?.message).toMatch(/directive.version: 4 is not above the current version 5/);
    expect(b.current()?.version).toBe(5n);
  });
});
