/**
 * What the Envoy benchmarks read about a process from /proc: CPU time of all its threads, resident
 * memory, and the size of each Wasm VM's linear memory. Envoy has no statistic for the latter (its
 * wasm.* stats count VMs, nothing more), but V8 reserves every Wasm memory as one 8 GiB region (plus
 * guard) and makes only the current pages accessible, so in /proc/<pid>/smaps each memory is a
 * read-write mapping directly followed by the inaccessible rest of its reservation.
 */
import { readFileSync } from "node:fs";

/** CPU time (user + system, all threads) and resident memory of a process. */
export interface ProcSample {
  cpuUs: number;
  rssBytes: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every mainstream Linux build). */
const CLK_TCK = 100;

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name (which may contain spaces); utime/stime are 14/15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!rss || !Number.isFinite(ticks)) throw new Error(`/proc/${pid}: no utime/stime or VmRSS`);
  return { cpuUs: (ticks * 1e6) / CLK_TCK, rssBytes: Number(rss[1]) * 1024 };
}

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
}

/** The address ranges and permissions of an smaps/maps text. */
export function parseMappings(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const m of text.matchAll(/^([0-9a-f]+)-([0-9a-f]+) (\S{4}) /gm)) {
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3] });
  }
  return out;
}

const GIB = 2n ** 30n;

/**
 * Byte size of each Wasm linear memory in a maps text: a read-write mapping directly followed by an
 * inaccessible one, the two spanning a whole number of GiB, at least 4 (V8 on x64: 8 GiB each).
 */
export function wasmMemories(text: string): number[] {
  const maps = parseMappings(text);
  const out: number[] = [];
  for (let i = 1; i < maps.length; i++) {
    const rest = maps[i];
    const used = maps[i - 1];
    const span = rest.end - used.start;
    if (rest.perms !== "---p" || used.perms !== "rw-p" || used.end !== rest.start) continue;
    if (span >= 4n * GIB && span % GIB === 0n) out.push(Number(used.end - used.start));
  }
  return out;
}

/** The Wasm linear memories of a running process (an empty list when it has none). */
export function processWasmMemories(pid: number): number[] {
  return wasmMemories(readFileSync(`/proc/${pid}/maps`, "utf8"));
}
