// A small strict JSON parser (RFC 8259) for the plugin configuration. Errors are values carrying
// the character position; nothing here throws, so bad configuration can never trap the VM.
// Pure AssemblyScript: no host imports.

import { hexValue } from "./hex";

/** The kind of a JSON value. */
export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

/** A parsed JSON value; only the fields of its kind are meaningful. */
export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  /** Elements of an array. */
  items: Array<JsonValue> = [];
  /** Keys of an object, in document order (parallel to items). */
  keys: Array<string> = [];

  /** The member `key` of an object (the last one if repeated), or null. */
  get(key: string): JsonValue | null {
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }

  /** A short description for error messages, e.g. `12000`, `"abc"`, `an object`. */
  describe(): string {
    switch (this.kind) {
      case JsonKind.Null:
        return "null";
      case JsonKind.Bool:
        return this.bool ? "true" : "false";
      case JsonKind.Number:
        return formatNumber(this.num);
      case JsonKind.String:
        return quote(this.str.length > 80 ? this.str.substring(0, 80) + "..." : this.str);
      case JsonKind.Array:
        return "an array";
      default:
        return "an object";
    }
  }
}

/** The result of parsing: a value, or an error message with its position. */
export class JsonResult {
  value: JsonValue | null = null;
  error: string = "";
}

/** Integers print without a fraction; other numbers as AssemblyScript formats f64. */
export function formatNumber(n: f64): string {
  if (Math.floor(n) == n && Math.abs(n) < 9007199254740992) return (<i64>n).toString();
  return n.toString();
}

/** A JSON string literal for `s` (used in messages). */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

/** Maximum nesting depth; deeper input is rejected instead of exhausting the stack. */
const MAX_DEPTH = 64;

class Parser {
  pos: i32 = 0;
  error: string = "";
  constructor(public text: string) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = "invalid JSON at position " + this.pos.toString() + ": " + message;
    return null;
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    this.skipSpace();
    if (this.pos >= this.text.length) return this.fail("unexpected end of input");
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      if (s == null) return null;
      const v = new JsonValue();
      v.kind = JsonKind.String;
      v.str = s;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal("true")) return boolValue(true);
    if (this.literal("false")) return boolValue(false);
    if (this.literal("null")) return new JsonValue();
    return this.fail("unexpected character " + quote(String.fromCharCode(c)));
  }

  literal(word: string): bool {
    if (this.text.substr(this.pos, word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  object(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    this.pos++; // {
    this.skipSpace();
    if (this.peek() == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.skipSpace();
      if (this.peek() != 0x22) return this.fail("expected a string key");
      const key = this.string();
      if (key == null) return null;
      this.skipSpace();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      const item = this.value(depth + 1);
      if (item == null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) {
        this.pos--;
        return this.fail("expected ',' or '}'");
      }
    }
  }

  array(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    this.pos++; // [
    this.skipSpace();
    if (this.peek() == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.value(depth + 1);
      if (item == null) return null;
      v.items.push(item);
      this.skipSpace();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) {
        this.pos--;
        return this.fail("expected ',' or ']'");
      }
    }
  }

  /** Next character code, or -1 at the end. */
  peek(): i32 {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  string(): string | null {
    const t = this.text;
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.pos >= t.length) {
        this.fail("unterminated string");
        return null;
      }
      const c = t.charCodeAt(this.pos);
      if (c == 0x22) {
        out += t.substring(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail("control character in string");
        return null;
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      out += t.substring(runStart, this.pos);
      const escaped = this.escape();
      if (escaped == null) return null;
      out += escaped;
      runStart = this.pos;
    }
  }

  /** Reads one escape sequence starting at the backslash. */
  escape(): string | null {
    const t = this.text;
    this.pos++;
    if (this.pos >= t.length) {
      this.fail("unterminated escape");
      return null;
    }
    const e = t.charCodeAt(this.pos);
    this.pos++;
    if (e == 0x22) return '"';
    if (e == 0x5c) return "\\";
    if (e == 0x2f) return "/";
    if (e == 0x62) return "\b";
    if (e == 0x66) return "\f";
    if (e == 0x6e) return "\n";
    if (e == 0x72) return "\r";
    if (e == 0x74) return "\t";
    if (e != 0x75) {
      this.pos--;
      this.fail("invalid escape " + quote("\\" + String.fromCharCode(e)));
      return null;
    }
    let code: i32 = 0;
    for (let k = 0; k < 4; k++) {
      const d = hexValue(this.peek());
      if (d < 0) {
        this.fail("invalid \\u escape");
        return null;
      }
      code = (code << 4) | d;
      this.pos++;
    }
    return String.fromCharCode(code);
  }

  number(): JsonValue | null {
    const t = this.text;
    const start = this.pos;
    if (this.peek() == 0x2d) this.pos++;
    if (this.peek() == 0x30) {
      this.pos++;
    } else if (isDigit(this.peek())) {
      while (isDigit(this.peek())) this.pos++;
    } else {
      return this.fail("invalid number");
    }
    if (this.peek() == 0x2e) {
      this.pos++;
      if (!isDigit(this.peek())) return this.fail("invalid number: digit expected after '.'");
      while (isDigit(this.peek())) this.pos++;
    }
    if (this.peek() == 0x65 || this.peek() == 0x45) {
      this.pos++;
      if (this.peek() == 0x2b || this.peek() == 0x2d) this.pos++;
      if (!isDigit(this.peek())) return this.fail("invalid number: digit expected in exponent");
      while (isDigit(this.peek())) this.pos++;
    }
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.num = parseFloat(t.substring(start, this.pos));
    return v;
  }
}

function boolValue(b: bool): JsonValue {
  const v = new JsonValue();
  v.kind = JsonKind.Bool;
  v.bool = b;
  return v;
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

/** Parses one JSON document; anything but whitespace after the value is an error. */
export function parseJson(text: string): JsonResult {
  const p = new Parser(text);
  const r = new JsonResult();
  const v = p.value(0);
  if (v != null) {
    p.skipSpace();
    if (p.pos < text.length) p.fail("unexpected data after the value");
    else r.value = v;
  }
  r.error = p.error;
  return r;
}
