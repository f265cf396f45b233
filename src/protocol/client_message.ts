/**
 * The binary "ClientMessage" frame (spec §3.1): a 120-byte big-endian header and a payload.
 * Pure functions over Uint8Array; no I/O.
 *
 * @example
 * ```ts
 * const frame = encodeClientMessage({
 *   messageType: "input_stream_data", sequenceNumber: 7, flags: 0n, payloadType: 1,
 *   messageId: crypto.randomUUID(), createdDate: Date.now(), payload: new TextEncoder().encode("hi"),
 * });
 * const message = decodeClientMessage(frame);
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { decodeMessageId, encodeMessageId } from "./message_id.ts";
import { ProtocolError } from "./protocol_error.ts";

/** Byte offsets of the header fields. */
export const Offset = {
  HeaderLength: 0,
  MessageType: 4,
  SchemaVersion: 36,
  CreatedDate: 40,
  SequenceNumber: 48,
  Flags: 56,
  MessageId: 64,
  PayloadDigest: 80,
  PayloadType: 112,
  PayloadLength: 116,
  Payload: 120,
} as const;

/** The value every writer puts in HeaderLength: the offset of PayloadLength. */
export const HEADER_LENGTH = 116;
const MESSAGE_TYPE_SIZE = 32;
const SCHEMA_VERSION = 1;

/** A decoded frame. */
export interface ClientMessage {
  headerLength: number;
  messageType: string;
  schemaVersion: number;
  /** Milliseconds since the Unix epoch. */
  createdDate: number;
  sequenceNumber: number;
  flags: bigint;
  messageId: string;
  payloadDigest: Uint8Array;
  payloadType: number;
  payloadLength: number;
  payload: Uint8Array;
}

/** What a writer chooses; the codec fills in the rest (lengths, digest, schema). */
export interface OutgoingMessage {
  messageType: string;
  createdDate: number;
  sequenceNumber: number;
  flags: bigint;
  messageId: string;
  payloadType: number;
  payload: Uint8Array;
}

/** SHA-256 of the payload bytes, as carried in PayloadDigest. */
export function payloadDigest(payload: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(payload).digest());
}

/** Encodes one frame. Throws ProtocolError for an empty stream payload or an oversized type. */
export function encodeClientMessage(message: OutgoingMessage): Uint8Array {
  const typeBytes = new TextEncoder().encode(message.messageType);
  if (typeBytes.length === 0 || typeBytes.length > MESSAGE_TYPE_SIZE) {
    throw new ProtocolError(`Cannot encode MessageType "${message.messageType}"`);
  }
  const { payload } = message;
  const frame = new Uint8Array(Offset.Payload + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(Offset.HeaderLength, HEADER_LENGTH);
  frame.fill(0x20, Offset.MessageType, Offset.MessageType + MESSAGE_TYPE_SIZE);
  frame.set(typeBytes, Offset.MessageType);
  view.setUint32(Offset.SchemaVersion, SCHEMA_VERSION);
  view.setBigUint64(Offset.CreatedDate, BigInt(message.createdDate));
  view.setBigInt64(Offset.SequenceNumber, BigInt(message.sequenceNumber));
  view.setBigUint64(Offset.Flags, message.flags);
  frame.set(encodeMessageId(message.messageId), Offset.MessageId);
  frame.set(payloadDigest(payload), Offset.PayloadDigest);
  view.setUint32(Offset.PayloadType, message.payloadType);
  view.setUint32(Offset.PayloadLength, payload.length);
  frame.set(payload, Offset.Payload);
  return frame;
}

/**
 * Decodes one frame. The payload is everything after HeaderLength + 4, as both reference peers
 * read it. Throws ProtocolError for frames that cannot be parsed (never panics on short input).
 */
export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  if (frame.length < Offset.Payload) {
    throw new ProtocolError(`Cannot decode frame: ${frame.length} bytes is shorter than a header`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(Offset.HeaderLength);
  const payloadStart = headerLength + 4;
  if (headerLength < HEADER_LENGTH || payloadStart > frame.length) {
    throw new ProtocolError(`Cannot decode frame: HeaderLength ${headerLength} does not fit`);
  }
  const sequenceNumber = view.getBigInt64(Offset.SequenceNumber);
  const createdDate = view.getBigUint64(Offset.CreatedDate);
  if (sequenceNumber > BigInt(Number.MAX_SAFE_INTEGER) || sequenceNumber < 0n) {
    throw new ProtocolError(`Cannot decode frame: SequenceNumber ${sequenceNumber} out of range`);
  }
  return {
    headerLength,
    messageType: decodeMessageType(frame.subarray(Offset.MessageType, Offset.SchemaVersion)),
    schemaVersion: view.getUint32(Offset.SchemaVersion),
    createdDate: createdDate > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(createdDate),
    sequenceNumber: Number(sequenceNumber),
    flags: view.getBigUint64(Offset.Flags),
    messageId: decodeMessageId(frame.subarray(Offset.MessageId, Offset.PayloadDigest)),
    payloadDigest: frame.slice(Offset.PayloadDigest, Offset.PayloadType),
    payloadType: view.getUint32(Offset.PayloadType),
    payloadLength: view.getUint32(Offset.PayloadLength),
    payload: frame.slice(payloadStart),
  };
}

/**
 * Receive validation (spec §3.5, step 3 and 4). Returns the reason a message must be dropped,
 * or undefined when it is acceptable. Publication messages skip validation.
 */
export function validationError(message: ClientMessage): string | undefined {
  if (message.messageType === "start_publication" || message.messageType === "pause_publication") {
    return undefined;
  }
  if (message.messageType === "") return "empty MessageType";
  if (message.createdDate <= 0) return "CreatedDate is 0";
  if (
    message.payloadLength !== 0 &&
    !bytesEqual(payloadDigest(message.payload), message.payloadDigest)
  ) {
    return "PayloadDigest does not match the payload";
  }
  return undefined;
}

function decodeMessageType(bytes: Uint8Array): string {
  // Strip NUL padding at either end, then whitespace (spec §3.1).
  let start = 0;
  let end = bytes.length;
  while (start < end && bytes[start] === 0) start++;
  while (end > start && bytes[end - 1] === 0) end--;
  return new TextDecoder().decode(bytes.subarray(start, end)).trim();
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
