// How a callout's answer reaches the guest: a gRPC stream's metadata, messages and close, and an
// HTTP call's response, each delivered to the root context that made the call, with the maps and
// buffer the guest may read only during that callback (types 4–7). Separate from the VM because it
// is the ABI's callback contract for callouts; the VM only queues the delivery.
import type { GrpcEvent } from "./grpc.js";
import { HeaderMap } from "./header-map.js";
import type { HttpCallResult } from "./http-call.js";
import type { Vm } from "./vm.js";

/** Delivers one gRPC event to its root context (ignored when the root is gone). */
export function deliverGrpcEvent(vm: Vm, rootId: number, ev: GrpcEvent): void {
  const root = vm.contexts.get(rootId);
  if (root?.kind !== "root") return;
  if (ev.kind === "initial_metadata" || ev.kind === "trailing_metadata") {
    const type = ev.kind === "initial_metadata" ? 4 : 5;
    vm.calloutMaps[type] = mapOf(ev.metadata);
    const name =
      type === 4 ? "proxy_on_grpc_receive_initial_metadata" : "proxy_on_grpc_receive_trailing_metadata";
    vm.invoke(name, rootId, ev.token, ev.metadata.length);
    vm.calloutMaps[type] = undefined;
  } else if (ev.kind === "message") {
    vm.calloutBuffer = { type: 5, bytes: ev.message };
    vm.invoke("proxy_on_grpc_receive", rootId, ev.token, ev.message.length);
    vm.calloutBuffer = undefined;
  } else {
    root.status = { code: ev.status, message: ev.message };
    vm.invoke("proxy_on_grpc_close", rootId, ev.token, ev.status);
  }
}

/** Delivers an HTTP call's response to its root context (ignored when the root is gone). */
export function deliverHttpCallResult(vm: Vm, rootId: number, res: HttpCallResult): void {
  const root = vm.contexts.get(rootId);
  if (root?.kind !== "root") return;
  vm.calloutMaps[6] = mapOf(res.headers);
  vm.calloutMaps[7] = mapOf(res.trailers);
  vm.calloutBuffer = { type: 4, bytes: res.body };
  root.status = { code: 0, message: "" };
  vm.invoke(
    "proxy_on_http_call_response",
    rootId,
    res.token,
    res.headers.length,
    res.body.length,
    res.trailers.length,
  );
  vm.calloutMaps[6] = undefined;
  vm.calloutMaps[7] = undefined;
  vm.calloutBuffer = undefined;
}

function mapOf(pairs: Array<[string, string]>): HeaderMap {
  return new HeaderMap(pairs.map(([k, v]) => [k, v]));
}
