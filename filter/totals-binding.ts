// Binds a routing table's variants to their cumulative tallies, which outlive any one table.

import { RoutingTable } from "./config";
import { LLM_METRICS } from "./llm-tally";
import { bindSlow } from "./slow-counts";
import { MetricTotalsData, VariantTotalsData } from "./wire";

/**
 * Points each route variant at its cumulative tallies in `registry` (keyed by canary + "\n" + variant),
 * creating missing entries, so tallies survive reconfiguration.
 */
export function bindTotals(table: RoutingTable, registry: Map<string, VariantTotalsData>): void {
  for (let i = 0; i < table.routes.length; i++) {
    const route = table.routes[i];
    route.totals = [];
    for (let v = 0; v < route.variants.length; v++) {
      const key = route.canary + "\n" + route.variants[v];
      let t: VariantTotalsData;
      if (registry.has(key)) {
        t = registry.get(key);
      } else {
        t = new VariantTotalsData();
        t.canary = route.canary;
        t.variant = route.variants[v];
        registry.set(key, t);
      }
      for (let m = 0; m < route.metricNames.length; m++) ensureMetric(t, route.metricNames[m]);
      if (route.llm != null) for (let m = 0; m < LLM_METRICS.length; m++) ensureMetric(t, LLM_METRICS[m]);
      bindSlow(route, v, t);
      route.totals.push(t);
    }
  }
}

/** The metric totals named `name` in `t`, created if missing. */
export function ensureMetric(t: VariantTotalsData, name: string): MetricTotalsData {
  for (let i = 0; i < t.metrics.length; i++) {
    if (t.metrics[i].name == name) return t.metrics[i];
  }
  const m = new MetricTotalsData();
  m.name = name;
  t.metrics.push(m);
  return m;
}
