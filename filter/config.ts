// The filter configuration (docs/filter-config.md): JSON or a controller Directive, validated into
// a RoutingTable. Every problem is reported with its field path; a configuration with any problem
// is rejected as a whole. Pure AssemblyScript: no host imports.
// The types live here; reading JSON is config-json.ts, the semantic rules config-table.ts.

import { cohortPrefix } from "./hash";
import { LlmConfig } from "./llm-config";
import { VariantTotalsData } from "./wire";

/** Defaults from docs/filter-config.md. */
export const DEFAULT_PIN_HEADER = "x-meshcanary-pin";
/** What Envoy appends to the host of a mirrored request's authority (before any port). */
export const SHADOW_SUFFIX = "-shadow";
export const DEFAULT_PIN_COOKIE = "meshcanary-pin";
export const DEFAULT_INTERVAL_MS: u32 = 1000;
/** Far above any mesh's canaries (each route is a few hundred bytes); a Directive's extra routes are dropped. */
export const MAX_ROUTES = 4096;
export const MAX_VARIANTS = 8;
export const MAX_METRICS = 8;
export const TOTAL_WEIGHT: u32 = 10000;

/** Where and how to report to the controller. */
export class ControllerConfig {
  /** Envoy cluster name of the controller's gRPC port. */
  cluster: string = "";
  /** `:authority` of the stream (default: the FQDN part of the cluster name). */
  authority: string = "";
  /** Report interval in milliseconds (100..60000). */
  intervalMs: u32 = DEFAULT_INTERVAL_MS;
  /** Env var whose value is sent as `x-meshcanary-token`; empty for none. */
  tokenEnv: string = "";
}

/** One canary's routing rules, validated and ready for the per-request decision. */
export class Route {
  /** Configured host, lower-cased. */
  host: string = "";
  /** The host carries Envoy's mirror suffix ("-shadow"): the route tallies a shadow's copies. */
  shadow: bool = false;
  /** `<namespace>/<name>`: the tallies key. */
  canary: string = "";
  /** Variant names in order (stable first, canary last). */
  variants: Array<string> = [];
  /** Weights in basis points, parallel to variants; they sum to 10000. */
  weights: Array<u32> = [];
  /** Exclusive upper end of each variant's bucket range: variant i owns [ends[i-1], ends[i]). */
  ends: Array<u32> = [];
  /** Pin header name (lower-case). */
  pinHeader: string = DEFAULT_PIN_HEADER;
  /** Pin cookie name. */
  pinCookie: string = DEFAULT_PIN_COOKIE;
  /** Pins only count as a valid signed token (filter/pin-token.ts); plain variant names are ignored. */
  requireToken: bool = false;
  /** This Canary's own pin-token key (filter/pin-secret.ts), set by the host adapter; empty: the shared one. */
  pinSecret: Uint8Array = new Uint8Array(0);
  /** Sticky key header (lower-case), or empty. */
  stickyHeader: string = "";
  /** Sticky key cookie, or empty. */
  stickyCookie: string = "";
  /** Sticky hash salt. */
  cohort: string = "";
  /** Names of numeric response metrics, parallel to metricHeaders. */
  metricNames: Array<string> = [];
  /** Response headers carrying those metrics (lower-case). */
  metricHeaders: Array<string> = [];
  /** Status codes counted as failures besides 5xx. */
  failureCodes: Array<u32> = [];
  /** LLM response-body metrics (docs/llm.md); null = the body is not scanned. */
  llm: LlmConfig | null = null;
  /** Latency thresholds tallied per user group (filter/slow-counts.ts): variant index, µs, ns. */
  slowVariants: Array<i32> = [];
  slowUs: Array<u64> = [];
  slowNs: Array<u64> = [];
  /** Cumulative tallies per variant (bound by bindTotals; shared across reconfigurations). */
  totals: Array<VariantTotalsData> = [];
  /** Envoy counter ids per variant (0 = not defined), set by the host adapter. */
  requestCounters: Array<u32> = [];
  failureCounters: Array<u32> = [];
  /** The rollout's marker (filter/marker.ts), set on every request routed here; empty: none. */
  marker: string = "";
  markerValue: ArrayBuffer = new ArrayBuffer(0);
  /** UTF-8 of pinHeader / stickyHeader / each variant / each metric header, encoded once by the host adapter. */
  pinHeaderKey: ArrayBuffer = new ArrayBuffer(0);
  stickyHeaderKey: ArrayBuffer = new ArrayBuffer(0);
  variantValues: Array<ArrayBuffer> = [];
  metricHeaderKeys: Array<ArrayBuffer> = [];

