/**
 * The Node.js minimum we state (package.json engines, README) against what the locked dependencies
 * declare: every production package must accept it, and the development packages that declare a
 * newer Node are exactly the ones the README names (they run on our minimum; npm warns EBADENGINE).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  engines?: { node?: string };
}
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, LockEntry> };
const readme = readFileSync("README.md", "utf8");

type Version = [number, number, number];
const parse = (v: string): Version => {
  const [a = 0, b = 0, c = 0] = v
    .replace(/^v/, "")
    .split(".")
    .map((x) => Number.parseInt(x, 10) || 0);
  return [a, b, c];
};
const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether a version satisfies an npm engines range of the forms the lock holds (>=, ^, exact, ||). */
function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split("||").some((alternative) =>
    alternative
      .replace(/(>=|<=|>|<|\^|~|=)\s+/g, "$1")
      .trim()
      .split(/\s+/)
      .every((part) => {
        const m = /^(>=|>|<=|<|\^|~|=)?\s*v?([\d.x*]+)$/.exec(part.trim());
        if (!m) throw new Error(`engines range part not understood: ${JSON.stringify(part)} in ${range}`);
        const op = m[1] ?? "=";
        const bound = parse(m[2]!.replace(/[x*]/g, "0"));
        const c = compare(v, bound);
        if (op === ">=") return c >= 0;
        if (op === ">") return c > 0;
        if (op === "<=") return c <= 0;
        if (op === "<") return c < 0;
        if (op === "^") return c >= 0 && v[0] === bound[0];
        if (op === "~") return c >= 0 && v[0] === bound[0] && v[1] === bound[1];
        return m[2]!.split(".").length < 3 ? v[0] === bound[0] : c === 0;
      }),
  );
}

const minimum = /^>=\s*(\d+\.\d+(?:\.\d+)?)$/.exec(pkg.engines.node)?.[1];

describe("Node.js engine", () => {
  it("package.json states a plain minimum, and the README states the same", () => {
    expect(minimum).toBeDefined();
    expect(readme).toContain(`Node.js ≥ ${minimum}`);
  });

  it("every production dependency accepts the minimum", () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, e]) => path !== "" && !e.dev && e.engines?.node !== undefined)
      .filter(([, e]) => !satisfies(`${minimum}.0`, e.engines!.node!))
      .map(([path, e]) => `${path} (${e.engines!.node})`);
    expect(refusing).toEqual([]);
  });

  it("the development packages declaring a newer Node are the ones the README names", () => {
    const newer = Object.entries(lock.packages)
      .filter(([path, e]) => path !== "" && e.dev && !e.optional && e.engines?.node !== undefined)
      .filter(([, e]) => !satisfies(`${minimum}.0`, e.engines!.node!))
      .map(([path]) => path.replace(/^.*node_modules\//, ""));
    expect(newer.length).toBeGreaterThan(0);
    for (const name of newer)
      expect(readme, `README names ${name}`).toContain(
        name.replace(/^@kubernetes-models\/.*/, "@kubernetes-models/*"),
      );
  });

  it("reads the range forms the lock holds", () => {
    expect(satisfies("20.19.0", ">=20")).toBe(true);
    expect(satisfies("20.19.0", ">= 20.16.0")).toBe(true);
    expect(satisfies("20.19.0", ">=22")).toBe(false);
    expect(satisfies("20.19.0", "^18.0.0 || ^20.0.0 || >=22.0.0")).toBe(true);
    expect(satisfies("20.19.0", "^20.19.0 || >=22.12.0")).toBe(true);
    expect(satisfies("20.18.0", "^20.19.0 || >=22.12.0")).toBe(false);
    expect(satisfies("20.19.0", "^16 || ^18 || >=20")).toBe(true);
  });
});
