/**
 * One telemetry server and a gRPC client to it for a test file: started before all tests, its
 * streams cancelled after each, both closed after all (the set-up three suites had line for line).
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { Report } from "../../controller/gen/meshcanary/v1/telemetry_pb.js";
import {
  startTelemetryServer,
  type TelemetryServer,
  type TelemetryServerOptions,
} from "../../controller/telemetry/index.js";
import { connectRaw, type RawConn } from "./raw-client.js";

export interface GrpcHarness {
  /** The running server (valid inside tests, after beforeAll). */
  readonly server: TelemetryServer;
  /** Opens a stream (token in the metadata unless null), cancelled after the test. */
  connect(token: string | null, statusLimitMs?: number): RawConn;
  /** Sends `reports` on `c` and waits until the server has taken that many more Reports. */
  sendAll(c: RawConn, reports: Report[]): Promise<void>;
}

export function telemetryOverGrpc(options: Omit<TelemetryServerOptions, "address">): GrpcHarness {
  let server: TelemetryServer | undefined;
  let client: grpc.Client | undefined;
  const open: RawConn[] = [];
  beforeAll(async () => {
    server = await startTelemetryServer({ address: "127.0.0.1:0", ...options });
    client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.stream.cancel();
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });
  const started = (): TelemetryServer => {
    if (!server) throw new Error("the telemetry server is not started yet");
    return server;
  };
  return {
    get server() {
      return started();
    },
    connect(token, statusLimitMs = 5000) {
      if (!client) throw new Error("the telemetry server is not started yet");
      const c = connectRaw(client, token, statusLimitMs);
      open.push(c);
      return c;
    },
    async sendAll(c, reports) {
      const taken = () => started().stats().reports;
      const before = taken();
      for (const r of reports) c.send(r);
      await until(() => taken() >= before + reports.length, "reports to arrive");
    },
  };
}

/** Polls `cond` every 10 ms, up to 5 s (a bound, not a performance assertion). */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
