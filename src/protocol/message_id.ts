/**
 * MessageId encoding (spec §3.2): the UUID's 16 bytes go on the wire with their 8-byte halves
 * swapped, i.e. Java's UUID written as (leastSignificantBits, mostSignificantBits).
 *
 * @example
 * ```ts
 * const wire = encodeMessageId("dd01e56b-ff48-483e-a508-b5f073f31b16");
 * // wire = a5 08 b5 f0 73 f3 1b 16 dd 01 e5 6b ff 48 48 3e
 * decodeMessageId(wire); // "dd01e56b-ff48-483e-a508-b5f073f31b16"
 * ```
 * @module
 */

import { ProtocolError } from "./protocol_error.ts";

const DASH = 0x2d;

/** Encodes a UUID text as the 16 wire bytes of a MessageId (halves swapped). */
export function encodeMessageId(uuid: string): Uint8Array {
  const wire = new Uint8Array(16);
  writeMessageId(uuid, wire, 0);
  return wire;
}

/** Writes the 16 wire bytes of `uuid` into `target` at `offset`, without allocating. */
export function writeMessageId(uuid: string, target: Uint8Array, offset: number): void {
  if (
    uuid.length !== 36 || uuid.charCodeAt(8) !== DASH || uuid.charCodeAt(13) !== DASH ||
    uuid.charCodeAt(18) !== DASH || uuid.charCodeAt(23) !== DASH
  ) throw badUuid(uuid);
  // Text byte t (hex digits at c, c + 1, hyphens skipped) goes to wire byte (t + 8) % 16.
  for (let t = 0, c = 0; t < 16; t++, c += 2) {
    if (c === 8 || c === 13 || c === 18 || c === 23) c++;
    const high = hexValue(uuid.charCodeAt(c));
    const low = hexValue(uuid.charCodeAt(c + 1));
    if (high < 0 || low < 0) throw badUuid(uuid);
    target[offset + ((t + 8) & 15)] = high * 16 + low;
  }
}

/** Decodes 16 wire bytes (halves swapped) into lower-case 8-4-4-4-12 UUID text. */
export function decodeMessageId(wire: Uint8Array): string {
  if (wire.length !== 16) throw new ProtocolError(`Cannot decode MessageId: ${wire.length} bytes`);
  return readMessageId(wire, 0);
}

/** Reads the 16 wire bytes at `offset` of `bytes` (at least offset + 16 long) as UUID text. */
export function readMessageId(bytes: Uint8Array, offset: number): string {
  // Character codes first, then one string: concatenating 20 pieces makes 20 strings per frame.
  for (let t = 0, c = 0; t < 16; t++, c += 2) {
    if (c === 8 || c === 13 || c === 18 || c === 23) c++;
    const byte = bytes[offset + ((t + 8) & 15)];
    TEXT_CODES[c] = HEX_CODES[byte >> 4];
    TEXT_CODES[c + 1] = HEX_CODES[byte & 15];
  }
  return String.fromCharCode.apply(null, TEXT_CODES);
}

/** Character codes of "0"…"9", "a"…"f". */
const HEX_CODES = Array.from("0123456789abcdef", (digit) => digit.charCodeAt(0));
/** The 36 character codes of the text form being built, hyphens in place. */
const TEXT_CODES: number[] = Array.from(
  "00000000-0000-0000-0000-000000000000",
  (ch) => ch.charCodeAt(0),
);

function hexValue(charCode: number): number {
  if (charCode >= 0x30 && charCode <= 0x39) return charCode - 0x30; // 0-9
  const lower = charCode | 0x20; // A-F and a-f alike
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function badUuid(uuid: string): ProtocolError {
  return new ProtocolError(`Cannot encode MessageId: "${uuid}"`);
}
