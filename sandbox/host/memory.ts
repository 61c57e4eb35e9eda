// Bounds-checked access to a guest's linear memory, and returning values through the guest's
// own allocator (host contract §2): one malloc of exactly the size, nothing for empty values.
import { WasmResult } from "./abi.js";

/** Guest memory views, refreshed when the memory grows (growth detaches the old buffer). */
export class GuestMemory {
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  private dv: DataView;
  /** The same bytes as a Buffer: its UTF-8 decode/encode allocate far less than TextDecoder/TextEncoder. */
  private buf: Buffer;
  /** A shared memory grows without detaching, so only the memory object can tell. */
  private readonly shared: boolean;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly malloc: (size: number) => number,
  ) {
    this.buffer = memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
    this.buf = Buffer.from(this.buffer);
    this.shared = !(this.buffer instanceof ArrayBuffer);
  }

  private refresh(): void {
    // Growth detaches the old buffer (byteLength 0): checking that is cheaper than memory.buffer.
    if ((this.buffer.byteLength === 0 || this.shared) && this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.u8 = new Uint8Array(this.buffer);
      this.dv = new DataView(this.buffer);
      this.buf = Buffer.from(this.buffer);
    }
  }

  /** Current size in bytes. */
  get size(): number {
    this.refresh();
    return this.buffer.byteLength;
  }

  /** True when [ptr, ptr+len) lies inside memory (ptr and len are u32). */
  inBounds(ptr: number, len: number): boolean {
    return (ptr >>> 0) + (len >>> 0) <= this.size;
  }

  /** A view of guest bytes (valid until the next guest call), or undefined when out of bounds. */
  view(ptr: number, len: number): Uint8Array | undefined {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (!this.inBounds(p, n)) return undefined;
    return this.u8.subarray(p, p + n);
  }

  /** Guest bytes decoded as UTF-8, or undefined when out of bounds. */
  string(ptr: number, len: number): string | undefined {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (!this.inBounds(p, n)) return undefined;
    return this.buf.toString("utf8", p, p + n);
  }

  /** Writes a u32 LE; false when out of bounds. */
  writeU32(ptr: number, value: number): boolean {
    if (!this.inBounds(ptr, 4)) return false;
    this.dv.setUint32(ptr >>> 0, value >>> 0, true);
    return true;
  }

  /** Writes a u64 LE; false when out of bounds. */
  writeU64(ptr: number, value: bigint): boolean {
    if (!this.inBounds(ptr, 8)) return false;
    this.dv.setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Copies bytes to a guest address; false when out of bounds. */
  writeBytes(ptr: number, bytes: Uint8Array): boolean {
    if (!this.inBounds(ptr, bytes.length)) return false;
    this.u8.set(bytes, ptr >>> 0);
    return true;
  }

  /**
   * Returns a value to the guest: malloc(size), copy, then write pointer and size.
   * Empty values write ptr=0,size=0 without calling malloc.
   */
  returnBytes(bytes: Uint8Array, ptrOut: number, sizeOut: number): number {
    if (!this.inBounds(ptrOut, 4) || !this.inBounds(sizeOut, 4)) return WasmResult.InvalidMemoryAccess;
    if (bytes.length === 0) {
      this.writeU32(ptrOut, 0);
      this.writeU32(sizeOut, 0);
      return WasmResult.Ok;
    }
    const ptr = this.malloc(bytes.length) >>> 0;
    if (ptr === 0 || !this.writeBytes(ptr, bytes)) return WasmResult.InvalidMemoryAccess;
    if (!this.writeU32(ptrOut, ptr) || !this.writeU32(sizeOut, bytes.length)) {
      return WasmResult.InvalidMemoryAccess;
    }
    return WasmResult.Ok;
  }

  /** returnBytes for a string, UTF-8 encoded straight into the guest's allocation. */
  returnString(s: string, ptrOut: number, sizeOut: number): number {
    if (!this.inBounds(ptrOut, 4) || !this.inBounds(sizeOut, 4)) return WasmResult.InvalidMemoryAccess;
    const n = Buffer.byteLength(s, "utf8");
    if (n === 0) return this.returnBytes(new Uint8Array(0), ptrOut, sizeOut);
    const ptr = this.malloc(n) >>> 0;
    if (ptr === 0 || !this.inBounds(ptr, n)) return WasmResult.InvalidMemoryAccess;
    this.buf.write(s, ptr, n, "utf8");
    if (!this.writeU32(ptrOut, ptr) || !this.writeU32(sizeOut, n)) return WasmResult.InvalidMemoryAccess;
    return WasmResult.Ok;
  }
}
