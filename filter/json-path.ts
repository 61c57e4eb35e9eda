// Where json-stream.ts's reader is in a document: the only part of it the reader keeps, one slot
// per open container (its kind, the current key id or element index) and which dictionary keys the
// top-level object had. Listeners ask it where a value is (keyAt/indexAt); the reader moves it.
// Pure AssemblyScript.

import { NO_KEY } from "./json-keys";

/** Deepest nesting followed; a deeper document sets `overflow` (the reader gives up, not "invalid"). */
export const MAX_DEPTH: i32 = 32;

export const CONTAINER_OBJECT: u8 = 1;
export const CONTAINER_ARRAY: u8 = 2;

/** The open containers down to the current value; level 1 is the top container. */
export class JsonPath {
  /** Open containers. */
  depth: i32 = 0;
  /** Bit i set: dictionary key i (i < 64) appeared in the top-level object. */
  topKeys: u64 = 0;

  // Per level 1..depth; the reader writes them directly (a call per structural byte would cost).
  protected kinds: StaticArray<u8> = new StaticArray<u8>(MAX_DEPTH + 1);
  protected keys: StaticArray<i32> = new StaticArray<i32>(MAX_DEPTH + 1);
  protected indexes: StaticArray<u32> = new StaticArray<u32>(MAX_DEPTH + 1);

  /** Key id of the slot at level `level` (1 = top container), or NO_KEY. */
  keyAt(level: i32): i32 {
    return level >= 1 && level <= this.depth && this.kinds[level] == CONTAINER_OBJECT ? this.keys[level] : NO_KEY;
  }

  /** Element index of the slot at level `level` when that container is an array, else -1. */
  indexAt(level: i32): i64 {
    return level >= 1 && level <= this.depth && this.kinds[level] == CONTAINER_ARRAY ? <i64>this.indexes[level] : -1;
  }
}
