/**
 * JSON payloads of the data channel: OpenDataChannelInput (§2.2), acknowledge (§4.2),
 * handshake (§7), channel_closed (§9.6) and flags (§9.4). Pure: bytes in, values out.
 *
 * @example
 * ```ts
 * const bytes = encodeAcknowledge({
 *   AcknowledgedMessageType: "output_stream_data",
 *   AcknowledgedMessageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
 *   AcknowledgedMessageSequenceNumber: 5,
 *   IsSequentialMessage: true,
 * });
 * decodeAcknowledge(bytes).AcknowledgedMessageSequenceNumber; // 5
 * ```
 * @module
 */

import { ProtocolError } from "./protocol_error.ts";
import { allocBytes } from "../bytes.ts";

/** The first (text) frame on a new websocket. Field order as the reference writes it. */
export interface OpenDataChannelInput {
  MessageSchemaVersion: "1.0";
  RequestId: string;
  TokenValue: string;
  ClientId: string;
  ClientVersion: string;
}

/** The payload of an `acknowledge` message. */
export interface AcknowledgeContent {
  AcknowledgedMessageType: string;
  AcknowledgedMessageId: string;
  AcknowledgedMessageSequenceNumber: number;
  IsSequentialMessage: boolean;
}

/** One action the agent asks the client to perform in the HandshakeRequest. */
export interface RequestedClientAction {
  ActionType: string;
  ActionParameters?: unknown;
}

/** The HandshakeRequest payload (PayloadType 5). */
export interface HandshakeRequestPayload {
  AgentVersion: string;
  RequestedClientActions: RequestedClientAction[];
}

/** ActionStatus values in a HandshakeResponse. */
export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const;

/** One processed action in the HandshakeResponse. */
export interface ProcessedClientAction {
  ActionType: string;
  ActionStatus: number;
  ActionResult: unknown;
  Error: string;
}

/** The HandshakeResponse payload (PayloadType 6). */
export interface HandshakeResponsePayload {
  ClientVersion: string;
  ProcessedClientActions: ProcessedClientAction[];
  Errors: string[] | null;
}

/** The HandshakeComplete payload (PayloadType 7). */
export interface HandshakeCompletePayload {
  HandshakeTimeToComplete: number;
  CustomerMessage: string;
}

/** The channel_closed payload (MGS to client). */
export interface ChannelClosedPayload {
  MessageId: string;
  CreatedDate: string;
  DestinationId: string;
  SessionId: string;
  MessageType: "channel_closed";
  SchemaVersion: number;
  Output: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** For ASCII, which cannot be invalid UTF-8: a non-fatal decoder is several times faster. */
const asciiDecoder = new TextDecoder();

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

/** Serializes a JSON payload to UTF-8 bytes. */
export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value);
  const bytes = allocBytes(text.length * 3); // the most UTF-8 a UTF-16 string can need
  return bytes.subarray(0, encoder.encodeInto(text, bytes).written);
}

