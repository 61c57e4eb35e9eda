// Pin tokens end to end: the real build/meshcanary.wasm in the sandbox proxy-wasm host, the secret
// from vmConfig.env (WASI environ), tokens issued by the controller twin and by the CLI.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../controller/cli/main.js";
import { issuePinToken } from "../../controller/security/pin-token.js";
import type { Headers, ProxyWasmHost } from "../../sandbox/host/index.js";
import { filterHosts } from "../filter/filter-hosts.js";

const SECRET = "integration-secret-0123456789";
const SECRET_ENV = "MESHCANARY_PIN_SECRET";
/** The host's frozen wall clock (Unix seconds). */
const NOW = 1_800_000_000;
const VARIANT = "x-meshcanary-variant";
const REJECTED = "wasmcustom.meshcanary_pin_rejected";

function pluginConfig(opts: { requireToken?: boolean; pinSecretEnv?: string | null } = {}): string {
  const { requireToken = true, pinSecretEnv = SECRET_ENV } = opts;
  return JSON.stringify({
    ...(pinSecretEnv !== null ? { pinSecretEnv } : {}),
    routes: [
      {
        host: "reviews.default.svc.cluster.local",
        canary: "default/reviews",
        // No weight on the canary: only a pin that counts can reach it.
        variants: [
          { name: "stable", weight: 10000 },
          { name: "canary", weight: 0 },
        ],
        pin: { requireToken },
        sticky: { header: "x-user-id" },
      },
    ],
  });
}

const SCOPE = { canary: "default/reviews", host: "reviews.default.svc.cluster.local" };
/** The filter's variable for default/reviews' own secret. */
const OWN_SECRET_ENV = "MESHCANARY_PIN_SECRET__DEFAULT__REVIEWS";

function token(variant: string, ttlSeconds: number, secret = SECRET, now = NOW, scope = SCOPE): string {
  const r = issuePinToken(scope, variant, ttlSeconds, secret, now);
  if (!r.ok) throw new Error(r.error);
  return r.token;
}

const startHost = filterHosts();

function newHost(config: string, env: Record<string, string> = { [SECRET_ENV]: SECRET }) {
  const clock = { realtimeNs: () => BigInt(NOW) * 1_000_000_000n, monotonicNs: () => 0n };
  return startHost({ pluginConfig: config, env, clock });
}

function variantFor(host: ProxyWasmHost, extra: Headers): string[] {
  const r = host.request({
    request: { headers: [[":authority", "reviews:9080"], ["x-user-id", "u1"], ...extra] },
    response: { status: 200 },
  });
  return r.requestHeaders.filter(([k]) => k === VARIANT).map(([, v]) => v);
}

function counter(host: ProxyWasmHost, name: string): number | undefined {
  return host.metrics().get(name)?.value;
}

describe("requireToken routes", () => {
  let host: ProxyWasmHost;
  beforeAll(async () => {
    host = await newHost(pluginConfig());
  });

  it("defines the rejection counters at zero", () => {
    expect(counter(host, REJECTED)).toBe(0);
    for (const reason of ["malformed", "unknown_variant", "expired", "bad_signature"]) {
      expect(counter(host, `${REJECTED}__${reason}`), reason).toBe(0);
    }
  });

  it("a valid token pins its variant, by header or by cookie", () => {
    expect(variantFor(host, [["x-meshcanary-pin", token("canary", 3600)]])).toEqual(["canary"]);
    expect(variantFor(host, [["cookie", `a=b; meshcanary-pin=${token("canary", 60)}`]])).toEqual(["canary"]);
    expect(counter(host, REJECTED)).toBe(0);
  });

  it.each([
    ["plain variant name", "malformed", "canary"],
    ["truncated token", "malformed", token("canary", 3600).slice(0, -1)],
    ["expired token", "expired", token("canary", 60, SECRET, NOW - 120)],
    ["token expiring exactly now", "expired", token("canary", 60, SECRET, NOW - 60)],
    ["forged token (other secret)", "bad_signature", token("canary", 3600, "not-the-secret")],
    ["tampered variant", "bad_signature", token("stable", 3600).replace(/^stable/, "canary")],
    ["token for a variant the route lacks", "unknown_variant", token("beta", 3600)],
    [
      "token for another canary sharing the secret",
      "bad_signature",
      token("canary", 3600, SECRET, NOW, { ...SCOPE, canary: "default/ratings" }),
    ],
    [
      "token for another host of this canary",
      "bad_signature",
      token("canary", 3600, SECRET, NOW, { ...SCOPE, host: "ratings.default.svc.cluster.local" }),
    ],
  ])("ignores a %s and counts it as %s", (_name, reason, value) => {
    const total = counter(host, REJECTED) ?? 0;
    const perReason = counter(host, `${REJECTED}__${reason}`) ?? 0;
    // Falls through to sticky/weighted: the canary has no weight.
    expect(variantFor(host, [["x-meshcanary-pin", value]])).toEqual(["stable"]);
    expect(counter(host, REJECTED)).toBe(total + 1);
    expect(counter(host, `${REJECTED}__${reason}`)).toBe(perReason + 1);
  });

  it("a refused header token falls back to a valid cookie token", () => {
    const total = counter(host, REJECTED) ?? 0;
    const pinned = variantFor(host, [
      ["x-meshcanary-pin", "canary"],
      ["cookie", `meshcanary-pin=${token("canary", 3600)}`],
    ]);
    expect(pinned).toEqual(["canary"]);
    // The request was pinned after all: nothing is counted.
    expect(counter(host, REJECTED)).toBe(total);
  });

  it("requests without a pin are not counted", () => {
    const total = counter(host, REJECTED) ?? 0;
    expect(variantFor(host, [])).toEqual(["stable"]);
    expect(counter(host, REJECTED)).toBe(total);
  });
});

