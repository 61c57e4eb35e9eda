// Plugin configuration JSON → plain route data, collecting every type problem with its field path;
// the semantic rules then run in config-table.ts. Pure AssemblyScript: no host imports.

import { ConfigResult, ControllerConfig, DEFAULT_INTERVAL_MS, FilterConfig } from "./config";
import { buildTable } from "./config-table";
import { JsonKind, JsonValue, formatNumber, parseJson, quote } from "./json";
import { readLlm } from "./llm-config";
import { PinData, ResponseMetricData, RouteData, SlowThresholdData, StickyData, VariantData } from "./wire";

/** Reads plugin configuration JSON into plain data, collecting every problem with its path. */
export class Reader {
  errors: Array<string> = [];

  problem(path: string, message: string): void {
    this.errors.push(path + ": " + message);
  }

  /** An optional string member; null when absent, a problem when not a (non-empty) string. */
  str(obj: JsonValue, key: string, path: string, required: bool): string | null {
    const v = obj.get(key);
    const p = path + "." + key;
    if (v == null) {
      if (required) this.problem(p, "is required");
      return null;
    }
    if (v.kind != JsonKind.String || v.str.length == 0) {
      this.problem(p, "must be a non-empty string, got " + v.describe());
      return null;
    }
    return v.str;
  }

  /** An optional integer member in [min, max]; `fallback` when absent or invalid. */
  int(obj: JsonValue, key: string, path: string, min: f64, max: f64, fallback: f64): f64 {
    const v = obj.get(key);
    if (v == null) return fallback;
    return this.intValue(v, path + "." + key, min, max, fallback);
  }

  intValue(v: JsonValue, p: string, min: f64, max: f64, fallback: f64): f64 {
    if (v.kind != JsonKind.Number || Math.floor(v.num) != v.num || v.num < min || v.num > max) {
      this.problem(p, "must be an integer " + formatNumber(min) + ".." + formatNumber(max) + ", got " + v.describe());
      return fallback;
    }
    return v.num;
  }

  /** An optional object member; null when absent or not an object (then a problem). */
  obj(parent: JsonValue, key: string, path: string): JsonValue | null {
    const v = parent.get(key);
    if (v == null) return null;
    if (v.kind != JsonKind.Object) {
      this.problem(path + "." + key, "must be an object, got " + v.describe());
      return null;
    }
    return v;
  }

  /** An optional array member; null when absent or not an array (then a problem). */
  arr(parent: JsonValue, key: string, path: string): JsonValue | null {
    const v = parent.get(key);
    if (v == null) return null;
    if (v.kind != JsonKind.Array) {
      this.problem(path + "." + key, "must be an array, got " + v.describe());
      return null;
    }
    return v;
  }
}

function readController(r: Reader, o: JsonValue): ControllerConfig {
  const c = new ControllerConfig();
  const cluster = r.str(o, "cluster", "controller", true);
  if (cluster != null) c.cluster = cluster;
  const authority = r.str(o, "authority", "controller", false);
  c.authority = authority != null ? authority : authorityFromCluster(c.cluster);
  c.intervalMs = <u32>r.int(o, "intervalMs", "controller", 100, 60000, DEFAULT_INTERVAL_MS);
  const tokenEnv = r.str(o, "tokenEnv", "controller", false);
  if (tokenEnv != null) c.tokenEnv = tokenEnv;
  return c;
}

/** `outbound|9090||fqdn` → `fqdn`; a plain name stays as it is. */
export function authorityFromCluster(cluster: string): string {
  const bar = cluster.lastIndexOf("|");
  return bar < 0 ? cluster : cluster.substring(bar + 1);
}

