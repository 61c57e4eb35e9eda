// A streaming JSON reader with bounded memory: bytes go in one chunk at a time, nothing of the
// document is kept but the path to the current value (key ids and array indexes per level). Keys
// are matched against a small dictionary instead of being allocated; string values can be captured
// (capped) or passed on byte by byte; numbers arrive decoded. Pure AssemblyScript.

import { KeyMatcher, NO_KEY } from "./json-keys";
import { JsonNumber, NUMBER_INVALID, NUMBER_MORE } from "./json-number";

/** Deepest nesting followed; a deeper document sets `overflow` (the reader gives up, not "invalid"). */
export const MAX_DEPTH: i32 = 32;
/** Longest captured string value in bytes; longer values are cut (and `truncated` set). */
export const CAPTURE_BYTES: i32 = 128;

/** What a listener wants done with a string value. */
export const STRING_SKIP: i32 = 0;
export const STRING_CAPTURE: i32 = 1;
export const STRING_STREAM: i32 = 2;

const CONTAINER_OBJECT: u8 = 1;
const CONTAINER_ARRAY: u8 = 2;

// Reader states.
const S_VALUE: i32 = 0; // a value must come
const S_VALUE_OR_CLOSE: i32 = 1; // after '['
const S_KEY_OR_CLOSE: i32 = 2; // after '{'
const S_KEY: i32 = 3; // after ',' in an object
const S_COLON: i32 = 4;
const S_AFTER: i32 = 5; // after a value: ',' or a close (or, at the top, only whitespace)
const S_STRING: i32 = 6;
const S_ESCAPE: i32 = 7;
const S_UNICODE: i32 = 8;
const S_NUMBER: i32 = 9;
const S_LITERAL: i32 = 10;

const LITERAL_TRUE = "true";
const LITERAL_FALSE = "false";
const LITERAL_NULL = "null";

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
  /** A captured or streamed string ended; a capture is in r.captured / r.capturedLength. */
  stringEnd(_r: JsonStream): void {}
  /** A number value at the reader's current path. */
  number(_r: JsonStream, _v: f64): void {}
}

const NO_LISTENER = new JsonListener();

/** One JSON document read incrementally; reset() makes it ready for the next one. */
export class JsonStream {
  listener: JsonListener = NO_LISTENER;
  /** The bytes are not JSON. */
  invalid: bool = false;
  /** Nested deeper than MAX_DEPTH: reading stopped, validity unknown. */
  overflow: bool = false;
  /** One complete top-level value was read. */
  complete: bool = false;
  /** Open containers. */
  depth: i32 = 0;
  /** Bit i set: dictionary key i (i < 64) appeared in the top-level object. */
  topKeys: u64 = 0;
  /** A captured string value (first capturedLength bytes). */
  captured: StaticArray<u8> = new StaticArray<u8>(CAPTURE_BYTES);
  capturedLength: i32 = 0;
  truncated: bool = false;

  private kinds: StaticArray<u8> = new StaticArray<u8>(MAX_DEPTH + 1);
  private keys: StaticArray<i32> = new StaticArray<i32>(MAX_DEPTH + 1);
  private indexes: StaticArray<u32> = new StaticArray<u32>(MAX_DEPTH + 1);
  private state: i32 = S_VALUE;
  private inKey: bool = false;
  private stringMode: i32 = STRING_SKIP;
  private key: KeyMatcher = new KeyMatcher();
  private unicodeLeft: i32 = 0;
  private unicodeValue: u32 = 0;
  private literal: string = "";
  private literalAt: i32 = 0;
  private num: JsonNumber = new JsonNumber();

  /** Sets the keys to recognise (kept until changed). */
  useDictionary(dict: Array<ArrayBuffer>): void {
    this.key.use(dict);
  }

  /** Ready for a new document (the dictionary and listener stay). */
  reset(): void {
    this.invalid = false;
    this.overflow = false;
    this.complete = false;
    this.depth = 0;
    this.topKeys = 0;
    this.capturedLength = 0;
    this.truncated = false;
    this.state = S_VALUE;
    this.inKey = false;
    this.stringMode = STRING_SKIP;
  }

  /** Whether reading has stopped (invalid or too deep). */
  stopped(): bool {
    return this.invalid || this.overflow;
  }

  /** Key id of the slot at level `level` (1 = top container), or NO_KEY. */
  keyAt(level: i32): i32 {
    return level >= 1 && level <= this.depth && this.kinds[level] == CONTAINER_OBJECT ? this.keys[level] : NO_KEY;
  }

