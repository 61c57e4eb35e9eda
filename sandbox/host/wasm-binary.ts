// Reads the type, import, function and export sections of a wasm binary: the JS API does not
// expose import/export signatures, and Envoy's linker checks them exactly.

/** A wasm value type as written in WAT. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

/** A function signature. */
export interface FuncType {
  params: ValType[];
  results: ValType[];
}

/** Resizable limits of a memory or table. */
export interface Limits {
  min: number;
  max?: number;
}

/** One import with its declared kind and type. */
export type ImportDesc =
  | { module: string; name: string; kind: "function"; type: FuncType }
  | { module: string; name: string; kind: "table"; limits: Limits }
  | { module: string; name: string; kind: "memory"; limits: Limits }
  | { module: string; name: string; kind: "global" }
  | { module: string; name: string; kind: "tag" };

/** One export; functions carry their signature. */
export interface ExportDesc {
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  type?: FuncType;
}

/** What the host needs to know about a module before instantiating it. */
export interface ModuleInfo {
  imports: ImportDesc[];
  exports: ExportDesc[];
}

const VAL_TYPES: Record<number, ValType> = {
  127: "i32",
  126: "i64",
  125: "f32",
  124: "f64",
  123: "v128",
  112: "funcref",
  111: "externref",
};
const EXTERN_KINDS = ["function", "table", "memory", "global", "tag"] as const;

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end: number = bytes.length,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw new Error(`wasm binary truncated at offset ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 28) throw new Error(`bad LEB128 at offset ${this.pos}`);
    }
  }

  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) throw new Error(`wasm name truncated at offset ${this.pos}`);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  valType(): ValType {
    const b = this.byte();
    const t = VAL_TYPES[b];
    if (!t) throw new Error(`unsupported value type 0x${b.toString(16)} at offset ${this.pos - 1}`);
    return t;
  }

  limits(): Limits {
    const flags = this.byte();
    const min = this.u32();
    return flags & 1 ? { min, max: this.u32() } : { min };
  }
}

function readTypes(r: Reader): FuncType[] {
  const types: FuncType[] = [];
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const form = r.byte();
    if (form !== 0x60) throw new Error(`unsupported type form 0x${form.toString(16)} (only func types)`);
    const params = Array.from({ length: r.u32() }, () => r.valType());
    const results = Array.from({ length: r.u32() }, () => r.valType());
    types.push({ params, results });
  }
  return types;
}

function readImports(r: Reader, types: FuncType[], funcTypes: FuncType[]): ImportDesc[] {
  const imports: ImportDesc[] = [];
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const module = r.name();
    const name = r.name();
    const kind = r.byte();
    if (kind === 0) {
      const type = typeAt(types, r.u32());
      funcTypes.push(type);
      imports.push({ module, name, kind: "function", type });
    } else if (kind === 1) {
      r.byte();
      imports.push({ module, name, kind: "table", limits: r.limits() });
    } else if (kind === 2) {
      imports.push({ module, name, kind: "memory", limits: r.limits() });
    } else if (kind === 3) {
      r.valType();
      r.byte();
      imports.push({ module, name, kind: "global" });
    } else if (kind === 4) {
      r.byte();
      r.u32();
      imports.push({ module, name, kind: "tag" });
    } else {
      throw new Error(`unknown import kind ${kind} for ${module}.${name}`);
    }
  }
  return imports;
}

function typeAt(types: FuncType[], index: number): FuncType {
  const t = types[index];
  if (!t) throw new Error(`type index ${index} out of range`);
  return t;
}

function readExports(r: Reader, funcTypes: FuncType[]): ExportDesc[] {
  const exports: ExportDesc[] = [];
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const name = r.name();
    const kindByte = r.byte();
    const index = r.u32();
    const kind = EXTERN_KINDS[kindByte];
    if (!kind) throw new Error(`unknown export kind ${kindByte} for ${name}`);
    exports.push(kind === "function" ? { name, kind, type: funcTypes[index] } : { name, kind });
  }
  return exports;
}

/** Parses the sections the linker needs; throws on a malformed binary. */
export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error("not a wasm binary (bad magic)");
  }
  const r = new Reader(bytes);
  r.pos = 8;
  let types: FuncType[] = [];
  const funcTypes: FuncType[] = [];
  let imports: ImportDesc[] = [];
  let exports: ExportDesc[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    const section = new Reader(bytes, end);
    section.pos = r.pos;
    if (id === 1) types = readTypes(section);
    else if (id === 2) imports = readImports(section, types, funcTypes);
    else if (id === 3) {
      const count = section.u32();
      for (let i = 0; i < count; i++) funcTypes.push(typeAt(types, section.u32()));
    } else if (id === 7) exports = readExports(section, funcTypes);
    r.pos = end;
  }
  return { imports, exports };
}

/** Renders a signature as WAT-like text, for error messages and tests. */
export function formatFuncType(t: FuncType): string {
  return `(${t.params.join(",")})->(${t.results.join(",")})`;
}

/** True when two signatures are identical. */
export function sameFuncType(a: FuncType, b: FuncType): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) &&
    a.results.every((p, i) => p === b.results[i])
  );
}