describe("configuration", () => {
  it("plain pins still work on routes without requireToken", async () => {
    const host = await newHost(pluginConfig({ requireToken: false }), {});
    expect(variantFor(host, [["x-meshcanary-pin", "canary"]])).toEqual(["canary"]);
  });

  it("rejects requireToken without pinSecretEnv, naming the field", async () => {
    const host = await newHost(pluginConfig({ requireToken: false }));
    expect(host.configure(pluginConfig({ pinSecretEnv: null })).ok).toBe(false);
    expect(
      host.logs.some((l) =>
        l.message.includes("pinSecretEnv: is required when routes[0].pin.requireToken is true"),
      ),
    ).toBe(true);
    // The last good configuration keeps running.
    expect(variantFor(host, [["x-meshcanary-pin", "canary"]])).toEqual(["canary"]);
  });

  it("rejects requireToken when the env var named by pinSecretEnv is unset", async () => {
    const host = await newHost(pluginConfig({ requireToken: false }), { OTHER: "x" });
    expect(host.configure(pluginConfig()).ok).toBe(false);
    expect(
      host.logs.some((l) =>
        l.message.includes(`pinSecretEnv: environment variable "${SECRET_ENV}" is unset or empty`),
      ),
    ).toBe(true);
  });

  it("reads the secret from the env var pinSecretEnv names", async () => {
    const host = await newHost(pluginConfig({ pinSecretEnv: "OTHER_SECRET" }), {
      [SECRET_ENV]: "decoy",
      OTHER_SECRET: "the-other-secret",
    });
    expect(variantFor(host, [["x-meshcanary-pin", token("canary", 60, "the-other-secret")]])).toEqual([
      "canary",
    ]);
    expect(variantFor(host, [["x-meshcanary-pin", token("canary", 60, "decoy")]])).toEqual(["stable"]);
  });
});

describe("a Canary's own secret (MESHCANARY_PIN_SECRET__<NS>__<NAME>)", () => {
  it("wins over the shared secret, and rotating it revokes that Canary's tokens", async () => {
    const host = await newHost(pluginConfig(), { [SECRET_ENV]: SECRET, [OWN_SECRET_ENV]: "own-1" });
    expect(variantFor(host, [["x-meshcanary-pin", token("canary", 60, "own-1")]])).toEqual(["canary"]);
    // The shared secret no longer signs for this Canary once it has its own.
    expect(variantFor(host, [["x-meshcanary-pin", token("canary", 60, SECRET)]])).toEqual(["stable"]);
    const rotated = await newHost(pluginConfig(), { [SECRET_ENV]: SECRET, [OWN_SECRET_ENV]: "own-2" });
    expect(variantFor(rotated, [["x-meshcanary-pin", token("canary", 60, "own-1")]])).toEqual(["stable"]);
    expect(variantFor(rotated, [["x-meshcanary-pin", token("canary", 60, "own-2")]])).toEqual(["canary"]);
  });

  it("is enough without pinSecretEnv", async () => {
    const host = await newHost(pluginConfig({ pinSecretEnv: null }), { [OWN_SECRET_ENV]: "own" });
    expect(host.logs.filter((l) => l.message.includes("configuration rejected"))).toEqual([]);
    expect(variantFor(host, [["x-meshcanary-pin", token("canary", 60, "own")]])).toEqual(["canary"]);
  });
});

