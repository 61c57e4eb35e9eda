/**
 * The Grafana dashboard and the Prometheus alert rules in monitoring/: every metric they query is
 * one the controller's registry serves (controller/api/metrics.ts, with the default process
 * metrics) or one the filter defines in Envoy (filter/host.ts: meshcanary_<kind>__… counters and
 * meshcanary_pin_rejected); every panel states its unit; every alert has a severity and a summary.
 * The PromQL itself is not parsed (no PromQL parser is among our dependencies); the names are read
 * from each expression with its strings and label matchers removed.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMetricsRegistry } from "../../controller/api/metrics.js";

// biome-ignore lint/suspicious/noExplicitAny: untyped JSON/YAML documents
type Doc = any;
const dashboard = JSON.parse(readFileSync("monitoring/grafana-dashboard.json", "utf8")) as Doc;
const rules = parse(readFileSync("monitoring/prometheus-rules.yaml", "utf8")) as Doc;
const hostSource = readFileSync("filter/host.ts", "utf8");

const KEYWORDS = new Set(
  "by without on ignoring group_left group_right and or unless bool offset sum max min avg count rate irate increase histogram_quantile label_values topk bottomk abs clamp_min clamp_max".split(
    " ",
  ),
);

/** Metric names an expression selects: identifiers outside strings and {…}, not functions or keywords. */
function metricNames(expr: string): { names: string[]; nameRegexes: string[] } {
  const nameRegexes = [...expr.matchAll(/__name__\s*=~\s*"([^"]*)"/g)].map((m) => m[1]!);
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = [...bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)]
    .filter((m) => bare[m.index! + m[0].length] !== "(" || !/^[a-z_]+$/.test(m[0]))
    .map((m) => m[0])
    .filter((n) => !KEYWORDS.has(n) && !/^\d/.test(n));
  return { names, nameRegexes };
}

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
const filterKinds = [...hostSource.matchAll(/counterName\("([a-z_]+)"/g)].map((m) => m[1]!);
const filterCounters = [...hostSource.matchAll(/"(meshcanary_[a-z_]+)"/g)].map((m) => m[1]!);

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
      metricNames('max by (a) (x_total{a="b(c)"}) / on() rate(y[5m]) > 2 * ignoring(v) z').names,
    ).toEqual(["x_total", "y", "z"]);
    expect(metricNames('rate({__name__=~"meshcanary_requests__.+"}[1m])').nameRegexes).toEqual([
      "meshcanary_requests__.+",
    ]);
  });

  it("finds the filter's Envoy counters in its source", () => {
    expect(filterKinds).toEqual(["requests", "failures"]);
    expect(filterCounters).toContain("meshcanary_pin_rejected");
  });

  it.each(expressions)("%s queries only metrics that exist", async (_, expr) => {
    const served = await servedNames();
    const { names, nameRegexes } = metricNames(expr);
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
