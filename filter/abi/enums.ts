// proxy-wasm ABI 0.2.0 enum values the filter passes to host calls (host contract §1.2), defined
// once so the request path, the on_log tally, the LLM scan and the reporter cannot disagree about a
// map or buffer.

/** Header map of the request being routed. */
export const REQUEST_HEADERS: i32 = 0;
/** Header map of the response (read-only in on_log, contract §3.2). */
export const RESPONSE_HEADERS: i32 = 2;
/** Buffer of the response body chunk passed to on_response_body. */
export const HTTP_RESPONSE_BODY: i32 = 1;
/** Buffer of a gRPC message passed to on_grpc_receive. */
export const GRPC_RECEIVE_BUFFER: i32 = 5;
/** Buffer of the plugin configuration, readable in on_configure. */
export const PLUGIN_CONFIGURATION: i32 = 7;
/** Metric type of a counter. */
export const METRIC_COUNTER: i32 = 0;
