// The filter module's entry: exports the proxy-wasm ABI 0.2.0 callbacks. The abort replacement
// (asconfig.json `use`) is imported so it is part of the program.

import "./abi/abort";

export * from "./abi/exports";
