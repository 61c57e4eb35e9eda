/**
 * The sticky hash (docs/filter-config.md), the TypeScript twin of filter/hash.ts:
 * bucket = fmix32(fnv1a32(utf8(cohort + ":" + key))) % 10000. Both pass test/vectors/sticky-hash.json.
 * Pure functions. Lone surrogates are hashed as WTF-8 (like the filter), not as U+FFFD.
 */

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/** Number of sticky buckets (one per basis point of weight). */
export const BUCKETS = 10000;

/** UTF-8 bytes of `s`; lone surrogates as WTF-8 three-byte sequences (TextEncoder would use U+FFFD). */
export function wtf8(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else {
      const c2 = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if ((c & 0xfc00) === 0xd800 && (c2 & 0xfc00) === 0xdc00) {
        c = 0x10000 + (((c & 0x3ff) << 10) | (c2 & 0x3ff));
        i++;
        out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      } else {
        out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
    }
  }
  return out;
}

/** FNV-1a 32 over bytes (or over the UTF-8 of a string), as an unsigned 32-bit number. */
export function fnv1a32(input: string | Uint8Array | number[]): number {
  const bytes = typeof input === "string" ? wtf8(input) : input;
  let h = FNV_OFFSET;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The sticky bucket in [0, 10000) of a user key within a cohort. */
export function stickyBucket(cohort: string, key: string): number {
  return fmix32(fnv1a32(cohort + ":" + key)) % BUCKETS;
}
