/** A raw Connect client for the telemetry tests: Reports (or arbitrary bytes) out, Directives in. */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  type Directive,
  DirectiveSchema,
  type Report,
  ReportSchema,
} from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import { CONNECT_PATH, TOKEN_METADATA } from "../../controller/telemetry/server.js";
import type { TelemetryReader } from "../../controller/telemetry/types.js";

export interface RawConn {
  stream: grpc.ClientDuplexStream<Buffer, Directive>;
  directives: Directive[];
  /** The stream's end; rejects after statusLimitMs so a stream the server never ends fails the test. */
  status: Promise<grpc.StatusObject>;
  send(r: Report | Uint8Array): void;
}

/** Opens one Connect stream, with `token` in the metadata unless null, plus any `extra` metadata. */
export function connectRaw(
  client: grpc.Client,
  token: string | null,
  statusLimitMs: number,
  extra: Record<string, string> = {},
): RawConn {
  const md = new grpc.Metadata();
  if (token !== null) md.set(TOKEN_METADATA, token);
  for (const [k, v] of Object.entries(extra)) md.set(k, v);
  const stream = client.makeBidiStreamRequest<Buffer, Directive>(
    CONNECT_PATH,
    (b) => b,
    (b) => fromBinary(DirectiveSchema, b),
    md,
  );
  const directives: Directive[] = [];
  stream.on("data", (d: Directive) => directives.push(d));
  stream.on("error", () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no status within ${statusLimitMs} ms`)), statusLimitMs);
    stream.on("status", (st: grpc.StatusObject) => {
      clearTimeout(timer);
      resolve(st);
    });
  });
  status.catch(() => undefined);
  const send = (r: Report | Uint8Array) =>
    stream.write(Buffer.from(r instanceof Uint8Array ? r : toBinary(ReportSchema, r)));
  return { stream, directives, status, send };
}

/** Requests (or failures) of one variant the server's windows hold for a canary, over all time. */
export function seriesTotal(
  reader: TelemetryReader,
  canary: string,
  variant: string,
  field: "requests" | "failures" = "requests",
): number {
  let n = 0;
  for (const p of reader.series(canary, 0, Number.MAX_SAFE_INTEGER))
    n += p.variants.get(variant)?.[field] ?? 0;
  return n;
}
