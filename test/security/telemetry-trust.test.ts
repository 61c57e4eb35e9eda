// Pure pieces of issue #14's telemetry trust: XFCC parsing, reporter credentials, placeholder secrets,
// and the controller command's identity flags.
import { describe, expect, it } from "vitest";
import { controllerOptions } from "../../controller/cli/controller-command.js";
import { main } from "../../controller/cli/main.js";
import { reporterCredential } from "../../controller/cli/reporter-credential-command.js";
import { placeholderSecret, weakSecret } from "../../controller/security/placeholder-secrets.js";
import {
  issueReporterCredential,
  verifyReporterCredential,
} from "../../controller/security/reporter-credential.js";
import { parseXfcc, peerFromXfcc } from "../../controller/security/xfcc.js";

describe("x-forwarded-client-cert", () => {
  const uri = "spiffe://cluster.local/ns/team-a/sa/client";
  it.each([
    [`By=spiffe://cluster.local/ns/mc/sa/ctl;Hash=ab;Subject="";URI=${uri}`, "team-a"],
    // A quoted Subject holding commas and semicolons does not split the element.
    [`By=x;Subject="CN=a,O=b;c=\\"d\\"";URI=${uri};DNS=client.team-a`, "team-a"],
    // Only the last element is the controller's sidecar's (APPEND_FORWARD keeps what the client sent).
    [`URI=spiffe://cluster.local/ns/victim/sa/web,By=x;URI=${uri}`, "team-a"],
  ])("%s → namespace %s", (header, namespace) => {
    const peer = peerFromXfcc(header);
    if (peer instanceof Error) throw peer;
    expect(peer).toEqual({ uri, trustDomain: "cluster.local", namespace, serviceAccount: "client" });
  });

  it.each([
    [undefined, "absent"],
    ["", "absent"],
    ["By=x;Hash=y", "last element has 0 URI fields"],
    [`URI=${uri};URI=${uri}`, "last element has 2 URI fields"],
    ["URI=spiffe://cluster.local/ns/a", "is not spiffe://<trust-domain>/ns/<ns>/sa/<sa>"],
    [`URI=${uri},By=x`, "last element has 0 URI fields"],
  ])("%s is refused: %s", (header, why) => {
    const peer = peerFromXfcc(header);
    expect(peer).toBeInstanceOf(Error);
    expect((peer as Error).message).toContain(why);
  });

  it("parses keys and unquoted values", () => {
    expect(parseXfcc('A=1;B="x,y";C')).toEqual([
      [
        ["A", "1"],
        ["B", "x,y"],
        ["C", ""],
      ],
    ]);
  });
});

describe("reporter credentials", () => {
  const secret = "0123456789abcdef0123456789abcdef";
  it("verify to the pod they were issued for, and fail under another secret or when edited", () => {
    const c = issueReporterCredential(secret, { namespace: "shop", pod: "web-0" });
    expect(verifyReporterCredential(secret, c)).toEqual({ namespace: "shop", pod: "web-0" });
    expect(verifyReporterCredential(`${secret}x`, c)).toBeInstanceOf(Error);
    expect(verifyReporterCredential(secret, `${c.slice(0, -2)}AA`)).toBeInstanceOf(Error);
    expect(verifyReporterCredential(secret, "mcr1.e30.AA")).toBeInstanceOf(Error);
  });
});

describe("placeholder secrets", () => {
  it.each([
    ["change-me-before-install", true],
    ["CHANGEME", true],
    ["set-by-kustomize", true],
    ["<your-token>", true],
    ["$" + "{TOKEN}", true],
    ["secret", true],
    ["3f9a0c4e1b7d2a58", false],
  ])("%s placeholder: %s", (value, refused) => {
    const why = placeholderSecret("MESHCANARY_TOKEN", value);
    expect(why !== null).toBe(refused);
    if (why) expect(why).toContain(`MESHCANARY_TOKEN: refusing placeholder secret ${JSON.stringify(value)}`);
  });

  it("an HMAC key must also be long enough", () => {
    expect(weakSecret("K", "short-but-real-1")).toContain("K: secret is 16 characters, at least 32");
    expect(weakSecret("K", "a".repeat(32))).toBeNull();
  });
});

