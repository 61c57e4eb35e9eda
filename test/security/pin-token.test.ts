// The shared pin-token vectors through both implementations (the filter's AssemblyScript compiled to
// wasm, and the controller's node:crypto twin), and tokens issued by the controller checked by both.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  issuePinToken,
  type PinTokenScope,
  pinSecretEnvName,
  verifyPinToken,
} from "../../controller/security/pin-token.js";
import { loadSecurityWasm, type SecurityWasm } from "./security-wasm.js";

interface Vectors {
  now: number;
  canary: string;
  host: string;
  variants: string[];
  cases: Array<{ name: string; secret: string; token: string; expect: string }>;
}

const vectors = JSON.parse(
  readFileSync(new URL("../vectors/pin-token.json", import.meta.url), "utf8"),
) as Vectors;

let wasm: SecurityWasm;
beforeAll(() => {
  wasm = loadSecurityWasm("pin-token");
});

const SCOPE: PinTokenScope = { canary: vectors.canary, host: vectors.host };

function tsVerdict(token: string, variants: string[], secret: string, now: number, scope = SCOPE): string {
  const r = verifyPinToken(token, variants, secret, now, scope);
  return r.ok ? `ok:${r.variant}` : r.reason;
}

function wasmVerdict(token: string, variants: string[], secret: string, now: number, scope = SCOPE): string {
  return wasm.str("verifyToken", token, variants.join(","), secret, BigInt(now), scope.canary, scope.host);
}

describe("shared vectors (test/vectors/pin-token.json)", () => {
  it("cover every outcome", () => {
    const outcomes = new Set(vectors.cases.map((c) => c.expect.replace(/^ok:.*/, "ok")));
    expect([...outcomes].sort()).toEqual(["bad_signature", "expired", "malformed", "ok", "unknown_variant"]);
  });

  describe.each(vectors.cases)("$name", ({ secret, token, expect: expected }) => {
    it("controller (node:crypto)", () => {
      expect(tsVerdict(token, vectors.variants, secret, vectors.now)).toBe(expected);
    });
    it("filter (wasm)", () => {
      expect(wasmVerdict(token, vectors.variants, secret, vectors.now)).toBe(expected);
    });
  });
});

describe("issuePinToken", () => {
  const secret = "s3cret";
  const now = 1_800_000_000;

  it("issues a token both sides accept until it expires", () => {
    const r = issuePinToken(SCOPE, "canary", 3600, secret, now + 0.7);
    if (!r.ok) throw new Error(r.error);
    expect(r.expiresAt).toBe(now + 3600);
    expect(r.token).toMatch(/^canary\.1800003600\.[0-9a-f]{64}$/);
    for (const verdict of [tsVerdict, wasmVerdict]) {
      expect(verdict(r.token, ["stable", "canary"], secret, now)).toBe("ok:canary");
      expect(verdict(r.token, ["stable", "canary"], secret, now + 3599)).toBe("ok:canary");
      expect(verdict(r.token, ["stable", "canary"], secret, now + 3600)).toBe("expired");
      expect(verdict(r.token, ["stable", "canary"], "other", now)).toBe("bad_signature");
      expect(verdict(r.token, ["stable"], secret, now)).toBe("unknown_variant");
    }
  });

  it("scopes a token to its Canary and host: another canary or host sharing the secret refuses it", () => {
    const r = issuePinToken(
      { canary: "shop/web", host: "Web.Shop.svc.cluster.local" },
      "canary",
      60,
      secret,
      now,
    );
    if (!r.ok) throw new Error(r.error);
    const scopes: Array<[PinTokenScope, string]> = [
      [{ canary: "shop/web", host: "web.shop.svc.cluster.local" }, "ok:canary"],
      [{ canary: "shop/checkout", host: "web.shop.svc.cluster.local" }, "bad_signature"],
      [{ canary: "other/web", host: "web.shop.svc.cluster.local" }, "bad_signature"],
      [{ canary: "shop/web", host: "web.other.svc.cluster.local" }, "bad_signature"],
    ];
    for (const [scope, expected] of scopes) {
      expect(tsVerdict(r.token, ["stable", "canary"], secret, now, scope)).toBe(expected);
      expect(wasmVerdict(r.token, ["stable", "canary"], secret, now, scope)).toBe(expected);
    }
  });

  it("rounds a fractional ttl up to whole seconds", () => {
    const r = issuePinToken(SCOPE, "stable", 0.2, secret, now);
    expect(r.ok && r.expiresAt).toBe(now + 1);
  });

  it.each([
    [
      "Canary",
      60,
      secret,
      'variant: must match [a-z0-9]([-a-z0-9]*[a-z0-9])? (at most 63 characters), got "Canary"',
    ],
    ["canary.x", 60, secret, "variant: must match"],
    ["canary", 0, secret, "ttl: must be a positive duration, got 0s"],
    ["canary", Number.NaN, secret, "ttl: must be a positive duration"],
    ["canary", 60, "", "secret: must not be empty"],
    ["canary", 1e12, secret, "ttl: expiry"],
  ])("refuses variant %j ttl %s", (variant, ttl, key, error) => {
    const r = issuePinToken(SCOPE, variant, ttl, key, now);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(error);
  });

  it.each([
    [{ canary: "web", host: "web" }, 'canary: must be "<namespace>/<name>", got "web"'],
    [{ canary: "shop/web", host: "" }, 'host: must be the Canary\'s spec.host, got ""'],
  ])("refuses scope %j", (scope, error) => {
    const r = issuePinToken(scope, "canary", 60, secret, now);
    expect(!r.ok && r.error).toBe(error);
  });
});

