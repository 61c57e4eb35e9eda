/**
 * PromQL read with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of the
 * Prometheus UI): syntax errors with their position, and the metric names an expression selects.
 * Grafana's interval variables ($__rate_interval, $__interval, $__range) stand for durations and
 * are replaced by one before parsing; other variables only appear inside label-value strings.
 */
import { parser } from "@prometheus-io/lezer-promql";

const GRAFANA_DURATIONS = /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

/** The expression as Prometheus would receive it from Grafana. */
export function asPromql(expr: string): string {
  return expr.replace(GRAFANA_DURATIONS, "5m");
}

/** Every syntax error: its offset and the text around it. Empty for a valid expression. */
export function promqlErrors(expr: string): string[] {
  const text = asPromql(expr);
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter: (node) => {
      if (!node.type.isError) return;
      const near = text.slice(Math.max(0, node.from - 10), node.to + 10);
      errors.push(`syntax error at ${node.from}: …${near}…`);
    },
  });
  return errors;
}

/** Metric names a (valid) expression selects, and the __name__ regexes of name-less selectors. */
export function selectedMetrics(expr: string): { names: string[]; nameRegexes: string[] } {
  const text = asPromql(expr);
  const names: string[] = [];
  const nameRegexes: string[] = [];
  parser.parse(text).iterate({
    enter: (node) => {
      if (node.name !== "VectorSelector") return;
      const identifier = node.node.getChild("Identifier");
      if (identifier) names.push(text.slice(identifier.from, identifier.to));
      for (const matcher of node.node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? []) {
        const label = matcher.getChild("LabelName");
        const value = matcher.getChild("StringLiteral");
        if (label && value && text.slice(label.from, label.to) === "__name__")
          nameRegexes.push(JSON.parse(text.slice(value.from, value.to)) as string);
      }
    },
  });
  return { names, nameRegexes };
}
