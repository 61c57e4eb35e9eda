// An Envoy HeaderMap as the filter sees it (host contract §3.2): lower-case keys, pseudo-headers
// first, first-value get, add appends, replace sets the first occurrence, remove drops all.
import type { Headers } from "./pairs.js";

/** Mutable ordered header map. */
export class HeaderMap {
  constructor(readonly entries: Headers = []) {}

  /** Builds a map from caller input, lower-casing keys and moving pseudo-headers first. */
  static from(input: Headers | Record<string, string>): HeaderMap {
    const list: Headers = Array.isArray(input) ? input : Object.entries(input);
    const map = new HeaderMap();
    for (const [k, v] of list) map.add(k, v);
    return map;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Envoy HeaderMap::byteSize(): sum of key and value lengths in bytes. */
  byteSize(): number {
    let n = 0;
    for (const [k, v] of this.entries) n += Buffer.byteLength(k) + Buffer.byteLength(v);
    return n;
  }

  get(key: string): string | undefined {
    const k = key.toLowerCase();
    for (const e of this.entries) if (e[0] === k) return e[1];
    return undefined;
  }

  /** All values of a key joined by "," (the `request.headers` property form). */
  getJoined(key: string): string | undefined {
    const k = key.toLowerCase();
    const values = this.entries.filter((e) => e[0] === k).map((e) => e[1]);
    return values.length ? values.join(",") : undefined;
  }

  add(key: string, value: string): void {
    const k = key.toLowerCase();
    if (k.startsWith(":")) {
      let i = 0;
      while (i < this.entries.length && this.entries[i]![0].startsWith(":")) i++;
      this.entries.splice(i, 0, [k, value]);
    } else {
      this.entries.push([k, value]);
    }
  }

  replace(key: string, value: string): void {
    const k = key.toLowerCase();
    const e = this.entries.find((x) => x[0] === k);
    if (e) e[1] = value;
    else this.add(k, value);
  }

  remove(key: string): void {
    const k = key.toLowerCase();
    for (let i = this.entries.length - 1; i >= 0; i--)
      if (this.entries[i]![0] === k) this.entries.splice(i, 1);
  }

  /** proxy_set_header_map_pairs: remove everything, then add each pair. */
  setAll(pairs: Headers): void {
    this.entries.length = 0;
    for (const [k, v] of pairs) this.add(k, v);
  }

  /** A copy of the entries, for results handed to callers. */
  toList(): Headers {
    return this.entries.map(([k, v]) => [k, v]);
  }
}
