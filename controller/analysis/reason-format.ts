/** How a condition's figures read in its reason. */

/** An e-value, short. */
export function fmtE(e: number): string {
  return e >= 1000 ? e.toExponential(1) : e.toPrecision(3);
}

/** A share as a percentage, three digits. */
export function pct(p: number): string {
  return `${(100 * p).toPrecision(3)}%`;
}
