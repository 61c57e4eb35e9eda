// Hex digits, read by the JSON readers (`\u` escapes) and the pin-token check (the MAC). Pure
// AssemblyScript.

/** The value of ASCII hex digit `c` (either case), or -1 for any other character. */
export function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
