/** Shared-secret comparison for the API write token and the telemetry stream token. */
import { createHash, timingSafeEqual } from "node:crypto";

/** Digests have equal length whatever the inputs, so timingSafeEqual never leaks the token length. */
function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/** Whether `presented` equals `expected`, in time independent of where they differ. */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
