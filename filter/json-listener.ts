// What json-stream.ts's reader tells its user: the callbacks on values at the reader's current
// path, and what the user wants done with a string value. Pure AssemblyScript.

import { JsonStream } from "./json-stream";

/** A string value is skipped (its bytes are checked, not kept). */
export const STRING_SKIP: i32 = 0;
/** A string value is captured into the reader (its first CAPTURE_BYTES bytes). */
export const STRING_CAPTURE: i32 = 1;
/** A string value is handed to the listener as it is read. */
export const STRING_STREAM: i32 = 2;

/** Callbacks on values; the default does nothing. Subclasses override what they need. */
export class JsonListener {
  /** A string value starts at the reader's current path: STRING_SKIP, STRING_CAPTURE or STRING_STREAM. */
  stringStart(_r: JsonStream): i32 {
    return STRING_SKIP;
  }
  /** One decoded byte of a streamed string (\u escapes above 0x7f arrive as '?'). */
  stringByte(_r: JsonStream, _b: u8): void {}
  /** A run of a streamed string's bytes that needed no decoding (the same as stringByte for each). */
  stringRun(r: JsonStream, ptr: usize, length: usize): void {
    for (let i: usize = 0; i < length; i++) this.stringByte(r, load<u8>(ptr + i));
  }
  /** A captured or streamed string ended; r.capturedEquals compares a capture. */
  stringEnd(_r: JsonStream): void {}
  /** A number value at the reader's current path. */
  number(_r: JsonStream, _v: f64): void {}
}
