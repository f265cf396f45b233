/**
 * A fast path for the short ASCII strings every frame carries (MessageType, acknowledge JSON):
 * converting them in JavaScript avoids a call into the runtime's text codec per frame.
 *
 * @example
 * ```ts
 * asciiText(new Uint8Array([0x6f, 0x6b])); // "ok"
 * asciiBytes("ok"); // Uint8Array [0x6f, 0x6b]
 * asciiText(new Uint8Array([0xc3, 0xa9])); // undefined: not ASCII, use a TextDecoder
 * ```
 * @module
 */

/** Longest input the fast paths take; longer text goes through the runtime's codec. */
const MAX_FAST = 1024;

/** `bytes` as a string if every byte is ASCII (and there are few), else undefined. */
export function asciiText(bytes: Uint8Array): string | undefined {
  if (bytes.length > MAX_FAST) return undefined;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return undefined;
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** `text` as bytes if every character is ASCII (and there are few), else undefined. */
export function asciiBytes(text: string): Uint8Array | undefined {
  if (text.length > MAX_FAST) return undefined;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return undefined;
    bytes[i] = code;
  }
  return bytes;
}
