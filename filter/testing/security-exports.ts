// Test-only entry (never part of build/meshcanary.wasm): SHA-256, HMAC and pin-token checks for
// test/security, compiled by test/security/security-wasm.ts with asconfig.security.json.

import { parseConfig } from "../config-json";
import { hmacSha256 } from "../hmac";
import { pinRejectionName, pinTokenScope, verifyPinToken } from "../pin-token";
export { pinSecretEnvName } from "../pin-secret";
import { Sha256, sha256 } from "../sha256";
import { DecisionInput, resolvePin } from "../split";

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = <u8>I32.parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (<u32>b[i]).toString(16).padStart(2, "0");
  return s;
}

/** SHA-256 of the bytes given as hex, as hex. */
export function sha256Hex(hex: string): string {
  return toHex(sha256(fromHex(hex)));
}

/** SHA-256 of `count` copies of the bytes given as hex, fed one copy per update (streaming path). */
export function sha256RepeatedHex(hex: string, count: u32): string {
  const chunk = fromHex(hex);
  const s = new Sha256();
  for (let i: u32 = 0; i < count; i++) s.update(chunk);
  return toHex(s.digest());
}

/** HMAC-SHA256(key, message), both given as hex, as hex. */
export function hmacHex(keyHex: string, messageHex: string): string {
  return toHex(hmacSha256(fromHex(keyHex), fromHex(messageHex)));
}

/** verifyPinToken with comma-separated variants, a UTF-8 secret and the canary/host scope: "ok:<variant>" or the reason. */
export function verifyToken(
  token: string,
  variantsCsv: string,
  secret: string,
  nowSeconds: i64,
  canary: string,
  host: string,
): string {
  const variants = variantsCsv.length > 0 ? variantsCsv.split(",") : new Array<string>();
  const key = Uint8Array.wrap(String.UTF8.encode(secret));
  const r = verifyPinToken(token, variants, key, nowSeconds, pinTokenScope(canary, host));
  return r.ok ? "ok:" + variants[r.variant] : pinRejectionName(r.rejection);
}

/** Marks an absent header/cookie in resolvePinFor. */
const ABSENT = "\0";

/**
 * resolvePin for the first route of a JSON configuration: "<variant>" or "-", then "/" and the
 * rejection reason ("none" when nothing was refused).
 */
export function resolvePinFor(config: string, header: string, cookie: string, secret: string, nowSeconds: i64): string {
  const parsed = parseConfig(config);
  if (parsed.config == null) return "config error: " + parsed.errors.join("; ");
  const route = parsed.config!.table.routes[0];
  const input = new DecisionInput();
  if (header != ABSENT) input.pinHeader = header;
  if (cookie != ABSENT) input.pinCookie = cookie;
  input.pinSecret = Uint8Array.wrap(String.UTF8.encode(secret));
  input.nowSeconds = nowSeconds;
  const pin = resolvePin(route, input);
  return (pin.variant >= 0 ? route.variants[pin.variant] : "-") + "/" + pinRejectionName(pin.rejection);
}