describe("meshcanary pin-token", () => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  beforeAll(() => {
    vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      stdout.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((s) => {
      stderr.push(String(s));
      return true;
    });
    vi.spyOn(console, "error").mockImplementation((s: unknown) => stderr.push(String(s)));
  });
  afterEach(() => {
    stdout.length = 0;
    stderr.length = 0;
    vi.unstubAllEnvs();
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it("prints a token the filter accepts, and never the secret", async () => {
    vi.stubEnv(SECRET_ENV, SECRET);
    // The CLI uses the real clock; the host's clock is set to the same second.
    const now = Math.floor(Date.now() / 1000);
    const code = await main([
      "pin-token",
      "--canary",
      SCOPE.canary,
      "--variant",
      "canary",
      "--ttl",
      "1h",
      "--host",
      SCOPE.host,
    ]);
    expect(code).toBe(0);
    expect(stdout).toHaveLength(1);
    const printed = stdout[0]!.trim();
    expect(printed).toMatch(/^canary\.\d+\.[0-9a-f]{64}$/);
    expect(stderr.join("")).toContain(`curl -H 'x-meshcanary-pin: ${printed}' http://${SCOPE.host}/`);
    expect(stdout.join("") + stderr.join("")).not.toContain(SECRET);
    const clock = { realtimeNs: () => BigInt(now) * 1_000_000_000n, monotonicNs: () => 0n };
    const host = await startHost({ pluginConfig: pluginConfig(), env: { [SECRET_ENV]: SECRET }, clock });
    expect(variantFor(host, [["x-meshcanary-pin", printed]])).toEqual(["canary"]);
  });

  it("reads --secret-file, dropping one trailing newline", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const file = join(mkdtempSync(join(tmpdir(), "meshcanary-pin-")), "secret");
    writeFileSync(file, `${SECRET}\n`);
    const scope = ["--canary", SCOPE.canary, "--host", SCOPE.host];
    expect(
      await main(["pin-token", ...scope, "--variant", "stable", "--ttl", "30m", "--secret-file", file]),
    ).toBe(0);
    const printed = stdout[0]!.trim();
    const expiry = Number(printed.split(".")[1]);
    expect(Math.abs(expiry - (Date.now() / 1000 + 1800))).toBeLessThan(60);
    // Signed with the file's content minus the newline: the token the twin issues with that secret.
    expect(printed).toBe(token("stable", 1, SECRET, expiry - 1));
  });

  it("signs with the Canary's own secret variable when it is set", async () => {
    vi.stubEnv(SECRET_ENV, SECRET);
    vi.stubEnv(OWN_SECRET_ENV, "own-secret");
    const args = ["--canary", SCOPE.canary, "--host", SCOPE.host, "--variant", "canary", "--ttl", "1h"];
    expect(await main(["pin-token", ...args])).toBe(0);
    const printed = stdout[0]!.trim();
    const expiry = Number(printed.split(".")[1]);
    expect(printed).toBe(token("canary", 1, "own-secret", expiry - 1));
  });

  it("refuses a canary that is not <namespace>/<name>", async () => {
    vi.stubEnv(SECRET_ENV, SECRET);
    const args = ["--canary", "reviews", "--host", SCOPE.host, "--variant", "canary", "--ttl", "1h"];
    expect(await main(["pin-token", ...args])).toBe(2);
    expect(stderr.join("")).toContain('--canary: must be "<namespace>/<name>", got "reviews"');
  });

  it.each([
    [["--variant", "canary", "--ttl", "soon"], 2, "--ttl: invalid duration"],
    [["--variant", "Canary", "--ttl", "1h"], 2, "--variant: must match"],
    [
      ["--variant", "canary", "--ttl", "1h", "--secret-env", "NOPE_UNSET"],
      1,
      "environment variable NOPE_UNSET is unset or empty",
    ],
    [
      ["--variant", "canary", "--ttl", "1h", "--secret-env", "A", "--secret-file", "b"],
      2,
      "mutually exclusive",
    ],
  ])("refuses %j with exit code %i", async (args, exitCode, message) => {
    vi.stubEnv(SECRET_ENV, SECRET);
    expect(await main(["pin-token", "--canary", SCOPE.canary, "--host", SCOPE.host, ...args])).toBe(exitCode);
    expect(stderr.join("")).toContain(message);
    expect(stdout).toEqual([]);
  });
});
