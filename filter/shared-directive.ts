// The latest accepted Directive in shared data (`meshcanary.directive`): u64 LE version, then the
// Directive's protobuf bytes. The lease holder stores it; every worker picks it up on its tick.
// Its version is also kept alone (`meshcanary.directive.version`, 8 bytes), so a check for a newer
// table copies 8 bytes out of shared data, never the whole table; and an empty marker
// (`meshcanary.directive.changed`) is rewritten after every store, so the per-request check reads
// only the marker's cas: an empty value makes the host call no malloc into the VM.

import { CAS_MISMATCH, NOT_FOUND, OK, getShared, setShared } from "./host-io";

/** Shared-data key of the latest Directive. */
export const DIRECTIVE_KEY = "meshcanary.directive";
/** Shared-data key of the stored Directive's version alone (u64 LE), written after the Directive. */
export const DIRECTIVE_VERSION_KEY = "meshcanary.directive.version";
/** Shared-data key of the empty change marker, rewritten (new cas) after each stored Directive. */
export const DIRECTIVE_CHANGED_KEY = "meshcanary.directive.changed";
const MAX_CAS_ATTEMPTS = 8;

/** Version stored in a directive value (0 when too short). */
export function storedVersion(value: ArrayBuffer): u64 {
  return value.byteLength >= 8 ? load<u64>(changetype<usize>(value)) : 0;
}

/** The Directive bytes of a stored value. */
export function storedBytes(value: ArrayBuffer): ArrayBuffer {
  return value.byteLength >= 8 ? value.slice(8) : new ArrayBuffer(0);
}

/** Stores a Directive unless the stored one is at least as new. Returns whether it was written. */
export function storeDirective(version: u64, bytes: ArrayBuffer): bool {
  const value = new ArrayBuffer(bytes.byteLength + 8);
  store<u64>(changetype<usize>(value), version);
  memory.copy(changetype<usize>(value) + 8, changetype<usize>(bytes), <usize>bytes.byteLength);
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const cur = getShared(DIRECTIVE_KEY);
    if (cur.result != OK && cur.result != NOT_FOUND) return false;
    if (cur.result == OK && storedVersion(cur.value) >= version) return false;
    const res = setShared(DIRECTIVE_KEY, value, cur.cas);
    if (res == OK) {
      raiseVersion(version);
      setShared(DIRECTIVE_CHANGED_KEY, new ArrayBuffer(0), 0);
      return true;
    }
    if (res != CAS_MISMATCH) return false;
  }
  return false;
}

/** Sets the version key to `version` unless it already holds a newer one (two storers may race). */
function raiseVersion(version: u64): void {
  const value = new ArrayBuffer(8);
  store<u64>(changetype<usize>(value), version);
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const cur = getShared(DIRECTIVE_VERSION_KEY);
    if (cur.result != OK && cur.result != NOT_FOUND) return;
    if (cur.result == OK && storedVersion(cur.value) >= version) return;
    if (setShared(DIRECTIVE_VERSION_KEY, value, cur.cas) != CAS_MISMATCH) return;
  }
}
