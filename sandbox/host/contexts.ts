// Root and stream context state held by one VM instance.
import type { HeaderMap } from "./header-map.js";
import type { Headers } from "./pairs.js";

/** Which guest callback a stream is inside (drives header/property availability). */
export type Phase =
  | "idle"
  | "request_headers"
  | "request_body"
  | "request_trailers"
  | "response_headers"
  | "response_body"
  | "response_trailers"
  | "log"
  | "done";

/** A reply the filter asked for with proxy_send_local_response. */
export interface LocalReply {
  status: number;
  details: string;
  body: Uint8Array;
  headers: Headers;
  grpcStatus?: number;
}

/** Per-stream facts Envoy's StreamInfo would hold. */
export interface StreamFacts {
  protocol: string;
  sourceAddress: string;
  destinationAddress: string;
  startRealtimeNs: bigint;
  startMonotonicNs: bigint;
  durationNs?: bigint;
  responseCode?: number;
  codeDetails?: string;
  responseFlags: number;
  requestBodyBytes: number;
  responseBodyBytes: number;
  upstreamAddress?: string;
  clusterName?: string;
  routeName?: string;
  complete: boolean;
}

/** A stream (HTTP request) context. */
export interface StreamContext {
  kind: "stream";
  id: number;
  rootId: number;
  phase: Phase;
  requestHeaders: HeaderMap;
  /** Envoy still holds the request headers (inside on_request_headers or paused there). */
  requestHeadersHeld: boolean;
  responseHeaders?: HeaderMap;
  responseHeadersHeld: boolean;
  requestTrailers?: HeaderMap;
  responseTrailers?: HeaderMap;
  requestBody: Uint8Array;
  responseBody: Uint8Array;
  facts: StreamFacts;
  /** Filter state written by proxy_set_property, keyed by the raw path. */
  filterState: Map<string, Uint8Array>;
  localReply?: LocalReply;
  continueRequested: boolean;
  closeRequested: boolean;
}

/** Status of the last http/gRPC callout, read by proxy_get_status. */
export interface CalloutStatus {
  code: number;
  message: string;
}

/** A root (plugin) context. */
export interface RootContext {
  kind: "root";
  id: number;
  pluginConfig: Uint8Array;
  /** Inside on_vm_start/on_configure: PLUGIN_CONFIGURATION is readable. */
  configuring: boolean;
  /** on_done returned 0; waiting for proxy_done. */
  pendingDone: boolean;
  status: CalloutStatus;
}

export type Context = RootContext | StreamContext;