function readRoute(r: Reader, o: JsonValue, p: string): RouteData {
  const d = new RouteData();
  const host = r.str(o, "host", p, true);
  if (host != null) d.host = host;
  const aliases = r.arr(o, "aliases", p);
  if (aliases != null) {
    for (let i = 0; i < aliases.items.length; i++) {
      const a = aliases.items[i];
      if (a.kind != JsonKind.String || a.str.length == 0) {
        r.problem(p + ".aliases[" + i.toString() + "]", "must be a non-empty string, got " + a.describe());
      } else d.aliases.push(a.str);
    }
  }
  const canary = r.str(o, "canary", p, true);
  if (canary != null) d.canary = canary;
  readVariants(r, o, p, d);
  readPin(r, o, p, d.pin);
  readSticky(r, o, p, d.sticky);
  const cohort = r.str(o, "cohort", p, false);
  if (cohort != null) d.cohort = cohort;
  readMetrics(r, o, p, d);
  const codes = r.arr(o, "failureCodes", p);
  if (codes != null) {
    for (let i = 0; i < codes.items.length; i++) {
      const code = r.intValue(codes.items[i], p + ".failureCodes[" + i.toString() + "]", 100, 599, 0);
      if (code != 0) d.failureCodes.push(<u32>code);
    }
  }
  d.llm = readLlm(r, o, p);
  readSlowThresholds(r, o, p, d);
  return d;
}

/** `slowThresholds: [{variant, thresholdUs}]` (the Directive's Route.slow_thresholds). */
function readSlowThresholds(r: Reader, o: JsonValue, p: string, d: RouteData): void {
  const list = r.arr(o, "slowThresholds", p);
  if (list == null) return;
  for (let i = 0; i < list.items.length; i++) {
    const sp = p + ".slowThresholds[" + i.toString() + "]";
    const v = list.items[i];
    if (v.kind != JsonKind.Object) {
      r.problem(sp, "must be an object, got " + v.describe());
      continue;
    }
    const t = new SlowThresholdData();
    const variant = r.str(v, "variant", sp, true);
    if (variant != null) t.variant = variant;
    if (v.get("thresholdUs") == null) r.problem(sp + ".thresholdUs", "is required");
    t.thresholdUs = <u64>r.int(v, "thresholdUs", sp, 1, 9007199254740991, 1);
    d.slowThresholds.push(t);
  }
}

function readVariants(r: Reader, o: JsonValue, p: string, d: RouteData): void {
  const variants = r.arr(o, "variants", p);
  if (variants == null) {
    if (o.get("variants") == null) r.problem(p + ".variants", "is required");
    return;
  }
  for (let i = 0; i < variants.items.length; i++) {
    const vp = p + ".variants[" + i.toString() + "]";
    const v = variants.items[i];
    const vd = new VariantData();
    if (v.kind != JsonKind.Object) {
      r.problem(vp, "must be an object, got " + v.describe());
      d.variants.push(vd);
      continue;
    }
    const name = r.str(v, "name", vp, true);
    if (name != null) vd.name = name;
    if (v.get("weight") == null) r.problem(vp + ".weight", "is required");
    vd.weightBp = <u32>r.int(v, "weight", vp, 0, 10000, 0);
    d.variants.push(vd);
  }
}

function readPin(r: Reader, o: JsonValue, p: string, pin: PinData): void {
  const po = r.obj(o, "pin", p);
  if (po == null) return;
  const pp = p + ".pin";
  const header = r.str(po, "header", pp, false);
  if (header != null) pin.header = header;
  const cookie = r.str(po, "cookie", pp, false);
  if (cookie != null) pin.cookie = cookie;
  const rt = po.get("requireToken");
  if (rt != null) {
    if (rt.kind != JsonKind.Bool) r.problem(pp + ".requireToken", "must be true or false, got " + rt.describe());
    else pin.requireToken = rt.bool;
  }
}

function readSticky(r: Reader, o: JsonValue, p: string, sticky: StickyData): void {
  const so = r.obj(o, "sticky", p);
  if (so == null) return;
  const sp = p + ".sticky";
  const header = r.str(so, "header", sp, false);
  if (header != null) sticky.header = header;
  const cookie = r.str(so, "cookie", sp, false);
  if (cookie != null) sticky.cookie = cookie;
  if (so.get("header") == null && so.get("cookie") == null) r.problem(sp, "needs exactly one of header, cookie");
}

