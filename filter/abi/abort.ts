// The `abort` that asconfig.json `use` routes AssemblyScript's runtime errors to: Envoy has no
// `env.abort`, so log at critical, call proc_exit (which returns under Envoy, contract §11.2),
// then trap so the VM fails visibly (fail-closed) instead of continuing in a broken state.

import { proc_exit, proxy_log } from "./imports";

const CRITICAL: i32 = 5;

export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "meshcanary: abort: " + (message != null ? message : "(no message)");
  if (fileName != null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(CRITICAL, changetype<usize>(bytes), <usize>bytes.byteLength);
  proc_exit(255);
  unreachable();
}
