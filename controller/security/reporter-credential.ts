/**
 * Per-reporter telemetry credentials for meshes without workload identity (the sandbox, plain
 * Envoy): the controller issues each proxy a credential that names its namespace and pod and is
 * signed with a controller secret, so a proxy can report as itself and as no other.
 * Format: `mcr1.<base64url(namespace "/" pod)>.<base64url(HMAC-SHA256)>`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Who a credential was issued to. */
export interface ReporterName {
  namespace: string;
  pod: string;
}

const PREFIX = "mcr1";
/** Domain separation: this key signs nothing else with the same message shape. */
const CONTEXT = "meshcanary reporter credential v1\n";

function mac(secret: string, name: ReporterName): Buffer {
  return createHmac("sha256", secret).update(`${CONTEXT}${name.namespace}/${name.pod}`, "utf8").digest();
}

/** The credential of `name` under `secret`; filters send it as `x-meshcanary-token`. */
export function issueReporterCredential(secret: string, name: ReporterName): string {
  const who = Buffer.from(`${name.namespace}/${name.pod}`, "utf8").toString("base64url");
  return `${PREFIX}.${who}.${mac(secret, name).toString("base64url")}`;
}

/** The identity a credential proves, or an Error naming what is wrong with it (never the secret). */
export function verifyReporterCredential(secret: string, credential: string): ReporterName | Error {
  const parts = credential.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) return new Error(`not a ${PREFIX} reporter credential`);
  const who = Buffer.from(parts[1]!, "base64url").toString("utf8");
  const slash = who.indexOf("/");
  if (slash <= 0 || slash === who.length - 1) return new Error("credential names no namespace/pod");
  const name = { namespace: who.slice(0, slash), pod: who.slice(slash + 1) };
  const presented = Buffer.from(parts[2]!, "base64url");
  const expected = mac(secret, name);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected))
    return new Error(`credential for ${who} has a wrong signature`);
  return name;
}
