// Reconnect delays for the controller stream: exponential with "equal jitter" (half fixed, half
// random), so a controller restart is not met by every proxy at the same instant. Pure.

/** First retry delay. */
export const BACKOFF_BASE_MS: u32 = 250;
/** Cap of the delay. */
export const BACKOFF_MAX_MS: u32 = 30000;

/** Delay before retry number `attempt` (0-based) given 32 random bits: in [cap/2, cap), cap = min(max, base·2^attempt). */
export function backoffDelayMs(attempt: u32, randomBits: u32): u32 {
  let cap: u64 = <u64>BACKOFF_BASE_MS;
  for (let i: u32 = 0; i < attempt && cap < <u64>BACKOFF_MAX_MS; i++) cap <<= 1;
  if (cap > <u64>BACKOFF_MAX_MS) cap = <u64>BACKOFF_MAX_MS;
  const half = cap >> 1;
  return <u32>(half + ((<u64>randomBits * half) >> 32));
}
