import { assertEquals, assertThrows } from "../support/assert.ts";
import {
  decodeClientMessage,
  encodeClientMessage,
  validationError,
} from "../../src/protocol/client_message.ts";
import { decodeMessageId, encodeMessageId } from "../../src/protocol/message_id.ts";
import { encodeAcknowledge } from "../../src/protocol/payloads.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!, (b) => parseInt(b, 16));
}

// Vector A, spec §3.6.
const VECTOR_A = hex(`
  00000074 696e7075745f73747265616d
  5f646174612020202020202020202020
  20202020 00000001 0000015e0baa7884
  0000000000000007 0000000000000000
  a508b5f073f31b16 dd01e56bff48483e
  239f59ed55e737c77147cf55ad0c1b03
  0b6d7ee748a7426952f9b852d5a935e5
  00000001 00000007 7061796c6f6164`);

Deno.test("MessageId: halves are swapped on the wire (spec §3.2 example)", () => {
  const wire = encodeMessageId("dd01e56b-ff48-483e-a508-b5f073f31b16");
  assertEquals(wire, hex("a508b5f073f31b16dd01e56bff48483e"));
  assertEquals(decodeMessageId(wire), "dd01e56b-ff48-483e-a508-b5f073f31b16");
});

Deno.test("encode: vector A (input_stream_data) byte for byte", () => {
  const frame = encodeClientMessage({
    messageType: "input_stream_data",
    createdDate: 1503434274948,
    sequenceNumber: 7,
    flags: 0n,
    messageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
    payloadType: 1,
    payload: new TextEncoder().encode("payload"),
  });
  assertEquals(frame.length, 127);
  assertEquals(frame, VECTOR_A);
});

Deno.test("decode: vector A", () => {
  const m = decodeClientMessage(VECTOR_A);
  assertEquals(m.headerLength, 116);
  assertEquals(m.messageType, "input_stream_data");
  assertEquals(m.schemaVersion, 1);
  assertEquals(m.createdDate, 1503434274948);
  assertEquals(m.sequenceNumber, 7);
  assertEquals(m.flags, 0n);
  assertEquals(m.messageId, "dd01e56b-ff48-483e-a508-b5f073f31b16");
  assertEquals(m.payloadType, 1);
  assertEquals(m.payloadLength, 7);
  assertEquals(new TextDecoder().decode(m.payload), "payload");
  assertEquals(validationError(m), undefined);
});

Deno.test("encode: vector B (acknowledge) header and digest", () => {
  const payload = encodeAcknowledge({
    AcknowledgedMessageType: "output_stream_data",
    AcknowledgedMessageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
    AcknowledgedMessageSequenceNumber: 5,
    IsSequentialMessage: true,
  });
  assertEquals(payload.length, 176);
  const frame = encodeClientMessage({
    messageType: "acknowledge",
    createdDate: 1700000000000,
    sequenceNumber: 0,
    flags: 3n,
    messageId: "3c1a7f4e-9b2d-4e6f-8a5b-0c1d2e3f4a5b",
    payloadType: 0,
    payload,
  });
  assertEquals(frame.length, 296);
  const expectedHeader = hex(`
    00000074 61636b6e6f776c6564676520
    20202020202020202020202020202020
    20202020 00000001 0000018bcfe56800
    0000000000000000 0000000000000003
    8a5b0c1d2e3f4a5b 3c1a7f4e9b2d4e6f
    e27c5d76907e7769eeb0bb854be46b26
    5df4087b53def781552e1c580d3d8f74
    00000000 000000b0`);
  assertEquals(frame.subarray(0, 120), expectedHeader);
  assertEquals(frame.subarray(120), payload);
});

Deno.test("decode: NUL-padded MessageType is trimmed (spec §11 item 13)", () => {
  const frame = VECTOR_A.slice();
  frame.fill(0, 4 + "input_stream_data".length, 36);
  assertEquals(decodeClientMessage(frame).messageType, "input_stream_data");
});

