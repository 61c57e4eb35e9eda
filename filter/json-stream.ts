// A streaming JSON reader with bounded memory: bytes go in one chunk at a time, nothing of the
// document is kept but the path to the current value (json-path.ts: key ids and array indexes per
// level). Keys are matched against a small dictionary instead of being allocated (json-keys.ts);
// string values can be captured, capped (json-capture.ts), or passed on byte by byte to the
// listener (json-listener.ts); numbers arrive decoded (json-number.ts). Pure AssemblyScript.

import { JsonCapture } from "./json-capture";
import { ESCAPE_INVALID, ESCAPE_UNICODE, escapedByte, unicodeByte } from "./json-escape";
import { KeyMatcher, NO_KEY } from "./json-keys";
import { JsonListener, STRING_CAPTURE, STRING_SKIP, STRING_STREAM } from "./json-listener";
import { JsonNumber, NUMBER_INVALID, NUMBER_MORE } from "./json-number";
import { CONTAINER_ARRAY, CONTAINER_OBJECT, JsonPath, MAX_DEPTH } from "./json-path";
import { hexValue } from "./hex";

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

const NO_LISTENER = new JsonListener();

/** One JSON document read incrementally, along its JsonPath; reset() makes it ready for the next one. */
export class JsonStream extends JsonPath {
  listener: JsonListener = NO_LISTENER;
  /** The bytes are not JSON. */
  invalid: bool = false;
  /** Nested deeper than MAX_DEPTH: reading stopped, validity unknown. */
  overflow: bool = false;
  /** One complete top-level value was read. */
  complete: bool = false;
  /** The last string value the listener asked to capture. */
  captured: JsonCapture = new JsonCapture();

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
    this.captured.clear();
    this.state = S_VALUE;
    this.inKey = false;
    this.stringMode = STRING_SKIP;
  }

  /** Whether reading has stopped (invalid or too deep). */
  stopped(): bool {
    return this.invalid || this.overflow;
  }

  /** Whether the captured string equals `b`. */
  capturedEquals(b: ArrayBuffer): bool {
    return this.captured.equals(b);
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
    if (this.stringMode == STRING_CAPTURE) this.captured.clear();
  }

  private stringChar(c: u8): void {
    if (c == 0x22) this.endString();
    else if (c == 0x5c) this.state = S_ESCAPE;
    else if (c < 0x20) this.invalid = true;
    else this.stringOut(c);
  }

  private escapeChar(c: u8): void {
    this.state = S_STRING;
    const out = escapedByte(c);
    if (out == ESCAPE_UNICODE) {
      this.state = S_UNICODE;
      this.unicodeLeft = 4;
      this.unicodeValue = 0;
    } else if (out == ESCAPE_INVALID) this.invalid = true;
    else this.stringOut(<u8>out);
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
    this.stringOut(unicodeByte(this.unicodeValue));
  }

  private stringOut(c: u8): void {
    if (this.inKey) {
      this.key.add(c);
      return;
    }
    const mode = this.stringMode;
    if (mode == STRING_CAPTURE) this.captured.add(c);
    else if (mode == STRING_STREAM) this.listener.stringByte(this, c);
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