  /** Element index of the slot at level `level` when that container is an array, else -1. */
  indexAt(level: i32): i64 {
    return level >= 1 && level <= this.depth && this.kinds[level] == CONTAINER_ARRAY ? <i64>this.indexes[level] : -1;
  }

  /** Whether the captured string equals `b`. */
  capturedEquals(b: ArrayBuffer): bool {
    const n = b.byteLength;
    if (this.truncated || n != this.capturedLength) return false;
    return n == 0 || memory.compare(changetype<usize>(this.captured), changetype<usize>(b), <usize>n) == 0;
  }

  /**
   * Reads `length` bytes at `ptr`. Runs of plain string bytes (most of an LLM answer) are skipped or
   * handed on whole rather than byte by byte.
   */
  feed(ptr: usize, length: usize): void {
    let i: usize = 0;
    while (i < length) {
      if (this.invalid || this.overflow) return;
      if (this.state == S_STRING && this.stringMode != STRING_CAPTURE) {
        const from = i;
        while (i < length) {
          const c = load<u8>(ptr + i);
          if (c == 0x22 || c == 0x5c || c < 0x20) break;
          i++;
        }
        if (i > from) this.plainRun(ptr + from, i - from);
        if (i == length) return;
      }
      this.byte(load<u8>(ptr + i));
      i++;
    }
  }

  /** Reads one byte. */
  byte(c: u8): void {
    const st = this.state;
    if (st == S_STRING) this.stringChar(c);
    else if (st == S_ESCAPE) this.escapeChar(c);
    else if (st == S_UNICODE) this.unicodeChar(c);
    else if (st == S_NUMBER) this.numberChar(c);
    else if (st == S_LITERAL) this.literalChar(c);
    else if (!isSpace(c)) this.structural(c);
  }

  /** Ends the document: a number at the very end is complete only now. */
  finish(): void {
    if (this.state == S_NUMBER && this.depth == 0 && !this.stopped()) this.endNumber();
  }

  private structural(c: u8): void {
    const st = this.state;
    if (st == S_VALUE || st == S_VALUE_OR_CLOSE) {
      if (st == S_VALUE_OR_CLOSE && c == 0x5d) this.close(CONTAINER_ARRAY);
      else this.valueStart(c);
    } else if (st == S_KEY_OR_CLOSE || st == S_KEY) {
      if (c == 0x22) this.startString(true);
      else if (st == S_KEY_OR_CLOSE && c == 0x7d) this.close(CONTAINER_OBJECT);
      else this.invalid = true;
    } else if (st == S_COLON) {
      if (c == 0x3a) this.state = S_VALUE;
      else this.invalid = true;
    } else if (st == S_AFTER) {
      this.afterValue(c);
    }
  }

