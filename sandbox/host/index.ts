// The sandbox proxy-wasm host: Envoy's side of ABI 0.2.0, for tests, the sidecar and benchmarks.
export {
  BufferType,
  Errno,
  LogLevel,
  MapType,
  MetricType,
  ResponseFlag,
  StreamType,
  WasmResult,
} from "./abi.js";
export type { AbiVersion } from "./abi.js";
export type { ClockSource } from "./clock.js";
export { HeaderMap } from "./header-map.js";
export type {
  FailurePolicy,
  HttpStream,
  LocalReplyResult,
  StreamCompletion,
  StreamInfo,
} from "./http-stream.js";
export { HostLoadError, loadHost } from "./host.js";
export type { Exchange, ExchangeResult, HostOptions, LogEntry, ProxyWasmHost } from "./host-api.js";
export { promName } from "./metrics.js";
export { decodePairs, encodePairs, type Headers } from "./pairs.js";
export { readModuleInfo } from "./wasm-binary.js";
