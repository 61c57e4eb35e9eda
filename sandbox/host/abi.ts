// Proxy-wasm ABI 0.2.x codes and enums as Envoy uses them (host contract §1.2).

/** proxy_status_t / WasmResult. */
export const WasmResult = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;

/** proxy_log levels. */
export const LogLevel = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, critical: 5 } as const;

/** Header map types. */
export const MapType = {
  RequestHeaders: 0,
  RequestTrailers: 1,
  ResponseHeaders: 2,
  ResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;

/** Buffer types. */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;

/** Stream types for proxy_continue_stream / proxy_close_stream. */
export const StreamType = { Request: 0, Response: 1, Downstream: 2, Upstream: 3 } as const;

/** Metric types for proxy_define_metric (the id's low 2 bits carry the type). */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;

/** WASI errno values Envoy returns. */
export const Errno = {
  Success: 0,
  Badf: 8,
  Inval: 28,
  Noent: 44,
  Nosys: 52,
  Notsup: 58,
  Notcapable: 76,
} as const;

/**
 * Envoy StreamInfo::CoreResponseFlag bit values as exposed by the `response.flags` property
 * (bit i = 1 << enum index in envoy/stream_info/stream_info.h).
 */
export const ResponseFlag = {
  FailedLocalHealthCheck: 0x1, // LH
  NoHealthyUpstream: 0x2, // UH
  UpstreamRequestTimeout: 0x4, // UT
  LocalReset: 0x8, // LR
  UpstreamRemoteReset: 0x10, // UR
  UpstreamConnectionFailure: 0x20, // UF
  UpstreamConnectionTermination: 0x40, // UC
  UpstreamOverflow: 0x80, // UO
  NoRouteFound: 0x100, // NR
  DelayInjected: 0x200, // DI
  FaultInjected: 0x400, // FI
  RateLimited: 0x800, // RL
  UnauthorizedExternalService: 0x1000, // UAEX
  RateLimitServiceError: 0x2000, // RLSE
  DownstreamConnectionTermination: 0x4000, // DC
  UpstreamRetryLimitExceeded: 0x8000, // URX
  StreamIdleTimeout: 0x10000, // SI
  InvalidEnvoyRequestHeaders: 0x20000, // IH
  DownstreamProtocolError: 0x40000, // DPE
  UpstreamMaxStreamDurationReached: 0x80000, // UMSDR
  ResponseFromCacheFilter: 0x100000, // RFCF
  NoFilterConfigFound: 0x200000, // NFCF
  DurationTimeout: 0x400000, // DT
  UpstreamProtocolError: 0x800000, // UPE
  NoClusterFound: 0x1000000, // NC
  OverloadManager: 0x2000000, // OM
  DnsResolutionFailed: 0x4000000, // DF
  DropOverLoad: 0x8000000, // DO
  DownstreamRemoteReset: 0x10000000, // DR
} as const;

/** Supported ABI versions, detected by the exported marker function. */
export type AbiVersion = "0.2.0" | "0.2.1";
