/**
 * Basis points (the filter's 0..10000) to Istio's integer percents summing to 100.
 *
 * Rule: largest remainder, except that every non-zero share gets at least 1%, so a 0.5% canary
 * still exists on the VirtualService fallback path instead of silently vanishing from it. The
 * points that floor costs are taken from the largest shares. A zero share stays 0.
 */
export function percentWeights(basisPoints: readonly number[]): number[] {
  const percents = basisPoints.map((bp) => (bp > 0 ? Math.max(1, Math.floor(bp / 100)) : 0));
  let missing = 100 - sum(percents);
  // Hand out what flooring lost, largest fractional part first (ties: earlier entry first).
  const byRemainder = basisPoints
    .map((bp, i) => ({ i, rem: bp > 0 && bp >= 100 ? bp % 100 : -1 }))
    .filter((e) => e.rem > 0)
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const e of byRemainder) {
    if (missing <= 0) break;
    percents[e.i] += 1;
    missing -= 1;
  }
  // The 1% floor may overshoot: take the excess from the largest shares (ties: later entry first).
  while (missing < 0) {
    let largest = -1;
    for (let i = 0; i < percents.length; i++) {
      if (percents[i] > 1 && (largest < 0 || percents[i] >= percents[largest])) largest = i;
    }
    if (largest < 0) break;
    percents[largest] -= 1;
    missing += 1;
  }
  return percents;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
