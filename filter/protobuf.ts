// Minimal protobuf wire-format writer and reader for the filter (proto3, the subset
// telemetry.proto uses). Pure AssemblyScript: no host imports, no exceptions.
// The reader never traps on bad input: every read is bounds-checked and a failure sets
// `error` (the first one wins) and returns a zero value; callers check `failed()`.

export const WIRE_VARINT: u32 = 0;
export const WIRE_FIXED64: u32 = 1;
export const WIRE_LEN: u32 = 2;
export const WIRE_FIXED32: u32 = 5;

/** Deepest message nesting the reader accepts (the schema needs 4). */
export const MAX_DEPTH: i32 = 16;
/** Most elements the reader accepts in one repeated field (absurd-count guard). */
export const MAX_REPEATED: i32 = 65536;

/** Growable byte buffer; nested messages are length-prefixed by shifting their body on close. */
export class Writer {
  private buf: usize = 0;
  private cap: i32 = 0;
  private len: i32 = 0;
  private starts: Array<i32> = new Array<i32>();

  constructor(initialCapacity: i32 = 256) {
    this.cap = initialCapacity > 16 ? initialCapacity : 16;
    this.buf = heap.alloc(<usize>this.cap);
  }

  private ensure(extra: i32): void {
    const need = this.len + extra;
    if (need <= this.cap) return;
    let cap = this.cap * 2;
    while (cap < need) cap *= 2;
    this.buf = heap.realloc(this.buf, <usize>cap);
    this.cap = cap;
  }

  private byte(b: u32): void {
    store<u8>(this.buf + <usize>this.len, <u8>b);
    this.len++;
  }