  /** cohortPrefix(cohort), kept with the cohort string it was computed for (by identity). */
  private prefixOf: string | null = null;
  private prefix: u32 = 0;

  /** The sticky hash state after this route's cohort (filter/hash.ts cohortPrefix), computed once. */
  cohortPrefix(): u32 {
    if (changetype<usize>(this.prefixOf) != changetype<usize>(this.cohort)) {
      this.prefix = cohortPrefix(this.cohort);
      this.prefixOf = this.cohort;
    }
    return this.prefix;
  }

  /** Index of the variant called `name`, or -1. */
  variantIndex(name: string): i32 {
    for (let i = 0; i < this.variants.length; i++) {
      if (this.variants[i] == name) return i;
    }
    return -1;
  }
}

/** All routes, indexed by every name they answer to. */
export class RoutingTable {
  /** Directive version (0 for plugin configuration). */
  version: u64 = 0;
  routes: Array<Route> = [];
  byName: Map<string, Route> = new Map();

  /** The route for an `:authority` value (port stripped, lower-cased), or null. */
  lookup(authority: string): Route | null {
    const name = hostOf(authority);
    return this.byName.has(name) ? this.byName.get(name) : null;
  }
}

/** A whole validated configuration. */
export class FilterConfig {
  /** Null: route and count, but do not report. */
  controller: ControllerConfig | null = null;
  /** Env var holding the pin-token HMAC secret; empty for none. */
  pinSecretEnv: string = "";
  /** The pin-token HMAC key: UTF-8 of that env var's value, set by the host (empty: none). */
  pinSecret: Uint8Array = new Uint8Array(0);
  /**
   * The receiving side of a shadow (the canary pods' inbound): only shadow routes count there, so
   * a request the caller's filter already tallied is not tallied twice; elsewhere shadow routes are
   * ignored, so a caller cannot pass its requests off as mirrored copies.
   */
  shadowReceiver: bool = false;
  table: RoutingTable = new RoutingTable();
}

/** A configuration or the list of problems (each starting with its field path). */
export class ConfigResult {
  config: FilterConfig | null = null;
  errors: Array<string> = [];
}

/** A routing table or the list of problems. */
export class TableResult {
  table: RoutingTable | null = null;
  errors: Array<string> = [];
  /** Routes left out of `table` (per-route validation only): their problems are in `errors`. */
  dropped: i32 = 0;
  /** Slow thresholds left out of their routes (per-route validation only; filter/slow-counts.ts). */
  ignoredSlow: i32 = 0;
  /** Their problems, each with its field path. */
  ignored: Array<string> = [];
}

/** `:authority` → host: port stripped (also for `[v6]:port`), lower-cased. */
export function hostOf(authority: string): string {
  let end = authority.length;
  for (let i = authority.length - 1; i >= 0; i--) {
    const c = authority.charCodeAt(i);
    if (c == 0x3a) {
      end = i;
      break;
    }
    if (c < 0x30 || c > 0x39) break;
  }
  const host = end == authority.length ? authority : authority.substring(0, end);
  return lowerAscii(host);
}

/** ASCII lower-casing that allocates only when something changes. */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.toLowerCase();
  }
  return s;
}