describe("controller command identity options", () => {
  const flags = (more: Record<string, unknown> = {}) =>
    ({
      telemetryPort: "9090",
      httpPort: "8080",
      leaseName: "l",
      leaseDuration: "15",
      tick: "1000",
      logLevel: "info",
      ...more,
    }) as never;
  const noFiles = () => {
    throw new Error("no files");
  };

  it("defaults to the mesh's identity in a cluster and to none outside", () => {
    const inCluster = controllerOptions(flags(), { KUBERNETES_SERVICE_HOST: "10.0.0.1" }, noFiles);
    expect(inCluster.telemetry.identity).toEqual({ kind: "mesh" });
    expect(controllerOptions(flags(), {}, noFiles).telemetry.identity).toEqual({ kind: "none" });
    const td = controllerOptions(
      flags({ telemetryIdentity: "mesh", trustDomain: "prod.example" }),
      {},
      noFiles,
    );
    expect(td.telemetry.identity).toEqual({ kind: "mesh", trustDomain: "prod.example" });
  });

  it("credentials need a real MESHCANARY_REPORTER_SECRET", () => {
    const secret = "9f".repeat(16);
    const ok = controllerOptions(
      flags({ telemetryIdentity: "credentials" }),
      { MESHCANARY_REPORTER_SECRET: secret },
      noFiles,
    );
    expect(ok.telemetry.identity).toEqual({ kind: "credentials", secret });
    expect(() => controllerOptions(flags({ telemetryIdentity: "credentials" }), {}, noFiles)).toThrow(
      "MESHCANARY_REPORTER_SECRET: required by --telemetry-identity credentials",
    );
    expect(() =>
      controllerOptions(
        flags({ telemetryIdentity: "credentials" }),
        { MESHCANARY_REPORTER_SECRET: "change-me-before-install" },
        noFiles,
      ),
    ).toThrow('MESHCANARY_REPORTER_SECRET: refusing placeholder secret "change-me-before-install"');
    expect(() => controllerOptions(flags({ telemetryIdentity: "tls" }), {}, noFiles)).toThrow(
      '--telemetry-identity: expected one of mesh, credentials, none, got "tls"',
    );
  });

  it("refuses the install manifests' placeholder tokens at start-up", () => {
    expect(() =>
      controllerOptions(flags(), { MESHCANARY_TOKEN: "change-me-before-install" }, noFiles),
    ).toThrow('MESHCANARY_TOKEN: refusing placeholder secret "change-me-before-install"');
    expect(() => controllerOptions(flags(), { MESHCANARY_TOKEN: "set-by-kustomize" }, noFiles)).toThrow(
      'MESHCANARY_TOKEN: refusing placeholder secret "set-by-kustomize"',
    );
    expect(() => controllerOptions(flags(), { MESHCANARY_API_TOKEN: "change-me" }, noFiles)).toThrow(
      'MESHCANARY_API_TOKEN: refusing placeholder secret "change-me"',
    );
  });
});

describe("meshcanary reporter-credential", () => {
  const secret = "ab".repeat(16);
  it("issues the credential the controller verifies for that pod", () => {
    const c = reporterCredential({ namespace: "shop", pod: "web-0" }, { MESHCANARY_REPORTER_SECRET: secret });
    expect(verifyReporterCredential(secret, c)).toEqual({ namespace: "shop", pod: "web-0" });
    expect(c).not.toContain(secret);
  });

  it.each([
    [
      { namespace: "Shop", pod: "web-0" },
      { MESHCANARY_REPORTER_SECRET: secret },
      '--namespace: expected a Kubernetes name, got "Shop"',
    ],
    [
      { namespace: "shop", pod: "web/0" },
      { MESHCANARY_REPORTER_SECRET: secret },
      '--pod: expected a Kubernetes name, got "web/0"',
    ],
    [{ namespace: "shop", pod: "web-0" }, {}, "MESHCANARY_REPORTER_SECRET: unset or empty"],
    [
      { namespace: "shop", pod: "web-0" },
      { MESHCANARY_REPORTER_SECRET: "change-me-before-install" },
      "refusing placeholder",
    ],
  ])("%o refused: %s", (opts, env, why) => {
    expect(() => reporterCredential(opts, env)).toThrow(why);
  });

  it("is a subcommand of the CLI (usage error without its options)", async () => {
    expect(await main(["reporter-credential", "--pod", "web-0"])).toBe(2);
  });
});
