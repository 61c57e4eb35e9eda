// What a JSON string escape stands for, for json-stream.ts's reader: the byte after a backslash
// (`\n`, `\"`, ...) and the value of a `\uXXXX`. Only ASCII matters to the reader's listeners (keys,
// JSON structure inside content), so a `\u` escape above 0x7f stands for '?'. Pure AssemblyScript;
// @inline keeps the reader's per-byte path free of calls.

/** `\u`: four hex digits follow. */
export const ESCAPE_UNICODE: i32 = -1;
/** No escape starts with this byte: the document is not JSON. */
export const ESCAPE_INVALID: i32 = -2;

/** The byte `\c` stands for; ESCAPE_UNICODE for `\u`, ESCAPE_INVALID for any other `c`. */
@inline
export function escapedByte(c: u8): i32 {
  if (c == 0x22 || c == 0x5c || c == 0x2f) return c;
  if (c == 0x62) return 0x08;
  if (c == 0x66) return 0x0c;
  if (c == 0x6e) return 0x0a;
  if (c == 0x72) return 0x0d;
  if (c == 0x74) return 0x09;
  return c == 0x75 ? ESCAPE_UNICODE : ESCAPE_INVALID;
}

/** The byte a `\u` escape of value `v` reaches the listeners as. */
@inline
export function unicodeByte(v: u32): u8 {
  return v < 0x80 ? <u8>v : 0x3f;
}
