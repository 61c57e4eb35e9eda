/**
 * A minimal ustar writer and reader: regular files and directories only, fixed owner and mtime,
 * so that the same entries always produce the same bytes (OCI digests must be reproducible).
 */

/** One tar member; a directory has no data and a name ending in "/". */
export interface TarEntry {
  /** Path inside the archive (≤ 100 bytes, no prefix field used). */
  name: string;
  /** File contents; undefined for a directory. */
  data?: Uint8Array;
}

const BLOCK = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function writeField(header: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > length) {
    throw new Error(`tar: field at ${offset} too long: ${JSON.stringify(text)}`);
  }
  header.set(bytes, offset);
}

/** Octal number padded to `length - 1` digits plus a NUL, as ustar numeric fields are. */
function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, "0") + "\0";
}

function header(entry: TarEntry): Uint8Array {
  const isDir = entry.data === undefined;
  if (encoder.encode(entry.name).length > 100) {
    throw new Error(`tar: name longer than 100 bytes: ${entry.name}`);
  }
  const h = new Uint8Array(BLOCK);
  writeField(h, 0, 100, entry.name);
  writeField(h, 100, 8, octal(isDir ? 0o755 : 0o644, 8));
  writeField(h, 108, 8, octal(0, 8)); // uid
  writeField(h, 116, 8, octal(0, 8)); // gid
  writeField(h, 124, 12, octal(entry.data?.length ?? 0, 12));
  writeField(h, 136, 12, octal(0, 12)); // mtime: epoch, for reproducible digests
  writeField(h, 148, 8, "        "); // checksum is computed with this field as spaces
  writeField(h, 156, 1, isDir ? "5" : "0");
  writeField(h, 257, 6, "ustar\0");
  writeField(h, 263, 2, "00");
  let sum = 0;
  for (const byte of h) sum += byte;
  writeField(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Serialises `entries` in the given order, ending with the two zero blocks tar requires. */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  let total = 2 * BLOCK;
  for (const e of entries) total += BLOCK + (e.data?.length ?? 0) + padding(e.data?.length ?? 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    out.set(header(e), at);
    at += BLOCK;
    if (e.data !== undefined) {
      out.set(e.data, at);
      at += e.data.length + padding(e.data.length);
    }
  }
  return out;
}

function readString(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end === -1 ? field : field.subarray(0, end));
}

function readOctal(block: Uint8Array, offset: number, length: number): number {
  const text = readString(block, offset, length).trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

function checksumOk(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === readOctal(block, 148, 8);
}

/** Parses a ustar archive written by `writeTar` (or any plain ustar of files and directories). */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  while (at + BLOCK <= bytes.length) {
    const block = bytes.subarray(at, at + BLOCK);
    if (block.every((b) => b === 0)) return entries;
    if (!checksumOk(block)) throw new Error(`tar: bad header checksum at offset ${at}`);
    const name = readString(block, 0, 100);
    const type = readString(block, 156, 1);
    const size = readOctal(block, 124, 12);
    at += BLOCK;
    if (type === "5") {
      entries.push({ name });
    } else if (type === "0" || type === "") {
      if (at + size > bytes.length) throw new Error(`tar: ${name} truncated`);
      entries.push({ name, data: bytes.slice(at, at + size) });
    } else {
      throw new Error(`tar: unsupported entry type ${JSON.stringify(type)} for ${name}`);
    }
    at += size + padding(size);
  }
  throw new Error("tar: missing end-of-archive blocks");
}
