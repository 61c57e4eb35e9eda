// A gRPC stream from the fixture to a real @grpc/grpc-js server on 127.0.0.1 (raw-bytes echo).
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { fixture } from "./wat.js";

const identity = (b: Buffer): Buffer => b;
let server: grpc.Server;
let host: ProxyWasmHost;

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(
    {
      Chat: {
        path: "/test.Echo/Chat",
        requestStream: true,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        const md = new grpc.Metadata();
        md.set("x-srv", "yes");
        call.sendMetadata(md);
        call.on("data", (d: Buffer) => call.write(Buffer.concat([Buffer.from("echo:"), d])));
        call.on("end", () => {
          const trailers = new grpc.Metadata();
          trailers.set("x-trailer", "t");
          call.end(trailers);
        });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  host = await loadHost({
    module: fixture("grpc-stream"),
    timers: "manual",
    clusters: { telemetry: `127.0.0.1:${port}` },
  });
});

afterAll(async () => {
  await host?.close();
  server?.forceShutdown();
});

function i32(key: string): number | undefined {
  const v = host.sharedData.get(key);
  return v ? new DataView(v.value.buffer, v.value.byteOffset, 4).getInt32(0, true) : undefined;
}

describe("gRPC stream callouts (contract §9.2)", () => {
  it("validates synchronously: unknown cluster name → ParseFailure, stream token 6, send to a call token → BadArgument", () => {
    expect(i32("g:bad_cluster_rc")).toBe(4);
    expect(i32("g:token")).toBe(6); // per VM: the worker counts from 6 like the canary did
    expect(i32("g:send_bad_rc")).toBe(2);
    expect(i32("g:send_rc")).toBe(0);
  });

  it("delivers initial metadata, message, trailing metadata and close in order", async () => {
    const order = () =>
      host.logs.filter((l) => l.message.includes("grpc ")).map((l) => l.message.split(": ")[1]);
    for (let i = 0; i < 200 && i32("g:status") === undefined; i++)
      await new Promise((r) => setTimeout(r, 10));
    // The canary's stream was cancelled when it was torn down, so only the worker's callbacks appear.
    expect(order()).toEqual([
      "grpc initial_metadata",
      "grpc message",
      "grpc trailing_metadata",
      "grpc close",
    ]);
    expect(new TextDecoder().decode(host.sharedData.get("g:srv")!.value)).toBe("yes");
    expect(new TextDecoder().decode(host.sharedData.get("g:msg")!.value)).toBe("echo:hello");
    expect(i32("g:close_rc")).toBe(0);
    expect(i32("g:trailers")).toBeGreaterThanOrEqual(1);
    expect(i32("g:status")).toBe(0);
    expect(new TextDecoder().decode(host.sharedData.get("g:status_msg")!.value)).toBe("OK");
  });
});
