// Guest memory the host writes returned values into (contract §2): the host calls `malloc` once per
// non-empty value, we read it and free it. Out-parameters go to a fixed static scratch area.
// Nearly every value is read and released before the next host call, so one static slot serves
// them without touching the allocator; a value arriving while the slot is taken (or too big for
// it) goes to the heap as before.

/** Two u32 out-parameters (pointer, size) the host writes into. */
export const OUT_PTR: usize = memory.data(16);
export const OUT_SIZE: usize = OUT_PTR + 4;
/** A third slot for ids/counters (e.g. proxy_define_metric's id). */
export const OUT_ID: usize = OUT_PTR + 8;

/** Size of the static slot for host-returned values (header values, properties, small buffers). */
const SLOT_SIZE: usize = 1024;
const SLOT: usize = memory.data(<i32>SLOT_SIZE, 16);
let slotTaken = false;

/** Allocation for the host; freed by `takeString`/`takeI64`/`release`. Unmanaged (slot or TLSF), not GC'd. */
export function hostMalloc(size: usize): usize {
  if (!slotTaken && size <= SLOT_SIZE) {
    slotTaken = true;
    return SLOT;
  }
  return heap.alloc(size > 0 ? size : 1);
}

/** Frees a host-returned value (0 = nothing was allocated). */
export function release(ptr: usize): void {
  if (ptr == SLOT) slotTaken = false;
  else if (ptr != 0) heap.free(ptr);
}

/** The value the host just returned, decoded as UTF-8, then freed. */
export function takeString(): string {
  const ptr = load<u32>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  if (ptr == 0 || size == 0) {
    release(ptr);
    return "";
  }
  const s = String.UTF8.decodeUnsafe(ptr, size);
  release(ptr);
  return s;
}

/** The value the host just returned as an i64 (8-byte LE property encodings), then freed; `fallback` otherwise. */
export function takeI64(fallback: i64): i64 {
  const ptr = load<u32>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  const v = ptr != 0 && size == 8 ? load<i64>(ptr) : fallback;
  release(ptr);
  return v;
}

/** Clears the out-parameters so a host that writes nothing leaves no stale pointer behind. */
export function resetOut(): void {
  store<u32>(OUT_PTR, 0);
  store<u32>(OUT_SIZE, 0);
}

