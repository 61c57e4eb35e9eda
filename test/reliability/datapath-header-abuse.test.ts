/**
 * Header abuse through the sidecar over HTTP/1.1 and HTTP/2 (prior knowledge): very long values,
 * bytes outside ASCII, hundreds of cookies, repeated `x-meshcanary-variant` and pin headers. The real
 * filter never traps, the upstream always sees exactly one `x-meshcanary-variant` and it is the
 * filter's own decision (matching the subset that answered), and the VMs' memory stays flat.
 */
import { createServer, type IncomingMessage, request as httpRequest, type Server } from "node:http";
import { connect as http2Connect } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadHost, type ProxyWasmHost } from "../../sandbox/host/index.js";
import { endpointKey, type Sidecar, startSidecar } from "../../sandbox/sidecar/sidecar.js";
import { filterWasm } from "../filter/filter-wasm.js";

const WORKERS = 2;
let host: ProxyWasmHost;
let sidecar: Sidecar;
const upstreams: Server[] = [];

/** What the upstream of `version` saw: every x-meshcanary-variant value it got. */
interface Seen {
  version: string;
  variants: string[];
}

async function echo(version: string): Promise<string> {
  const server = createServer((req: IncomingMessage, res) => {
    const variants = req.headersDistinct["x-meshcanary-variant"] ?? [];
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ version, variants } satisfies Seen));
  });
  server.maxHeadersCount = 0;
  upstreams.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const config = JSON.stringify({
  routes: [
    {
      host: "reviews.default.svc.cluster.local",
      canary: "default/reviews",
      variants: [
        { name: "stable", weight: 5000 },
        { name: "canary", weight: 5000 },
      ],
      sticky: { header: "x-user-id" },
    },
  ],
});

const subsetRoute = (variant: string) => ({
  name: `meshcanary-${variant}`,
  match: [{ headers: { "x-meshcanary-variant": { exact: variant } } }],
  route: [{ destination: { host: "reviews", subset: variant } }],
});

beforeAll(async () => {
  host = await loadHost({ module: filterWasm(), workers: WORKERS, pluginConfig: config, timers: "manual" });
  const endpoints = new Map([
    [endpointKey("reviews", "stable"), await echo("stable")],
    [endpointKey("reviews", "canary"), await echo("canary")],
  ]);
  sidecar = await startSidecar({
    host,
    virtualServices: () => [
      {
        hosts: ["reviews"],
        http: [
          subsetRoute("canary"),
          subsetRoute("stable"),
          { route: [{ destination: { host: "reviews", subset: "stable" } }] },
        ],
      },
    ],
    endpoints: () => endpoints,
  });
});

afterAll(async () => {
  await sidecar?.close();
  for (const s of upstreams) await new Promise<void>((r) => s.close(() => r()));
  await host?.close();
});

/** A request's headers as ordered [name, value] pairs (repeats allowed). */
type Pairs = [string, string][];

const latin1 = (bytes: number[]) => Buffer.from(bytes).toString("latin1");
const manyCookies = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    i % 7 === 0 ? `meshcanary-pin=${i % 2 ? "canary" : "bogus"}` : `c${i}=${"v".repeat(i % 40)}`,
  ).join("; ");

