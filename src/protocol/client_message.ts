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

import { readMessageId, writeMessageId } from "./message_id.ts";
import { MessageType } from "./message_type.ts";
import { sha256Into } from "./sha256.ts";
import { allocBytes, bytesEqual } from "../bytes.ts";
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
const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
  /** A view into the decoded frame, not a copy. */
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
  const digest = new Uint8Array(32);
  sha256Into(payload, digest, 0);
  return digest;
}

/** Scratch space for the digest a received frame is checked against. */
const received = new Uint8Array(32);

/** The space-padded 32-byte MessageType field of each type written so far. */
const typeFields = new Map<string, Uint8Array>();
for (const type of Object.values(MessageType)) typeField(type);

/** MessageType as its space-padded 32-byte field; throws ProtocolError if it does not fit. */
function typeField(messageType: string): Uint8Array {
  let field = typeFields.get(messageType);
  if (field) return field;
  field = new Uint8Array(MESSAGE_TYPE_SIZE);
  const { read, written } = encoder.encodeInto(messageType, field);
  if (messageType.length === 0 || read < messageType.length) {
    throw new ProtocolError(`Cannot encode MessageType "${messageType}"`);
  }
  field.fill(0x20, written); // padded with spaces
  if (typeFields.size < 64) typeFields.set(messageType, field);
  return field;
}

/** Encodes one frame. Throws ProtocolError for an empty stream payload or an oversized type. */
export function encodeClientMessage(message: OutgoingMessage): Uint8Array {
  const { payload } = message;
  const frame = allocBytes(Offset.Payload + payload.length);
  frame.set(typeField(message.messageType), Offset.MessageType);
  setUint32(frame, Offset.HeaderLength, HEADER_LENGTH);
  setUint32(frame, Offset.SchemaVersion, SCHEMA_VERSION);
  setUint64(frame, Offset.CreatedDate, message.createdDate);
  setUint64(frame, Offset.SequenceNumber, message.sequenceNumber);
  setUint32(frame, Offset.Flags, Number(message.flags >> 32n));
  setUint32(frame, Offset.Flags + 4, Number(message.flags & 0xffffffffn));
  writeMessageId(message.messageId, frame, Offset.MessageId);
  sha256Into(payload, frame, Offset.PayloadDigest);
  setUint32(frame, Offset.PayloadType, message.payloadType);
  setUint32(frame, Offset.PayloadLength, payload.length);
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
  // Plain byte reads, not a DataView: decoding runs for every frame and allocates little.
  const headerLength = getUint32(frame, Offset.HeaderLength);
  const payloadStart = headerLength + 4;
  if (headerLength < HEADER_LENGTH || payloadStart > frame.length) {
    throw new ProtocolError(`Cannot decode frame: HeaderLength ${headerLength} does not fit`);
  }
  const sequenceNumber = getUint64(frame, Offset.SequenceNumber);
  const createdDate = getUint64(frame, Offset.CreatedDate);
  if (sequenceNumber === undefined) {
    const value = new DataView(frame.buffer, frame.byteOffset).getBigInt64(Offset.SequenceNumber);
    throw new ProtocolError(`Cannot decode frame: SequenceNumber ${value} out of range`);
  }
  return {
    headerLength,
    messageType: decodeMessageType(frame),
    schemaVersion: getUint32(frame, Offset.SchemaVersion),
    createdDate: createdDate ?? -1,
    sequenceNumber,
    flags: getFlags(frame),
    messageId: readMessageId(frame, Offset.MessageId),
    payloadDigest: frame.subarray(Offset.PayloadDigest, Offset.PayloadType),
    payloadType: getUint32(frame, Offset.PayloadType),
    payloadLength: getUint32(frame, Offset.PayloadLength),
    payload: frame.subarray(payloadStart),
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
  if (message.payloadLength === 0) return undefined;
  sha256Into(message.payload, received, 0);
  return bytesEqual(received, message.payloadDigest)
    ? undefined
    : "PayloadDigest does not match the payload";
}

/** The MessageType field of `frame`. */
function decodeMessageType(frame: Uint8Array): string {
  for (const [type, field] of typeFields) { // the types we write come back as we write them
    if (bytesEqualAt(frame, Offset.MessageType, field)) return type;
  }
  // Strip NUL padding at either end, then whitespace (spec §3.1).
  let start = Offset.MessageType;
  let end = Offset.SchemaVersion;
  while (start < end && frame[start] === 0) start++;
  while (end > start && frame[end - 1] === 0) end--;
  return decoder.decode(frame.subarray(start, end)).trim();
}

/** Writes a big-endian uint32. */
function setUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}

/** Writes a non-negative safe integer as a big-endian uint64, without a BigInt. */
function setUint64(bytes: Uint8Array, offset: number, value: number): void {
  setUint32(bytes, offset, Math.floor(value / 2 ** 32));
  setUint32(bytes, offset + 4, value >>> 0);
}

/** Reads a big-endian uint32. */
function getUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) >>> 0;
}

/** Reads a big-endian uint64; undefined if it is not a safe integer (or negative as int64). */
function getUint64(bytes: Uint8Array, offset: number): number | undefined {
  const high = getUint32(bytes, offset);
  if (high > 0x1fffff) return undefined; // 2^53 and above, or the sign bit set
  return high * 2 ** 32 + getUint32(bytes, offset + 4);
}

/** The Flags field; the values peers send (0…3) come from a table instead of a new BigInt. */
function getFlags(frame: Uint8Array): bigint {
  const high = getUint32(frame, Offset.Flags);
  const low = getUint32(frame, Offset.Flags + 4);
  if (high === 0 && low < SMALL_FLAGS.length) return SMALL_FLAGS[low];
  return (BigInt(high) << 32n) | BigInt(low);
}

const SMALL_FLAGS = [0n, 1n, 2n, 3n];

/** Whether `a` holds all of `b` at `offset`. */
function bytesEqualAt(a: Uint8Array, offset: number, b: Uint8Array): boolean {
  if (offset + b.length > a.length) return false;
  for (let i = 0; i < b.length; i++) if (a[offset + i] !== b[i]) return false;
  return true;
}