function readMetrics(r: Reader, o: JsonValue, p: string, d: RouteData): void {
  const metrics = r.arr(o, "metrics", p);
  if (metrics == null) return;
  for (let i = 0; i < metrics.items.length; i++) {
    const mp = p + ".metrics[" + i.toString() + "]";
    const m = metrics.items[i];
    const md = new ResponseMetricData();
    if (m.kind != JsonKind.Object) {
      r.problem(mp, "must be an object, got " + m.describe());
    } else {
      const name = r.str(m, "name", mp, true);
      if (name != null) md.name = name;
      const header = r.str(m, "header", mp, true);
      if (header != null) md.header = header;
    }
    d.metrics.push(md);
  }
}

/** Parses and validates plugin configuration text (empty text = no routes, no reporting). */
export function parseConfig(text: string): ConfigResult {
  const result = new ConfigResult();
  const cfg = new FilterConfig();
  if (isBlank(text)) {
    result.config = cfg;
    return result;
  }
  const parsed = parseJson(text);
  if (parsed.value == null) {
    result.errors.push(parsed.error);
    return result;
  }
  const root = parsed.value!;
  if (root.kind != JsonKind.Object) {
    result.errors.push("configuration: must be a JSON object, got " + root.describe());
    return result;
  }
  const r = new Reader();
  const c = r.obj(root, "controller", "");
  if (c != null) cfg.controller = readController(r, c);
  const secret = r.str(root, "pinSecretEnv", "", false);
  if (secret != null) cfg.pinSecretEnv = secret;
  const receiver = root.get("shadowReceiver");
  if (receiver != null) {
    if (receiver.kind != JsonKind.Bool) r.problem(".shadowReceiver", "must be true or false, got " + receiver.describe());
    else cfg.shadowReceiver = receiver.bool;
  }
  const routes = new Array<RouteData>();
  const ra = r.arr(root, "routes", "");
  if (ra != null) {
    for (let i = 0; i < ra.items.length; i++) {
      const p = "routes[" + i.toString() + "]";
      const o = ra.items[i];
      if (o.kind != JsonKind.Object) r.problem(p, "must be an object, got " + o.describe());
      else routes.push(readRoute(r, o, p));
    }
  }
  // Shape problems are reported first; the semantic rules (buildTable) run once the shape is right.
  // Top-level paths were built as ".key"; drop the leading dot.
  for (let i = 0; i < r.errors.length; i++) {
    const e = r.errors[i];
    result.errors.push(e.startsWith(".") ? e.substring(1) : e);
  }
  if (result.errors.length > 0) return result;
  const t = buildTable(routes, 0);
  if (t.table == null) {
    result.errors = t.errors;
    return result;
  }
  cfg.table = t.table!;
  result.config = cfg;
  return result;
}

/**
 * Problems with the pin-token secret: a requireToken route without its Canary's own secret
 * (filter/pin-secret.ts) needs `pinSecretEnv` naming an env var (WasmPlugin `vmConfig.env`) with a
 * non-empty value. `secret` is that value, null when unset.
 */
export function pinSecretErrors(cfg: FilterConfig, secret: string | null): Array<string> {
  const errors = new Array<string>();
  const routes = cfg.table.routes;
  for (let i = 0; i < routes.length; i++) {
    if (!routes[i].requireToken || routes[i].pinSecret.length > 0) continue;
    const needer = "routes[" + i.toString() + "].pin.requireToken";
    if (cfg.pinSecretEnv.length == 0) {
      errors.push("pinSecretEnv: is required when " + needer + " is true and its Canary has no secret of its own");
    } else if (secret == null || secret.length == 0) {
      errors.push(
        "pinSecretEnv: environment variable " + quote(cfg.pinSecretEnv) +
          " is unset or empty (set it in the WasmPlugin vmConfig.env); " + needer + " needs it",
      );
    }
    break;
  }
  return errors;
}

function isBlank(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return false;
  }
  return true;
}
