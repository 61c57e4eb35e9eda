// A string value json-stream.ts's reader was asked to capture (a model name, a guardrail field):
// its first CAPTURE_BYTES bytes in a fixed buffer, compared in place with what the listener looks
// for, so no value is ever allocated. Pure AssemblyScript.

/** Longest captured string value in bytes; longer values are cut (and `truncated` set). */
export const CAPTURE_BYTES: i32 = 128;

/** The value being or last captured. */
export class JsonCapture {
  private bytes: StaticArray<u8> = new StaticArray<u8>(CAPTURE_BYTES);
  private length: i32 = 0;
  /** The value was longer than CAPTURE_BYTES. */
  truncated: bool = false;

  /** A new value starts. */
  clear(): void {
    this.length = 0;
    this.truncated = false;
  }

  /** One decoded byte of the value. */
  add(c: u8): void {
    if (this.length < CAPTURE_BYTES) {
      unchecked((this.bytes[this.length] = c));
      this.length++;
    } else this.truncated = true;
  }

  /** Whether the whole value equals `b` (a cut value equals nothing). */
  equals(b: ArrayBuffer): bool {
    const n = b.byteLength;
    if (this.truncated || n != this.length) return false;
    return n == 0 || memory.compare(changetype<usize>(this.bytes), changetype<usize>(b), <usize>n) == 0;
  }
}
