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

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Encodes a UUID text as the 16 wire bytes of a MessageId (halves swapped). */
export function encodeMessageId(uuid: string): Uint8Array {
  if (!UUID_PATTERN.test(uuid)) throw new ProtocolError(`Cannot encode MessageId: "${uuid}"`);
  const hex = uuid.replaceAll("-", "");
  const text = new Uint8Array(16);
  for (let i = 0; i < 16; i++) text[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const wire = new Uint8Array(16);
  wire.set(text.subarray(8, 16), 0);
  wire.set(text.subarray(0, 8), 8);
  return wire;
}

/** Decodes 16 wire bytes (halves swapped) into lower-case 8-4-4-4-12 UUID text. */
export function decodeMessageId(wire: Uint8Array): string {
  if (wire.length !== 16) throw new ProtocolError(`Cannot decode MessageId: ${wire.length} bytes`);
  const text = new Uint8Array(16);
  text.set(wire.subarray(8, 16), 0);
  text.set(wire.subarray(0, 8), 8);
  const hex = Array.from(text, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
