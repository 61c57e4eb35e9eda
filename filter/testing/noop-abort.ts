// The abort of the no-op filter (asconfig.noop.json `use`): AssemblyScript's runtime errors trap
// here instead of importing env.abort, which Envoy does not provide.

export function noopAbort(_message: string | null, _file: string | null, _line: u32, _column: u32): void {
  unreachable();
}
