/**
 * Start-up refusal of placeholder secrets: a value shipped in a manifest or a doc
 * (`change-me-before-install`, kustomize's `set-by-kustomize`, ...) is known to every reader, so a
 * controller running with one is as open as one running with none.
 */

/** Values and prefixes that only ever appear as stand-ins for a real secret. */
const PLACEHOLDERS = [
  /^change[-_ ]?me/i,
  /^replace[-_ ]?me/i,
  /^set[-_ ]by[-_ ]/i,
  /^(secret|token|password|passwd|changeit|example|default|test|todo|none|null|x+|0+)$/i,
  /^<.*>$/,
  /^\$\{.*\}$/,
];

/** Why `value` of `field` must not be used as a secret, naming both; null when it may. */
export function placeholderSecret(field: string, value: string): string | null {
  const v = value.trim();
  if (!PLACEHOLDERS.some((p) => p.test(v))) return null;
  return `${field}: refusing placeholder secret ${JSON.stringify(v)}; generate a real one, e.g. \`openssl rand -hex 32\``;
}

/** Why `value` of `field` is too weak to key an HMAC (placeholder or shorter than `minLength`); null when fine. */
export function weakSecret(field: string, value: string, minLength = 32): string | null {
  const placeholder = placeholderSecret(field, value);
  if (placeholder) return placeholder;
  if (value.length >= minLength) return null;
  return `${field}: secret is ${value.length} characters, at least ${minLength} are needed; generate one with \`openssl rand -hex 32\``;
}
