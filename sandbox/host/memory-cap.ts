// Envoy's cap on Wasm memory: V8 runs with --wasm_max_mem_pages = 16384 (1 GiB), so a module's
// memory.grow past 1 GiB returns -1 there (test/envoy/host-limits.test.ts). Node allows 4 GiB, so the
// host writes the cap into the module's own memory declaration before compiling it.

/** 1 GiB in 64 KiB pages (proxy-wasm-cpp-host's PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES). */
export const MAX_MEMORY_PAGES = 16384;

const MEMORY_SECTION = 5;
const HAS_MAX = 0x01;
const MEMORY64 = 0x04;

function readU32(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    const b = bytes[at++];
    if (b === undefined) throw new Error("wasm binary truncated in a LEB128");
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, at];
  }
  throw new Error(`bad LEB128 before offset ${at}`);
}

function u32Bytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    const b = v % 128;
    v = Math.floor(v / 128);
    out.push(v > 0 ? b | 0x80 : b);
  } while (v > 0);
  return out;
}

/** The memory section's entries with each maximum lowered to `maxPages` (and set where absent). */
function cappedSection(content: Uint8Array, maxPages: number): number[] {
  let at = 0;
  let count: number;
  [count, at] = readU32(content, at);
  const out = u32Bytes(count);
  for (let i = 0; i < count; i++) {
    const flags = content[at++];
    if (flags === undefined) throw new Error("wasm memory section truncated");
    if (flags & MEMORY64) return Array.from(content); // 64-bit memories: Envoy does not load them either
    let min: number;
    [min, at] = readU32(content, at);
    let max = Number.POSITIVE_INFINITY;
    if (flags & HAS_MAX) [max, at] = readU32(content, at);
    out.push(flags | HAS_MAX, ...u32Bytes(min), ...u32Bytes(Math.min(max, maxPages)));
  }
  return out;
}

/**
 * A copy of a wasm binary whose defined memories may grow to at most `maxPages` (a module asking
 * for more initial pages than that then fails to compile, as it fails to load in Envoy).
 * Returns the input unchanged when it defines no memory.
 */
export function capMemoryPages(bytes: Uint8Array, maxPages = MAX_MEMORY_PAGES): Uint8Array {
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, contentAt] = readU32(bytes, at + 1);
    const end = contentAt + size;
    if (end > bytes.length) throw new Error(`wasm section ${id} truncated`);
    if (id === MEMORY_SECTION) {
      const content = cappedSection(bytes.subarray(contentAt, end), maxPages);
      const head = [MEMORY_SECTION, ...u32Bytes(content.length)];
      const out = new Uint8Array(at + head.length + content.length + (bytes.length - end));
      out.set(bytes.subarray(0, at), 0);
      out.set(head, at);
      out.set(content, at + head.length);
      out.set(bytes.subarray(end), at + head.length + content.length);
      return out;
    }
    at = end;
  }
  return bytes;
}
