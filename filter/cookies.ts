// Cookie header parsing (RFC 6265 §5.4 shape: `name=value; name2=value2`). Lenient on input,
// never throws. Pure AssemblyScript: no host imports.

/**
 * The value of the first cookie called `name` in a Cookie header, or null. Whitespace around
 * names and values is ignored and one pair of surrounding double quotes is removed.
 */
export function getCookie(header: string, name: string): string | null {
  const n = header.length;
  let start = 0;
  while (start < n) {
    let end = header.indexOf(";", start);
    if (end < 0) end = n;
    // Looked for inside this pair only: a search to the end of the header for every pair would
    // make a Cookie of many `;` and no `=` cost quadratic time.
    const eq = indexIn(header, 0x3d, start, end);
    if (eq >= 0 && trimmedEquals(header, start, eq, name)) return unquote(trim(header, eq + 1, end));
    start = end + 1;
  }
  return null;
}

/** Index of the first `c` in s[from, to), or -1. */
function indexIn(s: string, c: i32, from: i32, to: i32): i32 {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) == c) return i;
  return -1;
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09;
}

/** Whether header[from, to) equals `name` once surrounding spaces are dropped, without allocating. */
function trimmedEquals(s: string, from: i32, to: i32, name: string): bool {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  if (to - from != name.length) return false;
  for (let i = 0; i < name.length; i++) {
    if (s.charCodeAt(from + i) != name.charCodeAt(i)) return false;
  }
  return true;
}

function trim(s: string, from: i32, to: i32): string {
  while (from < to && isSpace(s.charCodeAt(from))) from++;
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return s.substring(from, to);
}

function unquote(v: string): string {
  if (v.length >= 2 && v.charCodeAt(0) == 0x22 && v.charCodeAt(v.length - 1) == 0x22) {
    return v.substring(1, v.length - 1);
  }
  return v;
}
