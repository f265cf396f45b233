/**
 * Minimal helpers for the SSH wire encoding (RFC 4251 §5) and base64, without dependencies.
 * @module
 */

import { concatBytes as concatAll } from "../bytes.ts";

/**
 * Encodes `n` as a 4-byte big-endian unsigned integer (`uint32`).
 *
 * @example
 * ```ts
 * encodeUint32(1); // Uint8Array [0, 0, 0, 1]
 * ```
 */
export function encodeUint32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`uint32 out of range: ${n}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

/**
 * Encodes an SSH `string`: a `uint32` length followed by the bytes. Text is UTF-8 encoded.
 *
 * @example
 * ```ts
 * encodeString("none"); // Uint8Array [0, 0, 0, 4, 110, 111, 110, 101]
 * ```
 */
export function encodeString(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return concatBytes(encodeUint32(bytes.length), bytes);
}

/**
 * Concatenates byte arrays into a new `Uint8Array`.
 *
 * @example
 * ```ts
 * concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concatAll(parts);
}

/**
 * Standard base64 (with `=` padding) of `bytes`.
 *
 * @example
 * ```ts
 * encodeBase64(new Uint8Array([0xff])); // "/w=="
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 (padding optional, whitespace ignored).
 *
 * @example
 * ```ts
 * decodeBase64("/w=="); // Uint8Array [255]
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Sequential reader for SSH wire data. Throws `RangeError` when reading past the end.
 *
 * @example
 * ```ts
 * const r = new SshReader(encodeString("none"));
 * r.readText(); // "none"
 * r.remaining; // 0
 * ```
 */
export class SshReader {
  #data: Uint8Array;
  #offset = 0;

  /** Wraps `data`; reads start at offset 0. */
  constructor(data: Uint8Array) {
    this.#data = data;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#data.length - this.#offset;
  }

  /** Reads `n` raw bytes (a view, not a copy). */
  readBytes(n: number): Uint8Array {
    if (n < 0 || n > this.remaining) throw new RangeError("SSH wire data truncated");
    const out = this.#data.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  /** Reads a big-endian `uint32`. */
  readUint32(): number {
    const b = this.readBytes(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
  }

  /** Reads an SSH `string` as bytes. */
  readString(): Uint8Array {
    return this.readBytes(this.readUint32());
  }

  /** Reads an SSH `string` and decodes it as UTF-8. */
  readText(): string {
    return new TextDecoder().decode(this.readString());
  }
}