Deno.test("decode: short and inconsistent frames raise ProtocolError, never panic", () => {
  for (const length of [0, 1, 115, 116, 119]) {
    assertThrows(() => decodeClientMessage(VECTOR_A.slice(0, length)), ProtocolError);
  }
  const badHeaderLength = VECTOR_A.slice();
  new DataView(badHeaderLength.buffer, badHeaderLength.byteOffset).setUint32(0, 5000);
  assertThrows(() => decodeClientMessage(badHeaderLength), ProtocolError);
  const negativeSeq = VECTOR_A.slice();
  new DataView(negativeSeq.buffer, negativeSeq.byteOffset).setBigInt64(48, -1n);
  assertThrows(() => decodeClientMessage(negativeSeq), ProtocolError);
});

Deno.test("validate: corrupted digest and zero CreatedDate are rejected", () => {
  const corrupt = VECTOR_A.slice();
  corrupt[126] ^= 0xff;
  assertEquals(
    validationError(decodeClientMessage(corrupt)),
    "PayloadDigest does not match the payload",
  );
  const undated = VECTOR_A.slice();
  new DataView(undated.buffer, undated.byteOffset).setBigUint64(40, 0n);
  assertEquals(validationError(decodeClientMessage(undated)), "CreatedDate is 0");
});

Deno.test("decode: the payload is everything after HeaderLength + 4, whatever PayloadLength says", () => {
  const frame = VECTOR_A.slice();
  new DataView(frame.buffer, frame.byteOffset).setUint32(116, 3);
  const m = decodeClientMessage(frame);
  assertEquals(new TextDecoder().decode(m.payload), "payload");
});

Deno.test("encode: empty MessageType is refused", () => {
  assertThrows(
    () =>
      encodeClientMessage({
        messageType: "",
        createdDate: 1,
        sequenceNumber: 0,
        flags: 0n,
        messageId: crypto.randomUUID(),
        payloadType: 1,
        payload: new Uint8Array(1),
      }),
    ProtocolError,
  );
});

Deno.test("MessageId: upper-case text encodes like lower-case; malformed text is refused", () => {
  const wire = encodeMessageId("DD01E56B-FF48-483E-A508-B5F073F31B16");
  assertEquals(decodeMessageId(wire), "dd01e56b-ff48-483e-a508-b5f073f31b16");
  for (
    const bad of [
      "",
      "dd01e56b-ff48-483e-a508-b5f073f31b1", // one digit short
      "dd01e56b-ff48-483e-a508-b5f073f31b1g", // not hex
      "dd01e56bxff48-483e-a508-b5f073f31b16", // no hyphen
      "dd01e56b-ff48-483e-a5-8b5f073f31b16f", // hyphen misplaced
    ]
  ) {
    assertThrows(() => encodeMessageId(bad), ProtocolError, "Cannot encode MessageId");
  }
});

Deno.test("encode/decode: 64-bit fields above 2^32 round-trip; 2^53 and more are refused", () => {
  const message = (sequenceNumber: number, createdDate: number) =>
    encodeClientMessage({
      messageType: "input_stream_data",
      createdDate,
      sequenceNumber,
      flags: 0n,
      messageId: crypto.randomUUID(),
      payloadType: 1,
      payload: new Uint8Array(1),
    });
  const big = 2 ** 40 + 12345;
  const frame = message(big, 2 ** 41 + 7);
  assertEquals(new DataView(frame.buffer, frame.byteOffset).getBigUint64(48), BigInt(big));
  const decoded = decodeClientMessage(frame);
  assertEquals([decoded.sequenceNumber, decoded.createdDate], [big, 2 ** 41 + 7]);

  const tooBig = message(0, 1);
  new DataView(tooBig.buffer, tooBig.byteOffset).setBigUint64(48, 2n ** 53n);
  assertThrows(() => decodeClientMessage(tooBig), ProtocolError, "out of range");
  new DataView(tooBig.buffer, tooBig.byteOffset).setBigUint64(48, 0n);
  new DataView(tooBig.buffer, tooBig.byteOffset).setBigUint64(40, 2n ** 60n);
  assertEquals(decodeClientMessage(tooBig).createdDate, -1, "an unrepresentable date is invalid");
});
