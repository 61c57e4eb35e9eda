/**
 * Builders shared by the telemetry tests: the TypeScript twins of filter/testing/codec-exports.ts
 * (same recipe from `n`), a loader for the compiled codec, and Report constructors.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { instantiate } from "@assemblyscript/loader";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Directive,
  DirectiveSchema,
  type Report,
  ReportSchema,
  type Sketch,
  SketchSchema,
  type VariantTotalsSchema,
} from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { emptySketch, record } from "../../controller/telemetry/sketch.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The codec's exports as the loader presents them (pointers are numbers). */
export interface CodecExports {
  reportRoundTrip(buf: number): number;
  directiveRoundTrip(buf: number): number;
  probeDirective(buf: number): number;
  probeReport(buf: number): number;
  decodeError(): number;
  buildReport(n: number): number;
  buildDirective(n: number): number;
  __newArrayBuffer(buf: ArrayBuffer): number;
  __getArrayBuffer(ptr: number): ArrayBuffer;
  __getString(ptr: number): string;
  __pin(ptr: number): number;
  __unpin(ptr: number): void;
  __collect(): void;
}

/** Compiles filter/testing/codec-exports.ts with asc and instantiates it. */
export async function loadCodec(): Promise<CodecExports> {
  execFileSync(`${root}node_modules/.bin/asc`, ["--config", "filter/testing/asconfig.codec.json"], {
    cwd: root,
    stdio: "pipe",
  });
  const bytes = readFileSync(`${root}build/test/codec.wasm`);
  const mod = await instantiate<Record<string, unknown>>(bytes, {});
  return mod.exports as unknown as CodecExports;
}

/** Copies `input` into the module as an ArrayBuffer, calls `fn` with its pointer, then releases it. */
export function withBytes<T>(codec: CodecExports, input: Uint8Array, fn: (ptr: number) => T): T {
  const ab = input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) as ArrayBuffer;
  const inPtr = codec.__pin(codec.__newArrayBuffer(ab));
  try {
    return fn(inPtr);
  } finally {
    codec.__unpin(inPtr);
  }
}

/** Calls an AS function taking one ArrayBuffer and returning ArrayBuffer | null. */
export function callBytes(
  codec: CodecExports,
  fn: (p: number) => number,
  input: Uint8Array,
): Uint8Array | null {
  return withBytes(codec, input, (p) => {
    const out = fn(p);
    return out === 0 ? null : new Uint8Array(codec.__getArrayBuffer(out));
  });
}

function sketch(n: number, k: number): Sketch {
  const buckets = (n + k) % 5;
  const indexes: number[] = [];
  const counts: bigint[] = [];
  let total = 0n;
  for (let b = 0; b < buckets; b++) {
    indexes.push(-40 + b * 37 + n);
    const c = BigInt(b + 1) * BigInt(n + 1) * 1000n;
    counts.push(c);
    total += c;
  }
  const zeroCount = BigInt(n % 3);
  return create(SketchSchema, {
    count: total + zeroCount,
    zeroCount,
    sum: Number(total) * 12.5 + n / 7.0,
    indexes,
    counts,
  });
}

/** Entry i of the totals of report n (same recipe as totalsEntry in filter/testing/codec-exports.ts). */
function totalsEntry(n: number, i: number): MessageInitShape<typeof VariantTotalsSchema> {
  const requests = BigInt(n + 1) * BigInt(i + 1) * 1000003n;
  return {
    canary: `ns/c${i}`,
    variant: i % 2 === 0 ? "stable" : "canary",
    requests,
    statusNone: BigInt(i),
    status1xx: 0n,
    status2xx: requests - BigInt(i),
    status3xx: 0n,
    status4xx: 0n,
    status5xx: BigInt(n % 7),
    failures: 0xffffffffffffffffn - BigInt(n),
    latencyUs: sketch(n, i),
    responseBytes: BigInt(n) * 4096n,
    metrics:
      i % 2 === 1
        ? [
            {
              name: "tokens",
              count: BigInt(n + i),
              sum: (n + i) * 1.5,
              sketch: sketch(n, i + 1),
            },
          ]
        : [],
    slow:
      i % 2 === 1
        ? [
            { thresholdUs: BigInt(n + 1) * 1000n, byGroup: [BigInt(n), 0n, 0n, 0n, 0n, BigInt(i + 1)] },
            { thresholdUs: 2n ** 53n - 1n, byGroup: [] },
          ]
        : [],
  };
}

