// The sticky hash (docs/filter-config.md): bucket = fmix32(fnv1a32(utf8(cohort + ":" + key))) % 10000.
// The TypeScript twin is controller/mesh/sticky-hash.ts; both pass test/vectors/sticky-hash.json.
// Pure AssemblyScript: no host imports, no allocation (UTF-8 bytes are produced on the fly).

/** FNV-1a 32-bit offset basis. */
export const FNV_OFFSET: u32 = 2166136261;
const FNV_PRIME: u32 = 16777619;

/** Number of sticky buckets: weights are basis points, so one bucket per basis point. */
export const BUCKETS: u32 = 10000;

@inline
function mixByte(h: u32, b: u32): u32 {
  return (h ^ b) * FNV_PRIME;
}

/**
 * Continues an FNV-1a hash over the UTF-8 encoding of `s`. Lone surrogates are encoded as WTF-8
 * (three bytes), as AssemblyScript's String.UTF8.encode does; valid text is plain UTF-8.
 */
export function fnv1aString(h: u32, s: string): u32 {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = <u32>s.charCodeAt(i);
    if (c < 0x80) {
      h = mixByte(h, c);
      continue;
    }
    if (c < 0x800) {
      h = mixByte(h, 0xc0 | (c >> 6));
      h = mixByte(h, 0x80 | (c & 63));
      continue;
    }
    if ((c & 0xfc00) == 0xd800 && i + 1 < n) {
      const c2 = <u32>s.charCodeAt(i + 1);
      if ((c2 & 0xfc00) == 0xdc00) {
        c = 0x10000 + (((c & 0x3ff) << 10) | (c2 & 0x3ff));
        i++;
        h = mixByte(h, 0xf0 | (c >> 18));
        h = mixByte(h, 0x80 | ((c >> 12) & 63));
        h = mixByte(h, 0x80 | ((c >> 6) & 63));
        h = mixByte(h, 0x80 | (c & 63));
        continue;
      }
    }
    h = mixByte(h, 0xe0 | (c >> 12));
    h = mixByte(h, 0x80 | ((c >> 6) & 63));
    h = mixByte(h, 0x80 | (c & 63));
  }
  return h;
}

/** FNV-1a 32 over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): u32 {
  return fnv1aString(FNV_OFFSET, s);
}

/** MurmurHash3's 32-bit finaliser: spreads FNV's weak low bits before the modulo. */
export function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

/** The FNV-1a state after utf8(cohort + ":"): the part of the sticky hash a route can keep. */
export function cohortPrefix(cohort: string): u32 {
  return mixByte(fnv1aString(FNV_OFFSET, cohort), 0x3a);
}

/** FNV-1a 32 of utf8(cohort + ":" + key), without building the joined string. */
export function stickyHash(cohort: string, key: string): u32 {
  return fnv1aString(cohortPrefix(cohort), key);
}

/** The sticky bucket in [0, 10000). */
export function stickyBucket(cohort: string, key: string): u32 {
  return bucketAfter(cohortPrefix(cohort), key);
}

/** The sticky bucket of `key` for a cohort whose cohortPrefix is `prefix`. */
export function bucketAfter(prefix: u32, key: string): u32 {
  return fmix32(fnv1aString(prefix, key)) % BUCKETS;
}
