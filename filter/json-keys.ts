// Object keys for json-stream.ts's reader: a key's bytes are collected into a fixed buffer and
// matched against a small dictionary, so no key is ever allocated. Pure AssemblyScript.

/** Longest key compared with the dictionary; longer keys match nothing. */
const KEY_BYTES: i32 = 64;
/** Key id of a key not in the dictionary (or an array slot). */
export const NO_KEY: i32 = -1;

/** The key being read and the dictionary it is looked up in. */
export class KeyMatcher {
  /** Keys the listener cares about, as UTF-8; a key's id is its index here (set with use). */
  private dictionary: Array<ArrayBuffer> = [];
  /** Per dictionary key: length | first byte << 8 | last byte << 16 (most keys are rejected by it). */
  private signatures: StaticArray<u32> = new StaticArray<u32>(0);
  private bytes: StaticArray<u8> = new StaticArray<u8>(KEY_BYTES);
  private length: i32 = 0;

  /** Sets the keys to recognise (kept until changed). */
  use(dict: Array<ArrayBuffer>): void {
    if (dict == this.dictionary) return;
    this.dictionary = dict;
    const sigs = new StaticArray<u32>(dict.length);
    for (let i = 0; i < dict.length; i++) {
      const k = dict[i];
      const n = k.byteLength;
      const p = changetype<usize>(k);
      sigs[i] = n == 0 ? 0 : signature(n, load<u8>(p), load<u8>(p + <usize>n - 1));
    }
    this.signatures = sigs;
  }

  /** A new key starts. */
  clear(): void {
    this.length = 0;
  }

  /** One decoded byte of the key. */
  add(c: u8): void {
    if (this.length < KEY_BYTES) {
      unchecked((this.bytes[this.length] = c));
      this.length++;
    } else this.length = KEY_BYTES + 1;
  }

  /** A run of the key's bytes that needed no decoding. */
  addRun(ptr: usize, n: usize): void {
    const room = <usize>(KEY_BYTES - min(this.length, KEY_BYTES));
    if (n > room) {
      this.length = KEY_BYTES + 1; // too long to be a dictionary key
      return;
    }
    memory.copy(changetype<usize>(this.bytes) + <usize>this.length, ptr, n);
    this.length += <i32>n;
  }

  /** The key's id in the dictionary, or NO_KEY. */
  lookup(): i32 {
    const n = this.length;
    if (n > KEY_BYTES) return NO_KEY;
    const key = changetype<usize>(this.bytes);
    const sig = n == 0 ? 0 : signature(n, load<u8>(key), load<u8>(key + <usize>n - 1));
    const sigs = this.signatures;
    for (let i = 0, m = sigs.length; i < m; i++) {
      if (unchecked(sigs[i]) != sig) continue;
      if (n == 0 || memory.compare(changetype<usize>(unchecked(this.dictionary[i])), key, <usize>n) == 0) return i;
    }
    return NO_KEY;
  }
}

function signature(length: i32, first: u8, last: u8): u32 {
  return <u32>length | (<u32>first << 8) | (<u32>last << 16);
}
