// Metrics (host contract §8): stats are shared by name across VMs as "wasmcustom.<name>";
// ids are per VM with the type in the low 2 bits (counter 4,8,…; gauge 5,9,…; histogram 6,10,…).
import { MetricType, WasmResult } from "./abi.js";

/** A stat as stored by the host. */
export interface Stat {
  type: "counter" | "gauge" | "histogram";
  /** Counter/gauge value; for a histogram, the number of samples. */
  value: number;
  /** Histogram only: sum of samples and non-cumulative per-bucket counts (last = +Inf). */
  sum: number;
  buckets: number[];
}

const TYPE_NAMES = ["counter", "gauge", "histogram"] as const;

/** Envoy's default histogram bucket bounds (ms-style units). */
export const HISTOGRAM_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];

/** The host-wide stats store, keyed by Envoy stat name. */
export class StatsStore {
  readonly stats = new Map<string, Stat>();

  /** Gets or creates a stat; a name already used with another type yields undefined. */
  obtain(type: Stat["type"], name: string): Stat | undefined {
    const full = `wasmcustom.${name}`;
    let s = this.stats.get(full);
    if (!s) {
      s = {
        type,
        value: 0,
        sum: 0,
        buckets: type === "histogram" ? Array(HISTOGRAM_BUCKETS.length + 1).fill(0) : [],
      };
      this.stats.set(full, s);
    }
    return s.type === type ? s : undefined;
  }

  /** Prometheus text as Envoy's admin /stats/prometheus renders custom-namespace stats. */
  prometheus(): string {
    const out: string[] = [];
    for (const [full, s] of [...this.stats].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const name = promName(full);
      if (!name) continue;
      out.push(`# TYPE ${name} ${s.type}`);
      if (s.type === "histogram") out.push(...histogramLines(name, s));
      else out.push(`${name}{} ${s.value}`);
    }
    return out.length ? `${out.join("\n")}\n` : "";
  }
}

/** Strips the wasmcustom namespace, sanitises to [a-zA-Z0-9_], drops names starting with a digit. */
export function promName(statName: string): string | undefined {
  const bare = statName.startsWith("wasmcustom.") ? statName.slice("wasmcustom.".length) : statName;
  const name = bare.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(name) || name === "" ? undefined : name;
}

function histogramLines(name: string, s: Stat): string[] {
  let cumulative = 0;
  const lines = HISTOGRAM_BUCKETS.map((b, i) => {
    cumulative += s.buckets[i]!;
    return `${name}_bucket{le="${b}"} ${cumulative}`;
  });
  lines.push(`${name}_bucket{le="+Inf"} ${s.value}`);
  lines.push(`${name}_sum{} ${s.sum}`);
  lines.push(`${name}_count{} ${s.value}`);
  return lines;
}

function recordSample(s: Stat, v: number): void {
  let i = 0;
  while (i < HISTOGRAM_BUCKETS.length && v > HISTOGRAM_BUCKETS[i]!) i++;
  s.buckets[i]!++;
  s.sum += v;
  s.value++;
}

/** One VM's metric ids pointing at shared stats. */
export class VmMetrics {
  private readonly byId = new Map<number, Stat>();
  private readonly next = [4, 5, 6];

  constructor(private readonly store: StatsStore) {}

  /** Returns [result, id]. */
  define(type: number, name: string): [number, number] {
    if (type > MetricType.Histogram || type < 0) return [WasmResult.BadArgument, 0];
    const stat = this.store.obtain(TYPE_NAMES[type]!, name);
    if (!stat) return [WasmResult.BadArgument, 0];
    const id = this.next[type]!;
    this.next[type] = id + 4;
    this.byId.set(id, stat);
    return [WasmResult.Ok, id];
  }

  private lookup(id: number): Stat | number {
    if ((id & 3) === 3) return WasmResult.BadArgument;
    return this.byId.get(id) ?? WasmResult.NotFound;
  }

  increment(id: number, delta: bigint): number {
    const s = this.lookup(id);
    if (typeof s === "number") return s;
    if (s.type === "histogram") return WasmResult.BadArgument;
    if (s.type === "counter" && delta <= 0n) return WasmResult.BadArgument;
    s.value += Number(delta);
    return WasmResult.Ok;
  }

  record(id: number, value: bigint): number {
    const s = this.lookup(id);
    if (typeof s === "number") return s;
    const v = Number(BigInt.asUintN(64, value));
    if (s.type === "counter") s.value += v;
    else if (s.type === "gauge") s.value = v;
    else recordSample(s, v);
    return WasmResult.Ok;
  }

  /** Returns [result, value]. */
  get(id: number): [number, number] {
    const s = this.lookup(id);
    if (typeof s === "number") return [s, 0];
    if (s.type === "histogram") return [WasmResult.BadArgument, 0];
    return [WasmResult.Ok, s.value];
  }
}
