/**
 * Who is on a telemetry stream, and whether a Report's reporter may be them (issue #14: identity
 * from the mesh, not from the message). Pure: stream metadata in, identity or refusal out.
 * - `mesh`: behind the controller's Istio sidecar with STRICT mTLS, the authenticated peer arrives
 *   in `x-forwarded-client-cert`; a Report must name that peer's namespace. Trust this only where
 *   the sidecar sets the header (istio/controller: SANITIZE_SET), never on a port reachable directly.
 * - `credentials`: no mesh; each proxy presents a credential the controller issued for its
 *   namespace/pod (security/reporter-credential.ts); a Report must name exactly that pod.
 * - `none`: the Report's own word (tests and local development only).
 */
import { verifyReporterCredential } from "../security/reporter-credential.js";
import { peerFromXfcc } from "../security/xfcc.js";
import type { Violation } from "./bounds.js";

/** How the controller learns a reporter's identity. */
export type IdentityMode =
  | { kind: "mesh" /** Accepted SPIFFE trust domain; undefined = any. */; trustDomain?: string }
  | { kind: "credentials" /** HMAC key the credentials were issued under. */; secret: string }
  | { kind: "none" };

/** The authenticated identity of one stream. */
export interface StreamIdentity {
  /** Stable principal string: what an instance of a pod is bound to. "" when unauthenticated. */
  principal: string;
  /** Namespace the peer proved, if any. */
  namespace?: string;
  /** Pod the peer proved (credentials only: a mesh identity covers every pod of a ServiceAccount). */
  pod?: string;
}

/** Stream metadata key the controller's sidecar sets. */
export const XFCC_METADATA = "x-forwarded-client-cert";
/** Stream metadata key carrying a reporter credential (the filter's `controller.tokenEnv`). */
export const CREDENTIAL_METADATA = "x-meshcanary-token";

const UNAUTHENTICATED: StreamIdentity = Object.freeze({ principal: "" });

/** The stream's identity from its metadata (first value of each key), or an Error naming why not. */
export function authenticateStream(
  mode: IdentityMode,
  metadata: (key: string) => string | undefined,
): StreamIdentity | Error {
  switch (mode.kind) {
    case "none":
      return UNAUTHENTICATED;
    case "mesh": {
      const peer = peerFromXfcc(metadata(XFCC_METADATA));
      if (peer instanceof Error) return peer;
      if (mode.trustDomain !== undefined && peer.trustDomain !== mode.trustDomain)
        return new Error(
          `x-forwarded-client-cert: trust domain ${JSON.stringify(peer.trustDomain)} is not ${JSON.stringify(mode.trustDomain)}`,
        );
      return { principal: peer.uri, namespace: peer.namespace };
    }
    case "credentials": {
      const credential = metadata(CREDENTIAL_METADATA);
      if (credential === undefined || credential === "")
        return new Error(`${CREDENTIAL_METADATA}: missing reporter credential`);
      const name = verifyReporterCredential(mode.secret, credential);
      if (name instanceof Error) return new Error(`${CREDENTIAL_METADATA}: ${name.message}`);
      return { principal: `credential:${name.namespace}/${name.pod}`, ...name };
    }
  }
}

/** Why a Report's reporter cannot be the stream's authenticated peer, or null. */
export function reporterMismatch(
  id: StreamIdentity,
  reporter: { namespace: string; pod: string },
): Violation | null {
  if (id.namespace !== undefined && reporter.namespace !== id.namespace)
    return {
      reason: "identity_mismatch",
      field: "reporter.namespace",
      value: `${JSON.stringify(reporter.namespace)}, authenticated as ${id.principal}`,
    };
  if (id.pod !== undefined && reporter.pod !== id.pod)
    return {
      reason: "identity_mismatch",
      field: "reporter.pod",
      value: `${JSON.stringify(reporter.pod)}, authenticated as ${id.principal}`,
    };
  return null;
}