describe("pinSecretEnvName: the filter and the controller name a Canary's own secret alike", () => {
  it.each([
    ["shop/web", "MESHCANARY_PIN_SECRET__SHOP__WEB"],
    ["team-a/checkout.v2", "MESHCANARY_PIN_SECRET__TEAM_A__CHECKOUT_V2"],
  ])("%s → %s", (canary, name) => {
    expect(pinSecretEnvName(canary)).toBe(name);
    expect(wasm.str("pinSecretEnvName", canary)).toBe(name);
  });
});

describe("resolvePin (filter/split.ts): header, then cookie; the first refusal is reported", () => {
  const ABSENT = "\0";
  const secret = "k";
  const now = 1_800_000_000;
  const config = (requireToken: boolean) =>
    JSON.stringify({
      routes: [
        {
          host: "reviews",
          canary: "default/reviews",
          variants: [
            { name: "stable", weight: 5000 },
            { name: "canary", weight: 5000 },
          ],
          pin: { requireToken },
        },
      ],
    });
  const tok = (variant: string, ttl = 60, key = secret) => {
    const r = issuePinToken({ canary: "default/reviews", host: "reviews" }, variant, ttl, key, now);
    if (!r.ok) throw new Error(r.error);
    return r.token;
  };
  const expired = (variant: string) => {
    const r = issuePinToken({ canary: "default/reviews", host: "reviews" }, variant, 60, secret, now - 100);
    if (!r.ok) throw new Error(r.error);
    return r.token;
  };

  it.each([
    ["plain: header names a variant", false, "canary", ABSENT, "canary/none"],
    ["plain: header wins over cookie", false, "stable", "canary", "stable/none"],
    ["plain: unknown header falls back to cookie", false, "nope", "canary", "canary/none"],
    ["plain: tokens are not variant names", false, tok("canary"), ABSENT, "-/none"],
    ["token: header token pins", true, tok("canary"), ABSENT, "canary/none"],
    ["token: cookie token pins", true, ABSENT, tok("stable"), "stable/none"],
    ["token: header token wins over cookie token", true, tok("stable"), tok("canary"), "stable/none"],
    ["token: plain header refused", true, "canary", ABSENT, "-/malformed"],
    [
      "token: refused header, valid cookie: pinned, nothing reported",
      true,
      "canary",
      tok("canary"),
      "canary/none",
    ],
    [
      "token: both refused: the header's reason",
      true,
      expired("canary"),
      tok("canary", 60, "x"),
      "-/expired",
    ],
    ["token: no pin at all", true, ABSENT, ABSENT, "-/none"],
  ])("%s", (_name, requireToken, header, cookie, expected) => {
    expect(wasm.str("resolvePinFor", config(requireToken), header, cookie, secret, BigInt(now))).toBe(
      expected,
    );
  });
});