/** The abusive requests; `want` is the variant the filter must choose, when it is determined. */
const CASES: { name: string; headers: Pairs; want?: string }[] = [
  { name: "a 12 KB sticky key", headers: [["x-user-id", "u".repeat(12_000)]] },
  { name: "a 12 KB pin value", headers: [["x-meshcanary-pin", "canary".repeat(2000)]] },
  {
    name: "non-ASCII bytes in the key",
    headers: [["x-user-id", latin1([0xff, 0xfe, 0x80, 0x41, 0xc3, 0xa9, 0x7f - 1])]],
  },
  {
    name: "non-ASCII bytes in the pin",
    headers: [["x-meshcanary-pin", latin1([0x63, 0x61, 0xe9, 0x61, 0x72, 0x79])]],
  },
  { name: "300 cookies", headers: [["cookie", manyCookies(300)]] },
  {
    name: "50 forged variant headers",
    headers: [
      ...Array.from({ length: 50 }, (_, i): [string, string] => [
        "x-meshcanary-variant",
        i % 2 ? "canary" : "evil",
      ]),
      ["x-meshcanary-pin", "stable"],
    ],
    want: "stable",
  },
  {
    name: "repeated pin headers (first wins)",
    headers: [
      ["x-meshcanary-pin", "canary"],
      ["x-meshcanary-pin", "stable"],
      ["x-meshcanary-pin", "canary"],
      ["x-meshcanary-variant", "stable"],
    ],
    want: "canary",
  },
  {
    name: "an empty pin and an empty forged variant",
    headers: [
      ["x-meshcanary-pin", ""],
      ["x-meshcanary-variant", ""],
    ],
  },
];

function viaHttp1(headers: Pairs): Promise<{ status: number; seen: Seen }> {
  return new Promise((resolve, reject) => {
    const flat: string[] = ["host", "reviews.default.svc.cluster.local"];
    for (const [k, v] of headers) flat.push(k, v);
    const req = httpRequest(
      { host: "127.0.0.1", port: sidecar.port, path: "/", method: "GET", headers: flat },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, seen: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function viaHttp2(headers: Pairs): Promise<{ status: number; seen: Seen }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(sidecar.url);
    session.on("error", reject);
    // Repeats as arrays: HTTP/2 sends one field per value, in order.
    const fields: Record<string, string | string[]> = {
      ":method": "GET",
      ":path": "/",
      ":authority": "reviews.default.svc.cluster.local",
    };
    for (const [k, v] of headers) {
      const prev = fields[k];
      fields[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    const stream = session.request(fields);
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      session.close();
      resolve({ status, seen: JSON.parse(Buffer.concat(chunks).toString()) });
    });
    stream.on("error", reject);
  });
}

const noTrap = () => Array.from({ length: WORKERS }, (_, w) => host.failed(w)).every((f) => !f);

describe("data path: header abuse through the sidecar", () => {
  for (const [protocol, send] of [
    ["HTTP/1.1", viaHttp1],
    ["HTTP/2", viaHttp2],
  ] as const) {
    for (const c of CASES) {
      it(`${protocol}: ${c.name}`, async () => {
        for (let i = 0; i < 4; i++) {
          const { status, seen } = await send(c.headers);
          expect(status).toBe(200);
          expect(seen.variants).toHaveLength(1);
          expect(["stable", "canary"]).toContain(seen.variants[0]);
          expect(seen.variants[0]).toBe(seen.version);
          if (c.want) expect(seen.variants[0]).toBe(c.want);
        }
        expect(noTrap()).toBe(true);
      });
    }
  }

  it("memory stays flat over many abusive requests (sidecar and direct)", async () => {
    const all = CASES.map((c) => c.headers);
    const round = async () => {
      for (const h of all) {
        await viaHttp1(h);
        await viaHttp2(h);
      }
    };
    const direct = (n: number) => {
      for (let i = 0; i < n; i++) {
        const h = all[i % all.length]!;
        host.request(
          {
            request: { headers: [[":authority", "reviews"], ...h] },
            response: { status: i % 9 ? 200 : 503 },
          },
          i % WORKERS,
        );
      }
    };
    for (let i = 0; i < 3; i++) await round();
    direct(2000);
    await host.advance(1000);
    const before = Array.from({ length: WORKERS }, (_, w) => host.memoryBytes(w));
    for (let i = 0; i < 10; i++) await round();
    for (let i = 0; i < 5; i++) {
      direct(4000);
      await host.advance(1000);
    }
    const after = Array.from({ length: WORKERS }, (_, w) => host.memoryBytes(w));
    console.log(
      `wasm memory per worker before ${before.join(",")} after ${after.join(",")} bytes (20k direct + 160 proxied requests)`,
    );
    expect(after).toEqual(before);
    expect(noTrap()).toBe(true);
  });
});
