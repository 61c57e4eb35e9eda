/**
 * Issue #14 over real gRPC: a reporter is who the mesh (x-forwarded-client-cert from the
 * controller's sidecar) or its controller-issued credential says, not who its Report says; a pod's
 * instance can be replaced only by the principal that reported it.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { issueReporterCredential } from "../../controller/security/reporter-credential.js";
import type { IdentityMode } from "../../controller/telemetry/identity.js";
import { startTelemetryServer, type TelemetryServer } from "../../controller/telemetry/index.js";
import { makeReport } from "./fixtures.js";
import { connectRaw, type RawConn, seriesTotal } from "./raw-client.js";

const SECRET = "identity-test-secret-0123456789abcdef0123";
const servers: TelemetryServer[] = [];
const clients: grpc.Client[] = [];
const open: RawConn[] = [];

afterEach(() => {
  for (const c of open.splice(0)) c.stream.cancel();
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.close();
});

async function serve(identity: IdentityMode) {
  const server = await startTelemetryServer({ identity, isKnownCanary: (id) => id.startsWith("shop/") });
  servers.push(server);
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  clients.push(client);
  const connect = (metadata: Record<string, string>, token: string | null = null) => {
    const conn = connectRaw(client, token, 5000, metadata);
    open.push(conn);
    return conn;
  };
  return { server, connect };
}

/** The header an Istio sidecar (SANITIZE_SET or APPEND_FORWARD) sets for a peer. */
function xfcc(namespace: string, sa: string, trustDomain = "cluster.local"): string {
  return `By=spiffe://cluster.local/ns/meshcanary-system/sa/meshcanary-controller;Hash=ab12;Subject="";URI=spiffe://${trustDomain}/ns/${namespace}/sa/${sa}`;
}

const report = (namespace: string, pod: string, instance: string, seq: number, requests: number) =>
  makeReport({ namespace, pod, instance, seq, totals: [{ canary: "shop/web", requests }] });

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("mesh identity (x-forwarded-client-cert)", () => {
  it("accepts a Report from the peer's namespace and refuses one claiming another", async () => {
    const { server, connect } = await serve({ kind: "mesh", trustDomain: "cluster.local" });
    const ok = connect({ "x-forwarded-client-cert": xfcc("team-a", "client") });
    ok.send(report("team-a", "client-0", "i1", 1, 10));
    await until(() => server.stats().accepted === 1, "the Report to be accepted");

    const liar = connect({ "x-forwarded-client-cert": xfcc("team-a", "client") });
    liar.send(report("team-b", "victim-0", "i9", 1, 10));
    const st = await liar.status;
    expect(st.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(st.details).toContain("reporter.namespace");
    expect(st.details).toContain('"team-b", authenticated as spiffe://cluster.local/ns/team-a/sa/client');
    expect(st.metadata.get("x-meshcanary-reason")).toEqual(["identity_mismatch"]);
  });

  it("refuses a stream without the header, with a foreign trust domain, or with a non-SPIFFE URI", async () => {
    const { server, connect } = await serve({ kind: "mesh", trustDomain: "cluster.local" });
    const cases: Array<[Record<string, string>, string]> = [
      [{}, "x-forwarded-client-cert: absent"],
      [
        { "x-forwarded-client-cert": xfcc("team-a", "client", "evil.example") },
        'trust domain "evil.example"',
      ],
      [{ "x-forwarded-client-cert": "By=x;URI=https://team-a/client" }, "is not spiffe://"],
    ];
    for (const [metadata, why] of cases) {
      const c = connect(metadata);
      const st = await c.status;
      expect(st.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(st.details).toContain(why);
    }
    expect(server.stats().refusedStreams.identity).toBe(3);
  });

  it("believes only the element the controller's sidecar appended (APPEND_FORWARD)", async () => {
    const { connect } = await serve({ kind: "mesh" });
    // A client's own XFCC element comes first; the sidecar appends the authenticated peer last.
    const header = `${xfcc("victim", "web")},${xfcc("team-a", "client")}`;
    const c = connect({ "x-forwarded-client-cert": header });
    c.send(report("victim", "web-0", "i1", 1, 10));
    expect((await c.status).code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("lets only the principal that reported a pod start a new instance of it", async () => {
    const { server, connect } = await serve({ kind: "mesh" });
    const real = connect({ "x-forwarded-client-cert": xfcc("shop", "web") });
    real.send(report("shop", "web-0", "real", 1, 10));
    await until(() => server.stats().accepted === 1, "the real proxy's first Report");

    // Same namespace, another ServiceAccount, claiming web-0 with a new instance id.
    const forger = connect({ "x-forwarded-client-cert": xfcc("shop", "attacker") });
    forger.send(report("shop", "web-0", "forged", 1, 1_000_000));
    const st = await forger.status;
    expect(st.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(st.metadata.get("x-meshcanary-reason")).toEqual(["instance_takeover"]);
    expect(st.details).toContain("forged from spiffe://cluster.local/ns/shop/sa/attacker");

    // The real proxy is still the one counted.
    real.send(report("shop", "web-0", "real", 2, 25));
    await until(() => seriesTotal(server.reader, "shop/web", "canary") === 25, "the real proxy's delta");
    // And its own restart (same principal, new instance) is accepted as one.
    const restarted = connect({ "x-forwarded-client-cert": xfcc("shop", "web") });
    restarted.send(report("shop", "web-0", "real-2", 1, 5));
    await until(() => seriesTotal(server.reader, "shop/web", "canary") === 30, "the restart's totals");
  });
});

describe("per-reporter credentials (no mesh)", () => {
  const credential = (pod: string, secret = SECRET) =>
    issueReporterCredential(secret, { namespace: "shop", pod });

  it("a proxy reports as the pod its credential names, and as no other", async () => {
    const { server, connect } = await serve({ kind: "credentials", secret: SECRET });
    const ok = connect({}, credential("web-0"));
    ok.send(report("shop", "web-0", "i1", 1, 10));
    await until(() => server.stats().accepted === 1, "the Report to be accepted");

    // Another pod's instance, from a proxy holding its own credential: takeover refused.
    const other = connect({}, credential("web-1"));
    other.send(report("shop", "web-0", "forged", 1, 1_000_000));
    const st = await other.status;
    expect(st.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(st.details).toContain(
      'reporter.pod: identity_mismatch ("web-0", authenticated as credential:shop/web-1)',
    );
    ok.send(report("shop", "web-0", "i1", 2, 12));
    await until(() => seriesTotal(server.reader, "shop/web", "canary") === 12, "the real proxy's delta");
  });

  it("refuses missing, foreign-signed and tampered credentials before any Report", async () => {
    const { server, connect } = await serve({ kind: "credentials", secret: SECRET });
    const good = credential("web-0");
    const [prefix, , mac] = good.split(".");
    const tampered = `${prefix}.${Buffer.from("shop/web-9").toString("base64url")}.${mac}`;
    const cases: Array<[string | null, string]> = [
      [null, "missing reporter credential"],
      [credential("web-0", "another-controller-secret-0123456789abcdef"), "wrong signature"],
      [tampered, "credential for shop/web-9 has a wrong signature"],
      ["change-me-before-install", "not a mcr1 reporter credential"],
    ];
    for (const [token, why] of cases) {
      const c = connect({}, token);
      const st = await c.status;
      expect(st.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(st.details).toContain(why);
    }
    expect(server.stats().refusedStreams.identity).toBe(4);
    expect(server.stats().reports).toBe(0);
  });
});