  private valueStart(c: u8): void {
    if (this.complete) {
      this.invalid = true; // a second top-level value
    } else if (c == 0x7b) {
      this.open(CONTAINER_OBJECT);
    } else if (c == 0x5b) {
      this.open(CONTAINER_ARRAY);
    } else if (c == 0x22) {
      this.startString(false);
    } else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.startNumber(c);
    } else if (c == 0x74) {
      this.startLiteral(LITERAL_TRUE);
    } else if (c == 0x66) {
      this.startLiteral(LITERAL_FALSE);
    } else if (c == 0x6e) {
      this.startLiteral(LITERAL_NULL);
    } else {
      this.invalid = true;
    }
  }

  private afterValue(c: u8): void {
    const d = this.depth;
    if (d == 0) {
      this.invalid = true; // trailing bytes after the document
      return;
    }
    const kind = this.kinds[d];
    if (c == 0x2c) {
      if (kind == CONTAINER_ARRAY) {
        this.indexes[d] = this.indexes[d] + 1;
        this.state = S_VALUE;
      } else {
        this.keys[d] = NO_KEY;
        this.state = S_KEY;
      }
    } else if (c == 0x5d) {
      this.close(CONTAINER_ARRAY);
    } else if (c == 0x7d) {
      this.close(CONTAINER_OBJECT);
    } else {
      this.invalid = true;
    }
  }

  private open(kind: u8): void {
    if (this.depth == MAX_DEPTH) {
      this.overflow = true;
      return;
    }
    const d = ++this.depth;
    this.kinds[d] = kind;
    this.keys[d] = NO_KEY;
    this.indexes[d] = 0;
    this.state = kind == CONTAINER_OBJECT ? S_KEY_OR_CLOSE : S_VALUE_OR_CLOSE;
  }

  private close(kind: u8): void {
    const d = this.depth;
    if (d == 0 || this.kinds[d] != kind) {
      this.invalid = true;
      return;
    }
    this.depth = d - 1;
    this.valueDone();
  }

  /** A value ended: the document is complete at depth 0. */
  private valueDone(): void {
    this.state = S_AFTER;
    if (this.depth == 0) this.complete = true;
  }

  // ---- strings ----

  private startString(isKey: bool): void {
    this.inKey = isKey;
    this.state = S_STRING;
    if (isKey) {
      this.key.clear();
      this.stringMode = STRING_SKIP;
      return;
    }
    this.stringMode = this.listener.stringStart(this);
    if (this.stringMode == STRING_CAPTURE) {
      this.capturedLength = 0;
      this.truncated = false;
    }
  }

  private stringChar(c: u8): void {
    if (c == 0x22) this.endString();
    else if (c == 0x5c) this.state = S_ESCAPE;
    else if (c < 0x20) this.invalid = true;
    else this.stringOut(c);
  }

  private escapeChar(c: u8): void {
    this.state = S_STRING;
    let out: u8 = 0;
    if (c == 0x22 || c == 0x5c || c == 0x2f) out = c;
    else if (c == 0x62) out = 0x08;
    else if (c == 0x66) out = 0x0c;
    else if (c == 0x6e) out = 0x0a;
    else if (c == 0x72) out = 0x0d;
    else if (c == 0x74) out = 0x09;
    else if (c == 0x75) {
      this.state = S_UNICODE;
      this.unicodeLeft = 4;
      this.unicodeValue = 0;
      return;
    } else {
      this.invalid = true;
      return;
    }
    this.stringOut(out);
  }

  private unicodeChar(c: u8): void {
    const h = hexValue(c);
    if (h < 0) {
      this.invalid = true;
      return;
    }
    this.unicodeValue = (this.unicodeValue << 4) | <u32>h;
    if (--this.unicodeLeft > 0) return;
    this.state = S_STRING;
    // Only ASCII matters to the listeners (keys, JSON structure inside content); the rest is a placeholder.
    this.stringOut(this.unicodeValue < 0x80 ? <u8>this.unicodeValue : 0x3f);
  }

  private stringOut(c: u8): void {
    if (this.inKey) {
      this.key.add(c);
      return;
    }
    const mode = this.stringMode;
    if (mode == STRING_CAPTURE) {
      if (this.capturedLength < CAPTURE_BYTES) {
        unchecked((this.captured[this.capturedLength] = c));
        this.capturedLength++;
      } else this.truncated = true;
    } else if (mode == STRING_STREAM) {
      this.listener.stringByte(this, c);
    }
  }

  /** Bytes of a key or a skipped/streamed string that need no decoding. */
  private plainRun(ptr: usize, n: usize): void {
    if (!this.inKey) {
      if (this.stringMode == STRING_STREAM) this.listener.stringRun(this, ptr, n);
      return;
    }
    this.key.addRun(ptr, n);
  }

  private endString(): void {
    if (this.inKey) {
      const id = this.key.lookup();
      const d = this.depth;
      this.keys[d] = id;
      if (d == 1 && id >= 0 && id < 64) this.topKeys |= <u64>1 << <u64>id;
      this.inKey = false;
      this.state = S_COLON;
      return;
    }
    if (this.stringMode != STRING_SKIP) this.listener.stringEnd(this);
    this.stringMode = STRING_SKIP;
    this.valueDone();
  }

  // ---- numbers and literals ----

  private startNumber(c: u8): void {
    this.state = S_NUMBER;
    this.num.start(c);
  }

  private numberChar(c: u8): void {
    const r = this.num.byte(c);
    if (r == NUMBER_MORE) return;
    if (r == NUMBER_INVALID) {
      this.invalid = true;
      return;
    }
    // The number ended at a byte that belongs to the structure.
    if (!this.endNumber()) return;
    this.byte(c);
  }

  /** Delivers the number; false (invalid) when it stopped half-way (e.g. "1." or "-"). */
  private endNumber(): bool {
    if (!this.num.whole()) {
      this.invalid = true;
      return false;
    }
    this.listener.number(this, this.num.value());
    this.valueDone();
    return true;
  }

  private startLiteral(word: string): void {
    this.state = S_LITERAL;
    this.literal = word;
    this.literalAt = 1;
  }

  private literalChar(c: u8): void {
    const word = this.literal;
    if (<u32>c != <u32>word.charCodeAt(this.literalAt)) {
      this.invalid = true;
      return;
    }
    if (++this.literalAt == word.length) this.valueDone();
  }
}

function isSpace(c: u8): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

function hexValue(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
