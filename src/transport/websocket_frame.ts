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

import { concatBytes } from "../bytes.ts";

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
  const frame = new Uint8Array(headerLength + length);
  const view = new DataView(frame.buffer);
  frame[0] = 0x80 | opcode;
  const maskBit = mask ? 0x80 : 0;
  if (lengthBytes === 0) frame[1] = maskBit | length;
  else if (lengthBytes === 2) {
    frame[1] = maskBit | 126;
    view.setUint16(2, length);
  } else {
    frame[1] = maskBit | 127;
    view.setBigUint64(2, BigInt(length));
  }
  if (!mask) {
    frame.set(payload, headerLength);
    return frame;
  }
  frame.set(mask, 2 + lengthBytes);
  for (let i = 0; i < length; i++) frame[headerLength + i] = payload[i] ^ mask[i & 3];
  return frame;
}

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
    const payload = b.slice(cursor, cursor + length);
    if (maskKey) { for (let i = 0; i < length; i++) payload[i] ^= maskKey[i & 3]; }
    return { frame: { fin, opcode, payload }, end: cursor + length };
  }
}
