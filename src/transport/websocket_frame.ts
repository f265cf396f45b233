/**
 * RFC 6455 framing, pure: encode client frames (always masked) and parse server frames from a
 * byte stream that may split or join them arbitrarily.
 *
 * @example
 * ```ts
 * const bytes = encodeFrame(Opcode.Binary, payload, crypto.getRandomValues(new Uint8Array(4)));
 * const parser = new FrameParser();
 * for (const frame of parser.push(chunk)) console.log(frame.opcode, frame.payload.length);
 * ```
 * @module
 */

import { allocBytes, concatBytes } from "../bytes.ts";

/** Frame opcodes. */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** One parsed frame. */
export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** A frame the peer should never send, or one past the size limit. */
export class WebSocketProtocolError extends Error {
  override name = "WebSocketProtocolError";
}

/** Encodes one final frame; `mask` (4 bytes) is required for client frames. */
export function encodeFrame(opcode: number, payload: Uint8Array, mask?: Uint8Array): Uint8Array {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const headerLength = 2 + lengthBytes + (mask ? 4 : 0);
  const frame = allocBytes(headerLength + length);
  frame[0] = 0x80 | opcode;
  const maskBit = mask ? 0x80 : 0;
  if (lengthBytes === 0) frame[1] = maskBit | length;
  else if (lengthBytes === 2) {
    frame[1] = maskBit | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = maskBit | 127;
    new DataView(frame.buffer, frame.byteOffset, 10).setBigUint64(2, BigInt(length));
  }
  if (!mask) {
    frame.set(payload, headerLength);
    return frame;
  }
  frame.set(mask, 2 + lengthBytes);
  maskInto(frame, headerLength, payload, mask);
  return frame;
}

/** Writes `payload` XOR `mask` into `out` at `offset`: a 32-bit word per step when aligned. */
function maskInto(out: Uint8Array, offset: number, payload: Uint8Array, mask: Uint8Array): void {
  const length = payload.length;
  let i = 0;
  if (((out.byteOffset + offset) & 3) === 0 && (payload.byteOffset & 3) === 0) {
    const words = length >>> 2;
    const to = new Uint32Array(out.buffer, out.byteOffset + offset, words);
    const from = new Uint32Array(payload.buffer, payload.byteOffset, words);
    const key = mask[0] | (mask[1] << 8) | (mask[2] << 16) | (mask[3] << 24); // little-endian
    const word = LITTLE_ENDIAN ? key : (key << 24) | ((key << 8) & 0xff0000) |
      ((key >>> 8) & 0xff00) | (key >>> 24);
    for (let w = 0; w < words; w++) to[w] = from[w] ^ word;
    i = words << 2;
  } else {
    const [m0, m1, m2, m3] = mask;
    for (; i + 4 <= length; i += 4) {
      out[offset + i] = payload[i] ^ m0;
      out[offset + i + 1] = payload[i + 1] ^ m1;
      out[offset + i + 2] = payload[i + 2] ^ m2;
      out[offset + i + 3] = payload[i + 3] ^ m3;
    }
  }
  for (; i < length; i++) out[offset + i] = payload[i] ^ mask[i & 3];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Incremental parser of server frames; control frames may arrive between fragments. */
export class FrameParser {
  #buffer: Uint8Array = new Uint8Array(0);
  readonly #maxPayload: number;

  constructor(maxPayload = 16 * 1024 * 1024) {
    this.#maxPayload = maxPayload;
  }

  /** Adds bytes and returns every frame now complete. */
  push(chunk: Uint8Array): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : concatBytes([this.#buffer, chunk]);
    const frames: Frame[] = [];
    let offset = 0;
    for (;;) {
      const frame = this.#parseAt(offset);
      if (!frame) break;
      frames.push(frame.frame);
      offset = frame.end;
    }
    this.#buffer = offset === 0 ? this.#buffer : this.#buffer.slice(offset);
    return frames;
  }

  #parseAt(offset: number): { frame: Frame; end: number } | undefined {
    const b = this.#buffer;
    if (b.length - offset < 2) return undefined;
    const fin = (b[offset] & 0x80) !== 0;
    if ((b[offset] & 0x70) !== 0) throw new WebSocketProtocolError("reserved bits set");
    const opcode = b[offset] & 0x0f;
    const masked = (b[offset + 1] & 0x80) !== 0;
    let length = b[offset + 1] & 0x7f;
    let cursor = offset + 2;
    if (length === 126) {
      if (b.length - cursor < 2) return undefined;
      length = (b[cursor] << 8) | b[cursor + 1];
      cursor += 2;
    } else if (length === 127) {
      if (b.length - cursor < 8) return undefined;
      const big = new DataView(b.buffer, b.byteOffset + cursor, 8).getBigUint64(0);
      if (big > BigInt(this.#maxPayload)) throw new WebSocketProtocolError("frame too large");
      length = Number(big);
      cursor += 8;
    }
    if (length > this.#maxPayload) throw new WebSocketProtocolError("frame too large");
    if (opcode >= 0x8 && (length > 125 || !fin)) {
      throw new WebSocketProtocolError("bad control frame");
    }
    const maskKey = masked ? b.subarray(cursor, cursor + 4) : undefined;
    if (masked) cursor += 4;
    if (b.length - cursor < length) return undefined;
    // An unmasked frame's payload can be a view (push never writes into its chunks).
    const body = b.subarray(cursor, cursor + length);
    let payload = body;
    if (maskKey) {
      payload = allocBytes(length);
      maskInto(payload, 0, body, maskKey);
    }
    return { frame: { fin, opcode, payload }, end: cursor + length };
  }
}