  varint(v: u64): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.byte(<u32>(v & 0x7f) | 0x80);
      v >>= 7;
    }
    this.byte(<u32>v);
  }

  tag(field: u32, wire: u32): void {
    this.varint(<u64>((field << 3) | wire));
  }

  /** uint64/uint32/int64/bool field; zero is the proto3 default and is omitted. */
  uint64Field(field: u32, v: u64): void {
    if (v == 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  int64Field(field: u32, v: i64): void {
    this.uint64Field(field, <u64>v);
  }

  boolField(field: u32, v: bool): void {
    this.uint64Field(field, v ? 1 : 0);
  }

  fixed64(v: u64): void {
    this.ensure(8);
    store<u64>(this.buf + <usize>this.len, v);
    this.len += 8;
  }

  doubleField(field: u32, v: f64): void {
    if (v == 0 && 1 / v > 0) return;
    this.tag(field, WIRE_FIXED64);
    this.fixed64(reinterpret<u64>(v));
  }

  /** A string as a length-delimited field; the empty string is omitted. */
  stringField(field: u32, s: string): void {
    if (s.length == 0) return;
    this.stringAlways(field, s);
  }

  /** A string even when empty (map keys, repeated strings). */
  stringAlways(field: u32, s: string): void {
    const n = String.UTF8.byteLength(s, false);
    this.tag(field, WIRE_LEN);
    this.varint(<u64>n);
    this.ensure(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.buf + <usize>this.len, false);
    this.len += n;
  }

  /** Opens a nested message (or packed run) for `field`; close it with `end()`. */
  begin(field: u32): void {
    this.tag(field, WIRE_LEN);
    this.starts.push(this.len);
  }

  /** Closes the innermost `begin`, inserting the body length before the body. */
  end(): void {
    const start = this.starts.pop();
    const bodyLen = this.len - start;
    const n = varintSize(<u64>bodyLen);
    this.ensure(n);
    const at = this.buf + <usize>start;
    memory.copy(at + <usize>n, at, <usize>bodyLen);
    let v = <u32>bodyLen;
    for (let i = 0; i < n; i++) {
      store<u8>(at + <usize>i, <u8>(i == n - 1 ? v : (v & 0x7f) | 0x80));
      v >>= 7;
    }
    this.len += n;
  }

  /** Packed repeated sint32 (zigzag); empty is omitted. */
  packedSint32(field: u32, values: Array<i32>): void {
    if (values.length == 0) return;
    this.begin(field);
    for (let i = 0; i < values.length; i++) {
      const v = unchecked(values[i]);
      this.varint(<u64>(<u32>((v << 1) ^ (v >> 31))));
    }
    this.end();
  }

  /** Packed repeated uint64; empty is omitted. */
  packedUint64(field: u32, values: Array<u64>): void {
    if (values.length == 0) return;
    this.begin(field);
    for (let i = 0; i < values.length; i++) this.varint(unchecked(values[i]));
    this.end();
  }

  /** Packed repeated uint32; empty is omitted. */
  packedUint32(field: u32, values: Array<u32>): void {
    if (values.length == 0) return;
    this.begin(field);
    for (let i = 0; i < values.length; i++) this.varint(<u64>unchecked(values[i]));
    this.end();
  }

  /** The bytes written so far, as a fresh buffer. */
  finish(): ArrayBuffer {
    const out = new ArrayBuffer(this.len);
    memory.copy(changetype<usize>(out), this.buf, <usize>this.len);
    return out;
  }

  /** Frees the scratch buffer; the writer must not be used afterwards. */
  dispose(): void {
    heap.free(this.buf);
    this.buf = 0;
    this.cap = 0;
    this.len = 0;
  }
}

export function varintSize(v: u64): i32 {
  let n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/** Bounds-checked reader over [pos, end) of a buffer. */
export class Reader {
  pos: usize;
  end: usize;
  depth: i32 = 0;
  /** First error met, "" when none. */
  error: string = "";
  /** Field number and wire type of the last `next()`. */
  field: u32 = 0;
  wire: u32 = 0;

  constructor(buf: ArrayBuffer) {
    this.pos = changetype<usize>(buf);
    this.end = this.pos + <usize>buf.byteLength;
  }

  failed(): bool {
    return this.error.length > 0;
  }

  fail(msg: string): void {
    if (this.error.length == 0) this.error = msg;
    this.pos = this.end;
  }

  /** Reads the next tag; false at the end of the current message or on error. */
  next(): bool {
    if (this.failed() || this.pos >= this.end) return false;
    const t = this.varint();
    if (this.failed()) return false;
    this.field = <u32>(t >> 3);
    this.wire = <u32>(t & 7);
    if (this.field == 0 || t >> 32 != 0) {
      this.fail("invalid field number");
      return false;
    }
    return true;
  }

  varint(): u64 {
    let v: u64 = 0;
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) {
        this.fail("truncated varint");
        return 0;
      }
      const b = <u64>load<u8>(this.pos);
      this.pos++;
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    this.fail("varint longer than 10 bytes");
    return 0;
  }

  fixed64(): u64 {
    if (this.end - this.pos < 8) {
      this.fail("truncated fixed64");
      return 0;
    }
    const v = load<u64>(this.pos);
    this.pos += 8;
    return v;
  }

  /** Length prefix of a length-delimited field, checked against the remaining bytes. */
  length(): usize {
    const n = this.varint();
    if (this.failed()) return 0;
    if (n > <u64>(this.end - this.pos)) {
      this.fail("length past the end of the message");
      return 0;
    }
    return <usize>n;
  }

  string(): string {
    const n = this.length();
    if (this.failed()) return "";
    const s = String.UTF8.decodeUnsafe(this.pos, n, false);
    this.pos += n;
    return s;
  }

  /** Enters a nested message; returns the outer end to pass to `leave`, or 0 on error. */
  enter(): usize {
    const n = this.length();
    if (this.failed()) return 0;
    if (this.depth >= MAX_DEPTH) {
      this.fail("messages nested too deeply");
      return 0;
    }
    this.depth++;
    const outer = this.end;
    this.end = this.pos + n;
    return outer;
  }

  leave(outer: usize): void {
    if (this.failed()) return;
    this.depth--;
    this.pos = this.end;
    this.end = outer;
  }

  /** Skips the value of the current field by its wire type. */
  skip(): void {
    const w = this.wire;
    if (w == WIRE_VARINT) {
      this.varint();
    } else if (w == WIRE_FIXED64) {
      this.fixed64();
    } else if (w == WIRE_LEN) {
      const n = this.length();
      this.pos += n;
    } else if (w == WIRE_FIXED32) {
      if (this.end - this.pos < 4) this.fail("truncated fixed32");
      else this.pos += 4;
    } else {
      this.fail("unsupported wire type " + w.toString());
    }
  }

  /** True when the current field has `want` wire type; otherwise records an error. */
  expect(want: u32): bool {
    if (this.wire == want) return true;
    this.fail("field " + this.field.toString() + ": wrong wire type " + this.wire.toString());
    return false;
  }

  uint64(): u64 {
    return this.expect(WIRE_VARINT) ? this.varint() : 0;
  }

  uint32(): u32 {
    return <u32>this.uint64();
  }

  bool(): bool {
    return this.uint64() != 0;
  }

  double(): f64 {
    return this.expect(WIRE_FIXED64) ? reinterpret<f64>(this.fixed64()) : 0;
  }

  str(): string {
    return this.expect(WIRE_LEN) ? this.string() : "";
  }

  /** Guards a repeated field against absurd element counts. */
  room(current: i32): bool {
    if (current < MAX_REPEATED) return true;
    this.fail("field " + this.field.toString() + ": more than " + MAX_REPEATED.toString() + " elements");
    return false;
  }

  /** Repeated sint32, packed or not, appended to `out`. */
  repeatedSint32(out: Array<i32>): void {
    this.repeatedVarint<i32>(out, true);
  }

  /** Repeated uint64, packed or not, appended to `out`. */
  repeatedUint64(out: Array<u64>): void {
    this.repeatedVarint<u64>(out, false);
  }

  /** Repeated uint32, packed or not, appended to `out`. */
  repeatedUint32(out: Array<u32>): void {
    this.repeatedVarint<u32>(out, false);
  }

  /** One repeated varint field, packed (one length-delimited run) or not (one element per tag). */
  private repeatedVarint<T>(out: Array<T>, zigzag: bool): void {
    if (this.wire == WIRE_VARINT) {
      if (this.room(out.length)) out.push(this.varintAs<T>(zigzag));
      return;
    }
    if (!this.expect(WIRE_LEN)) return;
    const n = this.length();
    const stop = this.pos + n;
    const outer = this.end;
    this.end = stop;
    while (!this.failed() && this.pos < stop) {
      if (!this.room(out.length)) break;
      out.push(this.varintAs<T>(zigzag));
    }
    if (!this.failed()) this.end = outer;
  }

  private varintAs<T>(zigzag: bool): T {
    const v = this.varint();
    return zigzag ? <T>zigzag32(v) : <T>v;
  }
}

function zigzag32(v: u64): i32 {
  const u = <u32>v;
  return <i32>(u >>> 1) ^ -(<i32>(u & 1));
}
