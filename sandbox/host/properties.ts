// proxy_get_property (host contract §4): \0-separated paths, CEL value encodings, and the
// availability of each attribute by context and phase.
import { WasmResult } from "./abi.js";
import type { StreamContext } from "./contexts.js";
import { encodePairBytes } from "./pairs.js";

/** Host-wide facts that properties expose. */
export interface PropertyEnv {
  pluginName: string;
  rootId: string;
  vmId: string;
  nodeId: string;
  nodeMetadata: Record<string, string>;
  listenerDirection: number;
}

const encoder = new TextEncoder();
const str = (s: string): Uint8Array => encoder.encode(s);

const TWO_32 = 2 ** 32;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** int64 / uint64 / timestamp / duration: 8 bytes little-endian. */
export function int64(v: bigint | number): Uint8Array {
  const out = new Uint8Array(8);
  // Byte stores into a fresh small array: touching `.buffer` (a DataView) or making a BigInt per
  // property read costs more than the rest of a property read together.
  if (typeof v === "bigint" && (v > MAX_SAFE || v < MIN_SAFE)) {
    const u = BigInt.asUintN(64, v);
    storeU32(out, 0, Number(u & 0xffffffffn));
    storeU32(out, 4, Number(u >> 32n));
    return out;
  }
  const n = Number(v);
  storeU32(out, 0, n >>> 0);
  storeU32(out, 4, Math.floor(n / TWO_32) >>> 0);
  return out;
}

function storeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

function map(entries: Array<[string, string]>): Uint8Array {
  return encodePairBytes(entries.map(([k, v]) => [str(k), str(v)]));
}

/** Resolves a property to its bytes, or a WasmResult error code. */
export function getProperty(
  rawPath: string,
  env: PropertyEnv,
  stream: StreamContext | undefined,
): Uint8Array | number {
  const { path, head, rest } = parsePath(rawPath);
  const found = resolve(head, rest, env, stream);
  if (found !== undefined) return found;
  const state = stream?.filterState.get(path);
  return state ?? WasmResult.NotFound;
}

/** A property path without its trailing NUL, split into the first segment and the rest (read-only). */
interface ParsedPath {
  path: string;
  head: string;
  rest: readonly string[];
}

/** Split paths by raw path: filters read the same few properties on every request. */
const parsedPaths = new Map<string, ParsedPath>();
const MAX_PARSED_PATHS = 256;

function parsePath(rawPath: string): ParsedPath {
  let parsed = parsedPaths.get(rawPath);
  if (parsed) return parsed;
  const path = rawPath.endsWith("\0") ? rawPath.slice(0, -1) : rawPath;
  const [head, ...rest] = path.split("\0");
  parsed = { path, head: head!, rest };
  if (parsedPaths.size >= MAX_PARSED_PATHS) parsedPaths.clear();
  parsedPaths.set(rawPath, parsed);
  return parsed;
}

function resolve(
  head: string,
  rest: readonly string[],
  env: PropertyEnv,
  s: StreamContext | undefined,
): Uint8Array | undefined {
  if (rest.length === 0) {
    if (head === "plugin_name") return str(env.pluginName);
    if (head === "plugin_root_id") return str(env.rootId);
    if (head === "plugin_vm_id") return str(env.vmId);
  }
  if (head === "xds") return xds(rest, env, s);
  if (!s) return undefined;
  if (head === "request") return request(rest, s);
  if (head === "response") return response(rest, s);
  if (head === "source") return address(rest, s.facts.sourceAddress);
  if (head === "destination") return address(rest, s.facts.destinationAddress);
  if (head === "upstream" && s.facts.upstreamAddress) return address(rest, s.facts.upstreamAddress);
  return undefined;
}

function xds(
  rest: readonly string[],
  env: PropertyEnv,
  s: StreamContext | undefined,
): Uint8Array | undefined {
  const [field, sub, key, ...extra] = rest;
  if (field === "node") {
    if (sub === undefined) return nodeProto(env);
    if (sub === "id" && key === undefined) return str(env.nodeId);
    if (sub === "metadata" && key === undefined) return map(Object.entries(env.nodeMetadata));
    if (
      sub === "metadata" &&
      key !== undefined &&
      extra.length === 0 &&
      Object.hasOwn(env.nodeMetadata, key)
    ) {
      return str(env.nodeMetadata[key]!);
    }
    return undefined;
  }
  if (!s || sub !== undefined) return undefined;
  if (field === "cluster_name" && s.facts.clusterName !== undefined) return str(s.facts.clusterName);
  if (field === "route_name" && s.facts.routeName !== undefined) return str(s.facts.routeName);
  if (field === "listener_direction") return int64(env.listenerDirection);
  return undefined;
}

