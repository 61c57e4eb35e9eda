// A JSON number decoded one byte at a time, for json-stream.ts's reader: the grammar position and
// the value so far, nothing else. Pure AssemblyScript.

// Number grammar positions.
const N_SIGN: i32 = 0; // after '-'
const N_ZERO: i32 = 1; // a leading 0
const N_INT: i32 = 2;
const N_DOT: i32 = 3;
const N_FRAC: i32 = 4;
const N_E: i32 = 5;
const N_ESIGN: i32 = 6;
const N_EXP: i32 = 7;

/** The byte belongs to the number. */
export const NUMBER_MORE: i32 = 0;
/** The byte cannot follow (a digit after a leading 0): the document is not JSON. */
export const NUMBER_INVALID: i32 = 1;
/** The number ended before the byte, which belongs to the structure around it. */
export const NUMBER_ENDED: i32 = 2;

/** One number being read; start() begins the next. */
export class JsonNumber {
  private state: i32 = N_INT;
  private mantissa: f64 = 0;
  private fractionScale: f64 = 1;
  private exponent: i32 = 0;
  private negative: bool = false;
  private expNegative: bool = false;

  /** Begins a number at its first byte ('-' or a digit). */
  start(c: u8): void {
    this.mantissa = 0;
    this.fractionScale = 1;
    this.exponent = 0;
    this.expNegative = false;
    this.negative = c == 0x2d;
    if (c == 0x2d) this.state = N_SIGN;
    else if (c == 0x30) this.state = N_ZERO;
    else {
      this.state = N_INT;
      this.mantissa = <f64>(c - 0x30);
    }
  }

  /** Reads the next byte: NUMBER_MORE, NUMBER_INVALID or NUMBER_ENDED. */
  byte(c: u8): i32 {
    const ns = this.state;
    const digit = c >= 0x30 && c <= 0x39;
    const d = <f64>(c - 0x30);
    if (digit) {
      if (ns == N_SIGN) {
        this.state = c == 0x30 ? N_ZERO : N_INT;
        this.mantissa = d;
      } else if (ns == N_INT) this.mantissa = this.mantissa * 10 + d;
      else if (ns == N_DOT || ns == N_FRAC) {
        this.state = N_FRAC;
        this.fractionScale /= 10;
        this.mantissa += d * this.fractionScale;
      } else if (ns == N_E || ns == N_ESIGN || ns == N_EXP) {
        this.state = N_EXP;
        if (this.exponent < 10000) this.exponent = this.exponent * 10 + <i32>(c - 0x30);
      } else return NUMBER_INVALID; // a digit after a leading 0
      return NUMBER_MORE;
    }
    if (c == 0x2e && (ns == N_ZERO || ns == N_INT)) this.state = N_DOT;
    else if ((c == 0x65 || c == 0x45) && (ns == N_ZERO || ns == N_INT || ns == N_FRAC)) this.state = N_E;
    else if ((c == 0x2b || c == 0x2d) && ns == N_E) {
      this.state = N_ESIGN;
      this.expNegative = c == 0x2d;
    } else return NUMBER_ENDED;
    return NUMBER_MORE;
  }

  /** Whether the bytes so far are a whole number (not "1.", "-" or "1e"). */
  whole(): bool {
    const ns = this.state;
    return !(ns == N_SIGN || ns == N_DOT || ns == N_E || ns == N_ESIGN);
  }

  /** The value read. */
  value(): f64 {
    let v = this.mantissa;
    if (this.exponent != 0) v *= Math.pow(10, <f64>(this.expNegative ? -this.exponent : this.exponent));
    return this.negative ? -v : v;
  }
}
