/**
 * The Grafana dashboard and the Prometheus alert rules in monitoring/: every metric they query is
 * one the controller's registry serves (controller/api/metrics.ts, with the default process
 * metrics) or one the filter defines in Envoy (filter/envoy-counters.ts: meshcanary_<kind>__… counters and
 * meshcanary_pin_rejected); every panel states its unit; every alert has a severity and a summary.
 * Every expression is parsed with Prometheus' own PromQL grammar (promql.ts): no syntax errors, and
 * the metric names come from its selectors.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetricsRegistry } from "../../controller/api/metrics.js";
import { promqlErrors, selectedMetrics } from "./promql.js";

// biome-ignore lint/suspicious/noExplicitAny: untyped JSON/YAML documents
type Doc = any;
const dashboard = JSON.parse(readFileSync("monitoring/grafana-dashboard.json", "utf8")) as Doc;
const rules = parse(readFileSync("monitoring/prometheus-rules.yaml", "utf8")) as Doc;
const counterSource = readFileSync("filter/envoy-counters.ts", "utf8");

async function servedNames(): Promise<Set<string>> {
  const reg = createMetricsRegistry({
    canaries: () => [],
    windows: () => [],
    ingest: () => ({
      reports: 0,
      accepted: 0,
      ignored: 0,
      rejected: {},
      droppedEntries: {},
      refusedStreams: {},
      streams: 0,
      reporters: 0,
    }),
  });
  return new Set((await reg.getMetricsAsJSON()).map((m) => m.name));
}

/** Envoy counters the filter defines: counterName(kind, …) kinds and named constants. */
const filterKinds = [...counterSource.matchAll(/counterName\("([a-z_]+)"/g)].map((m) => m[1]!);
const filterCounters = [...counterSource.matchAll(/"(meshcanary_[a-z_]+)"/g)].map((m) => m[1]!);

const expressions: Array<[string, string]> = [
  ...dashboard.panels.flatMap((p: Doc) => p.targets.map((t: Doc) => [`panel "${p.title}"`, t.expr])),
  ...dashboard.templating.list
    .filter((v: Doc) => v.type === "query")
    .map((v: Doc) => [`variable ${v.name}`, v.query.query.replace(/^label_values\((.*),[^,]*\)$/, "$1")]),
  ...rules.groups.flatMap((g: Doc) => g.rules.map((r: Doc) => [`alert ${r.alert}`, r.expr])),
];

describe("monitoring/", () => {
  it("reads the metric names of an expression, and only those", () => {
    expect(
      selectedMetrics('max by (a) (x_total{a="b(c)"}) / on() rate(y[5m]) > 2 * ignoring(v) z').names,
    ).toEqual(["x_total", "y", "z"]);
    expect(selectedMetrics('rate({__name__=~"meshcanary_requests__.+"}[1m])').nameRegexes).toEqual([
      "meshcanary_requests__.+",
    ]);
  });

  it.each([
    ["an unclosed parenthesis", "sum(rate(x[5m]) by (a)"],
    ["a grouping after a function call", "rate(x[5m]) by (a)"],
    ["an unknown function", "rates(x[5m])"],
    ["an unclosed brace", 'x{a="b"'],
    ["an unquoted label value", "x{a=b}"],
    ["a dangling operator", "x / "],
  ])("the parser rejects %s", (_, expr) => {
    expect(promqlErrors(expr)).not.toEqual([]);
  });

  it("accepts Grafana's interval variables and label-value variables", () => {
    expect(promqlErrors('rate(x{ns=~"$namespace"}[$__rate_interval])')).toEqual([]);
  });

  it.each(expressions)("%s is valid PromQL", (_, expr) => {
    expect(promqlErrors(expr), expr).toEqual([]);
  });

  it("finds the filter's Envoy counters in its source", () => {
    expect(filterKinds).toEqual(["requests", "failures"]);
    expect(filterCounters).toContain("meshcanary_pin_rejected");
  });

  it.each(expressions)("%s queries only metrics that exist", async (_, expr) => {
    const served = await servedNames();
    const { names, nameRegexes } = selectedMetrics(expr);
    expect(names.length + nameRegexes.length, expr).toBeGreaterThan(0);
    for (const name of names)
      expect(served.has(name) || filterCounters.includes(name), `${name} in ${expr}`).toBe(true);
    for (const regex of nameRegexes) {
      const kind = /^meshcanary_([a-z_]+?)__/.exec(regex)?.[1];
      expect(kind !== undefined && filterKinds.includes(kind), `${regex} names a filter counter`).toBe(true);
    }
  });

  it("the check catches a misspelt metric", async () => {
    const served = await servedNames();
    expect(served.has("meshcanary_canary_weight_percent")).toBe(true);
    expect(served.has("meshcanary_canary_weight")).toBe(false);
  });

  it("every dashboard panel has a unique id, a unit, a description and targets with refIds", () => {
    const ids = dashboard.panels.map((p: Doc) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.fieldConfig.defaults.unit, p.title).toBeTruthy();
      expect(p.description, p.title).toBeTruthy();
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template
      expect(p.datasource.uid).toBe("${datasource}");
      for (const t of p.targets) expect(t.refId).toMatch(/^[A-Z]$/);
    }
    expect(dashboard.uid).toBe("meshcanary");
  });

  it("every alert has an expression, a severity, a summary and a description", () => {
    const alerts = rules.groups.flatMap((g: Doc) => g.rules);
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Meshcanary[A-Za-z]+$/);
      expect(["info", "warning", "critical"]).toContain(a.labels.severity);
      expect(a.annotations.summary).toBeTruthy();
      expect(a.annotations.description).toBeTruthy();
      if (a.for !== undefined) expect(a.for).toMatch(/^\d+[smh]$/);
    }
  });
});