/** Parses a UTF-8 JSON payload into an object, or throws ProtocolError naming `what`. */
export function decodeJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(isAscii(bytes) ? asciiDecoder.decode(bytes) : decoder.decode(bytes));
  } catch {
    throw new ProtocolError(`Cannot parse ${what}: not UTF-8 JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError(`Cannot parse ${what}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * String() or Number() of a parsed JSON value. Both throw a TypeError for an object whose own
 * "toString" and "valueOf" keys shadow the methods (`{"toString":1}`); that is a ProtocolError.
 */
function convert<T>(to: (value: unknown) => T, value: unknown, what: string): T {
  try {
    return to(value);
  } catch {
    throw new ProtocolError(`Cannot parse ${what}: a field is not a string or number`);
  }
}

/** Encodes an acknowledge payload with the reference's field order. */
export function encodeAcknowledge(ack: AcknowledgeContent): Uint8Array {
  return encodeJson({
    AcknowledgedMessageType: ack.AcknowledgedMessageType,
    AcknowledgedMessageId: ack.AcknowledgedMessageId,
    AcknowledgedMessageSequenceNumber: ack.AcknowledgedMessageSequenceNumber,
    IsSequentialMessage: ack.IsSequentialMessage,
  });
}

/** Decodes an acknowledge payload; only the sequence number matters to the receiver (§4.4). */
export function decodeAcknowledge(bytes: Uint8Array): AcknowledgeContent {
  const o = decodeJsonObject(bytes, "acknowledge");
  const seq = o.AcknowledgedMessageSequenceNumber;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
    throw new ProtocolError("Cannot parse acknowledge: bad AcknowledgedMessageSequenceNumber");
  }
  return {
    AcknowledgedMessageType: convert(String, o.AcknowledgedMessageType ?? "", "acknowledge"),
    AcknowledgedMessageId: convert(String, o.AcknowledgedMessageId ?? "", "acknowledge"),
    AcknowledgedMessageSequenceNumber: seq,
    IsSequentialMessage: o.IsSequentialMessage !== false,
  };
}

/** Decodes a HandshakeRequest payload. */
export function decodeHandshakeRequest(bytes: Uint8Array): HandshakeRequestPayload {
  const o = decodeJsonObject(bytes, "HandshakeRequest");
  const actions = o.RequestedClientActions ?? [];
  if (!Array.isArray(actions)) {
    throw new ProtocolError("Cannot parse HandshakeRequest: RequestedClientActions is not a list");
  }
  return {
    AgentVersion: convert(String, o.AgentVersion ?? "", "HandshakeRequest"),
    RequestedClientActions: actions.map((a) => {
      if (typeof a !== "object" || a === null || typeof a.ActionType !== "string") {
        throw new ProtocolError("Cannot parse HandshakeRequest: bad RequestedClientAction");
      }
      return { ActionType: a.ActionType, ActionParameters: a.ActionParameters };
    }),
  };
}

/** Encodes a HandshakeResponse with the reference's field order (byte-exact, spec §7.2). */
export function encodeHandshakeResponse(response: HandshakeResponsePayload): Uint8Array {
  return encodeJson({
    ClientVersion: response.ClientVersion,
    ProcessedClientActions: response.ProcessedClientActions.map((a) => ({
      ActionType: a.ActionType,
      ActionStatus: a.ActionStatus,
      ActionResult: a.ActionResult,
      Error: a.Error,
    })),
    Errors: response.Errors,
  });
}

/** Decodes a HandshakeResponse (used by the emulator's agent). */
export function decodeHandshakeResponse(bytes: Uint8Array): HandshakeResponsePayload {
  const o = decodeJsonObject(bytes, "HandshakeResponse");
  const actions = o.ProcessedClientActions ?? [];
  if (!Array.isArray(actions)) {
    throw new ProtocolError("Cannot parse HandshakeResponse: ProcessedClientActions is not a list");
  }
  return {
    ClientVersion: convert(String, o.ClientVersion ?? "", "HandshakeResponse"),
    ProcessedClientActions: actions as ProcessedClientAction[],
    Errors: Array.isArray(o.Errors)
      ? o.Errors.map((e) => convert(String, e, "HandshakeResponse"))
      : null,
  };
}

/** Decodes a HandshakeComplete payload. */
export function decodeHandshakeComplete(bytes: Uint8Array): HandshakeCompletePayload {
  const o = decodeJsonObject(bytes, "HandshakeComplete");
  return {
    HandshakeTimeToComplete: convert(Number, o.HandshakeTimeToComplete ?? 0, "HandshakeComplete"),
    CustomerMessage: typeof o.CustomerMessage === "string" ? o.CustomerMessage : "",
  };
}

/** Decodes a channel_closed payload; tolerant, since only Output is shown to the user. */
export function decodeChannelClosed(bytes: Uint8Array): Partial<ChannelClosedPayload> {
  if (bytes.length === 0) return {};
  const o = decodeJsonObject(bytes, "channel_closed");
  return {
    SessionId: typeof o.SessionId === "string" ? o.SessionId : undefined,
    Output: typeof o.Output === "string" ? o.Output : "",
  };
}

/** Encodes a Flag payload (4-byte big-endian uint32). */
export function encodeFlag(flag: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, flag);
  return bytes;
}

/** Decodes a Flag payload. */
export function decodeFlag(bytes: Uint8Array): number {
  if (bytes.length !== 4) throw new ProtocolError(`Cannot parse flag: ${bytes.length} bytes`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

/** Serializes the OpenDataChannelInput text frame with the reference's field order. */
export function encodeOpenDataChannelInput(input: OpenDataChannelInput): string {
  return JSON.stringify({
    MessageSchemaVersion: input.MessageSchemaVersion,
    RequestId: input.RequestId,
    TokenValue: input.TokenValue,
    ClientId: input.ClientId,
    ClientVersion: input.ClientVersion,
  });
}
