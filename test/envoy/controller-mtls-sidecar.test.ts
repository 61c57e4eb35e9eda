/**
 * Issue #14 through a real Envoy in front of the controller's telemetry port, configured as Istio's
 * inbound sidecar for the controller is: mTLS required (STRICT), x-forwarded-client-cert
 * SANITIZE_SET with the peer's URI SAN (the controller pod's `proxyHeaders.forwardedClientCert`).
 * Reporters hold workload certificates with SPIFFE ids, signed by a test mesh CA (openssl). The
 * controller runs in `mesh` identity mode; nothing in a Report can change who it came from.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import { ROUTER_FILTER } from "../../sandbox/envoy/bootstrap.js";
import { findEnvoy } from "../../sandbox/envoy/binary.js";
import { type EnvoyProcess, startEnvoyProcess } from "../../sandbox/envoy/envoy-process.js";
import { makeReport } from "../telemetry/fixtures.js";
import { connectRaw, type RawConn } from "../telemetry/raw-client.js";

const ROOT = join(import.meta.dirname, "..", "..");
const ENVOY = findEnvoy(ROOT);
const TD = "cluster.local";
const spiffe = (ns: string, sa: string) => `spiffe://${TD}/ns/${ns}/sa/${sa}`;

/** A test mesh CA and workload certificates whose URI SAN is the SPIFFE id, as istiod issues them. */
function meshCerts(dir: string, workloads: Record<string, string>): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/O=test-mesh");
  for (const [name, san] of Object.entries(workloads)) {
    ssl("req", "-new", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/O=${name}`);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${name}.crt`,
      "-extfile",
      `${name}.ext`,
    );
  }
}

/** The controller's inbound sidecar: STRICT mTLS, XFCC SANITIZE_SET with the peer's URI, gRPC to the controller. */
function inboundSidecar(dir: string, controllerPort: number): Record<string, unknown> {
  const file = (name: string) => ({ filename: join(dir, name) });
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: "inbound|9090",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              transport_socket: {
                name: "envoy.transport_sockets.tls",
                typed_config: {
                  "@type":
                    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                  require_client_certificate: true,
                  common_tls_context: {
                    alpn_protocols: ["h2"],
                    tls_certificates: [
                      { certificate_chain: file("controller.crt"), private_key: file("controller.key") },
                    ],
                    validation_context: { trusted_ca: file("ca.crt") },
                  },
                },
              },
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "inbound_9090",
                    codec_type: "AUTO",
                    forward_client_cert_details: "SANITIZE_SET",
                    set_current_client_cert_details: { uri: true },
                    route_config: {
                      virtual_hosts: [
                        {
                          name: "controller",
                          domains: ["*"],
                          routes: [
                            { match: { prefix: "/" }, route: { cluster: "controller", timeout: "0s" } },
                          ],
                        },
                      ],
                    },
                    http_filters: [ROUTER_FILTER],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: "controller",
          type: "STATIC",
          load_assignment: {
            cluster_name: "controller",
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: { socket_address: { address: "127.0.0.1", port_value: controllerPort } },
                    },
                  },
                ],
              },
            ],
          },
          typed_extension_protocol_options: {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
              "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
        },
      ],
    },
  };
}

const report = (namespace: string, pod: string, requests: number) =>
  makeReport({ namespace, pod, instance: "i1", seq: 1, totals: [{ canary: "shop/web", requests }] });

describe.skipIf(!ENVOY.ok && !process.env.CI)(
  "controller behind a real Envoy sidecar with STRICT mTLS",
  () => {
    let dir: string;
    let server: TelemetryServer;
    let envoy: EnvoyProcess;
    const clients: grpc.Client[] = [];
    const open: RawConn[] = [];

    beforeAll(async () => {
      if (!ENVOY.ok) throw new Error(ENVOY.error);
      dir = mkdtempSync(join(tmpdir(), "meshcanary-mtls-"));
      meshCerts(dir, {
        controller: `URI:${spiffe("meshcanary-system", "meshcanary-controller")},DNS:localhost,IP:127.0.0.1`,
        "team-a": `URI:${spiffe("team-a", "client")}`,
      });
      server = await startTelemetryServer({
        identity: { kind: "mesh", trustDomain: TD },
        isKnownCanary: (id) => id.startsWith("shop/"),
      });
      envoy = await startEnvoyProcess({
        binary: ENVOY.path,
        dir,
        bootstrap: inboundSidecar(dir, server.port),
      });
    }, 60_000);

    afterAll(async () => {
      for (const c of open) c.stream.cancel();
      for (const c of clients) c.close();
      await envoy?.stop();
      await server?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** A gRPC client through the sidecar, with `workload`'s certificate (or none). */
    function client(workload: string | null): grpc.Client {
      const read = (name: string) => readFileSync(join(dir, name));
      const creds = workload
        ? grpc.credentials.createSsl(read("ca.crt"), read(`${workload}.key`), read(`${workload}.crt`))
        : grpc.credentials.createSsl(read("ca.crt"));
      const c = new grpc.Client(`127.0.0.1:${envoy.port}`, creds, {
        "grpc.ssl_target_name_override": "localhost",
      });
      clients.push(c);
      return c;
    }

    function connect(c: grpc.Client, metadata: Record<string, string> = {}): RawConn {
      const conn = connectRaw(c, null, 10_000, metadata);
      open.push(conn);
      return conn;
    }

    it("accepts a Report from the certificate's namespace and refuses one claiming another", async () => {
      const teamA = client("team-a");
      const ok = connect(teamA);
      ok.send(report("team-a", "client-0", 10));
      await expect.poll(() => server.stats().accepted, { timeout: 10_000 }).toBe(1);

      const liar = connect(teamA);
      liar.send(report("team-b", "victim-0", 10));
      const st = await liar.status;
      expect(st.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(st.metadata.get("x-meshcanary-reason")).toEqual(["identity_mismatch"]);
      expect(st.details).toContain(`authenticated as ${spiffe("team-a", "client")}`);
    });

    it("a client's own x-forwarded-client-cert is never believed: the sidecar sets the authenticated peer's", async () => {
      const forged = `By=${spiffe("meshcanary-system", "meshcanary-controller")};URI=${spiffe("team-b", "web")}`;
      const c = connect(client("team-a"), { "x-forwarded-client-cert": forged });
      c.send(report("team-b", "web-0", 10));
      const st = await c.status;
      expect(st.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(st.details).toContain(`authenticated as ${spiffe("team-a", "client")}`);
    });

    it("a client without a mesh certificate never reaches the controller (STRICT)", async () => {
      const before = server.stats();
      const c = connect(client(null));
      c.send(report("team-a", "client-1", 10));
      const st = await c.status;
      expect(st.code).toBe(grpc.status.UNAVAILABLE);
      expect(server.stats().accepted).toBe(before.accepted);
    });
  },
);