function request(rest: readonly string[], s: StreamContext): Uint8Array | undefined {
  const [field, key] = rest;
  const f = s.facts;
  if (rest.length === 1) {
    if (field === "time") return int64(f.startRealtimeNs);
    if (field === "duration") return f.complete ? int64(f.durationNs ?? 0n) : undefined;
    if (field === "protocol") return str(f.protocol);
    if (field === "size") return int64(requestSize(s));
    if (field === "total_size") return int64(f.requestBodyBytes + s.requestHeaders.byteSize());
  }
  if (!s.requestHeadersHeld) return undefined;
  const h = s.requestHeaders;
  if (field === "headers") {
    if (key === undefined) return map(joinedHeaders(h.entries));
    const v = rest.length === 2 ? h.getJoined(key) : undefined;
    return v === undefined ? undefined : str(v);
  }
  if (rest.length !== 1) return undefined;
  const path = h.get(":path");
  const header: Record<string, string | undefined> = {
    path,
    url_path: path?.split("?")[0],
    query: path === undefined ? undefined : path.includes("?") ? path.slice(path.indexOf("?") + 1) : "",
    host: h.get(":authority"),
    scheme: h.get(":scheme"),
    method: h.get(":method"),
    referer: h.get("referer"),
    useragent: h.get("user-agent"),
    id: h.get("x-request-id"),
  };
  const v = Object.hasOwn(header, field!) ? header[field!] : undefined;
  return v === undefined ? undefined : str(v);
}

function requestSize(s: StreamContext): number {
  const cl = s.requestHeaders.get("content-length");
  return cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : s.facts.requestBodyBytes;
}

function response(rest: readonly string[], s: StreamContext): Uint8Array | undefined {
  const [field, key] = rest;
  const f = s.facts;
  if (rest.length === 1) {
    if (field === "code") return f.responseCode === undefined ? undefined : int64(f.responseCode);
    if (field === "code_details") return f.codeDetails === undefined ? undefined : str(f.codeDetails);
    if (field === "flags") return int64(f.responseFlags);
    if (field === "size") return int64(f.responseBodyBytes);
    if (field === "total_size") {
      const hdr = s.responseHeaders?.byteSize() ?? 0;
      return int64(f.responseBodyBytes + hdr + (s.responseTrailers?.byteSize() ?? 0));
    }
  }
  if (field === "headers" && s.responseHeadersHeld && s.responseHeaders) {
    if (key === undefined) return map(joinedHeaders(s.responseHeaders.entries));
    const v = rest.length === 2 ? s.responseHeaders.getJoined(key) : undefined;
    return v === undefined ? undefined : str(v);
  }
  return undefined;
}

function address(rest: readonly string[], addr: string): Uint8Array | undefined {
  if (rest.length !== 1) return undefined;
  if (rest[0] === "address") return str(addr);
  if (rest[0] === "port") {
    const port = Number(addr.slice(addr.lastIndexOf(":") + 1));
    return Number.isInteger(port) ? int64(port) : undefined;
  }
  return undefined;
}

function joinedHeaders(entries: Array<[string, string]>): Array<[string, string]> {
  const joined = new Map<string, string>();
  for (const [k, v] of entries) joined.set(k, joined.has(k) ? `${joined.get(k)},${v}` : v);
  return [...joined];
}

/** envoy.config.core.v3.Node with id (1) and metadata Struct (3) of string values. */
function nodeProto(env: PropertyEnv): Uint8Array {
  const parts: number[] = [];
  if (env.nodeId) lenField(parts, 1, str(env.nodeId));
  const fields: number[] = [];
  for (const [k, v] of Object.entries(env.nodeMetadata)) {
    const value: number[] = [];
    lenField(value, 3, str(v));
    const entry: number[] = [];
    lenField(entry, 1, str(k));
    lenField(entry, 2, Uint8Array.from(value));
    lenField(fields, 1, Uint8Array.from(entry));
  }
  if (fields.length) lenField(parts, 3, Uint8Array.from(fields));
  return Uint8Array.from(parts);
}

function lenField(out: number[], field: number, bytes: Uint8Array): void {
  varint(out, (field << 3) | 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function varint(out: number[], v: number): void {
  let n = v;
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}