/** Same recipe as buildReport in filter/testing/codec-exports.ts. */
export function buildReport(n: number): Report {
  const totals = Array.from({ length: n % 4 }, (_, i) => totalsEntry(n, i));
  // Odd n carry a baseline: the totals of report n - 1.
  const baseline = n % 2 === 1 ? Array.from({ length: (n - 1) % 4 }, (_, i) => totalsEntry(n - 1, i)) : [];
  return create(ReportSchema, {
    reporter: {
      pod: `pod-${n}`,
      namespace: "ns",
      workload: "wl-é✓",
      instanceId: `inst-${n}`,
      startTimeUnixMs: 1700000000000n + BigInt(n),
      filterVersion: "0.1.0",
    },
    seq: BigInt(n),
    sentUnixMs: -BigInt(n),
    routingVersion: BigInt(n * 3),
    totals,
    counters: { config_rejected: BigInt(n) },
    baseline,
  });
}

/** Same recipe as buildDirective in filter/testing/codec-exports.ts. */
export function buildDirective(n: number): Directive {
  const routes = [];
  for (let i = 0; i < (n % 3) + 1; i++) {
    routes.push({
      host: `svc${i}.ns.svc.cluster.local`,
      aliases: Array.from({ length: i }, (_, a) => `alias${a}`),
      canary: `ns/svc${i}`,
      variants: [
        { name: "stable", weightBp: 10000 - n },
        { name: "canary", weightBp: n },
      ],
      pin: { header: "x-meshcanary-pin", cookie: "meshcanary-pin", requireToken: i % 2 === 1 },
      sticky: { header: i % 2 === 0 ? "x-user-id" : "", cookie: i % 2 === 1 ? "uid" : "" },
      cohort: `cohort-${n}`,
      metrics: i > 0 ? [{ name: "tokens", header: "x-llm-total-tokens" }] : [],
      failureCodes: i > 0 ? [429, 400 + i] : [],
      slowThresholds: i > 0 ? [{ variant: "canary", thresholdUs: BigInt(n + 1) * 1500n }] : [],
    });
  }
  return create(DirectiveSchema, {
    version: BigInt(n) + 0x100000000n,
    reportIntervalMs: (n % 2) * 500,
    routes,
  });
}

/** Shorthand for one (canary, variant) entry of a test Report; latencies are recorded into the sketch. */
export interface TotalsSpec {
  canary?: string;
  variant?: string;
  requests: number;
  failures?: number;
  latenciesUs?: number[];
  tokens?: number[];
  /** Cumulative [group, requests, failures] per user group. */
  userGroups?: Array<[number, number, number]>;
  /** Cumulative [threshold µs, counts per group] of slow requests. */
  slow?: Array<[number, number[]]>;
}

function protoSketch(values: number[]): Sketch {
  const s = emptySketch();
  for (const v of values) record(s, v);
  const indexes = [...s.buckets.keys()].sort((a, b) => a - b);
  return create(SketchSchema, {
    count: BigInt(s.count),
    zeroCount: BigInt(s.zeroCount),
    sum: s.sum,
    indexes,
    counts: indexes.map((i) => BigInt(s.buckets.get(i)!)),
  });
}

/** A Report with cumulative totals from `specs` (status 2xx = requests - failures, 5xx = failures). */
export function makeReport(opts: {
  pod?: string;
  namespace?: string;
  instance?: string;
  seq: number;
  routingVersion?: number;
  startMs?: number;
  totals: TotalsSpec[];
  /** The Report's `baseline` (only the first report on a new stream carries one). */
  baseline?: TotalsSpec[];
}): Report {
  return create(ReportSchema, {
    reporter: {
      pod: opts.pod ?? "pod-a",
      namespace: opts.namespace ?? "ns",
      instanceId: opts.instance ?? "i1",
      startTimeUnixMs: BigInt(opts.startMs ?? 1000),
    },
    seq: BigInt(opts.seq),
    routingVersion: BigInt(opts.routingVersion ?? 0),
    totals: opts.totals.map(wireTotals),
    baseline: (opts.baseline ?? []).map(wireTotals),
  });
}

function wireTotals(t: TotalsSpec): MessageInitShape<typeof VariantTotalsSchema> {
  return {
    canary: t.canary ?? "ns/web",
    variant: t.variant ?? "canary",
    requests: BigInt(t.requests),
    failures: BigInt(t.failures ?? 0),
    status2xx: BigInt(t.requests - (t.failures ?? 0)),
    status5xx: BigInt(t.failures ?? 0),
    latencyUs: protoSketch(t.latenciesUs ?? []),
    userGroups: (t.userGroups ?? []).map(([group, requests, failures]) => ({
      group,
      requests: BigInt(requests),
      failures: BigInt(failures),
    })),
    slow: (t.slow ?? []).map(([us, byGroup]) => ({ thresholdUs: BigInt(us), byGroup: byGroup.map(BigInt) })),
    metrics: t.tokens
      ? [
          {
            name: "tokens",
            count: BigInt(t.tokens.length),
            sum: t.tokens.reduce((a, b) => a + b, 0),
            sketch: protoSketch(t.tokens),
          },
        ]
      : [],
  };
}
