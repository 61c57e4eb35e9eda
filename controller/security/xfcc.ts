/**
 * The peer identity an Istio sidecar puts in `x-forwarded-client-cert` (Envoy's XFCC header):
 * comma-separated elements, each `;`-separated `Key=Value` pairs, values optionally double-quoted
 * with `\"` escapes. Istio's sidecar inbound uses APPEND_FORWARD by default (pilot's
 * GetProxyHeadersFromProxyConfig), so only the LAST element was written by the controller's own
 * sidecar; earlier ones come from whoever sent the request. Envoy strips the header on connections
 * that are not mutual TLS (ConnectionManagerUtility::mutateXfccRequestHeader).
 */

/** A SPIFFE workload id as Istio issues it: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. */
export interface SpiffeId {
  uri: string;
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** Splits `text` on `sep` outside double quotes. */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, "$1");
  return v;
}

/** The key/value pairs of each XFCC element, in header order (keys as written). */
export function parseXfcc(header: string): Array<Array<[string, string]>> {
  return splitOutsideQuotes(header, ",").map((element) =>
    splitOutsideQuotes(element, ";")
      .map((pair) => pair.trim())
      .filter((pair) => pair !== "")
      .map((pair): [string, string] => {
        const eq = pair.indexOf("=");
        return eq < 0 ? [pair, ""] : [pair.slice(0, eq).trim(), unquote(pair.slice(eq + 1).trim())];
      }),
  );
}

const SPIFFE = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** A SPIFFE id of Istio's shape, or null. */
export function parseSpiffe(uri: string): SpiffeId | null {
  const m = SPIFFE.exec(uri);
  if (!m) return null;
  return { uri, trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! };
}

/**
 * The authenticated peer of the hop next to us: the `URI` of the last XFCC element, as a SPIFFE id;
 * an Error saying what is missing or malformed.
 */
export function peerFromXfcc(header: string | undefined): SpiffeId | Error {
  if (header === undefined || header.trim() === "")
    return new Error("x-forwarded-client-cert: absent (no mutual TLS peer, or the sidecar does not set it)");
  const elements = parseXfcc(header);
  const last = elements[elements.length - 1]!;
  const uris = last.filter(([k]) => k.toLowerCase() === "uri").map(([, v]) => v);
  if (uris.length !== 1)
    return new Error(`x-forwarded-client-cert: last element has ${uris.length} URI fields, expected 1`);
  const id = parseSpiffe(uris[0]!);
  if (!id)
    return new Error(
      `x-forwarded-client-cert: URI ${JSON.stringify(uris[0])} is not spiffe://<trust-domain>/ns/<ns>/sa/<sa>`,
    );
  return id;
}
