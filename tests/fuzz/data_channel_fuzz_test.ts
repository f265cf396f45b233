/**
 * Fuzzing the inbound side: a client DataChannel fed thousands of malformed frames interleaved
 * with a valid in-order stream; the ClientMessage codec and the JSON payload decoders on random
 * and mutated input; and the websocket FrameParser on random bytes.
 *
 * Every run prints its seed; `FUZZ_SEED=<n> deno test -A tests/fuzz` replays a run exactly.
 * @module
 */

import { assert, assertEquals } from "../support/assert.ts";
import { FakeClock } from "../support/fake_clock.ts";
import {
  type ClientMessage,
  decodeClientMessage,
  encodeClientMessage,
  Offset,
  validationError,
} from "../../src/protocol/client_message.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import { HeaderFlags, MessageType, PayloadType } from "../../src/protocol/message_type.ts";
import {
  decodeAcknowledge,
  decodeChannelClosed,
  decodeFlag,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  decodeHandshakeResponse,
  decodeJsonObject,
  encodeAcknowledge,
} from "../../src/protocol/payloads.ts";
import { DataChannel } from "../../src/datachannel/data_channel.ts";
import { FrameParser, WebSocketProtocolError } from "../../src/transport/websocket_frame.ts";

// --- seeded randomness ------------------------------------------------------------------------

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 32));
console.log(`fuzz seed: ${SEED} (replay with FUZZ_SEED=${SEED})`);

/** mulberry32: small, fast, and good enough to drive a fuzzer reproducibly. */
class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }
  /** A random 64-bit pattern. */
  u64(): bigint {
    return (BigInt(this.int(0, 0xffffffff)) << 32n) | BigInt(this.int(0, 0xffffffff));
  }
  uuid(): string {
    const h = Array.from(this.bytes(16), (b) => b.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${
      h.slice(20)
    }`;
  }
}

const encoder = new TextEncoder();

/** Garbage that looks a bit like JSON, a bit like anything. */
function garbageJson(rng: Rng, depth = 0): string {
  const scalars = [
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e400",
    "-0",
    "3.5",
    "9007199254740993",
    '""',
    '"x"',
    '"\\u0000"',
    '"\\ud800"',
  ];
  const keys = [
    "AcknowledgedMessageSequenceNumber",
    "AcknowledgedMessageType",
    "AcknowledgedMessageId",
    "IsSequentialMessage",
    "AgentVersion",
    "RequestedClientActions",
    "ActionType",
    "ActionParameters",
    "HandshakeTimeToComplete",
    "CustomerMessage",
    "SessionId",
    "Output",
    "Errors",
    "ProcessedClientActions",
    "ClientVersion",
    "__proto__",
    "constructor",
    "toString",
    "valueOf",
    "",
  ];
  const r = rng.int(0, depth > 3 ? 2 : 9);
  switch (r) {
    case 0:
      return rng.pick(scalars);
    case 1:
      return JSON.stringify(String.fromCharCode(...rng.bytes(rng.int(0, 12))));
    case 2:
      return String(rng.int(-1e6, 1e6));
    case 3:
    case 4: {
      const items = Array.from({ length: rng.int(0, 4) }, () => garbageJson(rng, depth + 1));
      return `[${items.join(",")}]`;
    }
    case 5:
    case 6:
    case 7: {
      const fields = Array.from(
        { length: rng.int(0, 5) },
        () => `${JSON.stringify(rng.pick(keys))}:${garbageJson(rng, depth + 1)}`,
      );
      return `{${fields.join(",")}}`;
    }
    case 8: // truncated JSON
      return garbageJson(rng, depth + 1).slice(0, rng.int(0, 10));
    default: // not JSON at all
      return String.fromCharCode(...rng.bytes(rng.int(0, 40)));
  }
}

function garbagePayload(rng: Rng): Uint8Array {
  return rng.bool(0.85) ? encoder.encode(garbageJson(rng)) : rng.bytes(rng.int(0, 300));
}

interface FrameSpec {
  messageType?: string;
  sequenceNumber?: number;
  payloadType?: number;
  payload?: Uint8Array;
  createdDate?: number;
}

function frameOf(rng: Rng, o: FrameSpec): Uint8Array {
  return encodeClientMessage({
    messageType: o.messageType ?? MessageType.OutputStreamData,
    createdDate: o.createdDate ?? 1_700_000_000_000 + rng.int(0, 1e9),
    sequenceNumber: o.sequenceNumber ?? 0,
    flags: rng.pick([HeaderFlags.None, HeaderFlags.Syn, HeaderFlags.SynFin, 0xffn]),
    messageId: rng.uuid(),
    payloadType: o.payloadType ?? PayloadType.Output,
    payload: o.payload ?? rng.bytes(rng.int(1, 1500)),
  });
}

function setUint32(frame: Uint8Array, offset: number, value: number): Uint8Array {
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(offset, value);
  return frame;
}

// --- DataChannel fuzz -------------------------------------------------------------------------

/** What the channel should do with a frame, judged independently of its internal state. */
type Outcome = "deliver" | "duplicate" | "reorder" | "drop" | "ack" | "closed" | "ignore";

Deno.test(`fuzz: a client DataChannel survives malformed frames (seed ${SEED})`, async () => {
  const rng = new Rng(SEED);
  const clock = new FakeClock(1_000_000);
  const written: Uint8Array[] = [];
  const delivered: Array<[number, Uint8Array, number]> = [];
  const closedCalls: unknown[] = [];
  const errors: Error[] = [];
  let asyncHandler = 0;
  const channel = new DataChannel({
    role: "client",
    clock,
    handlers: {
      onMessage: (payloadType, payload, seq) => {
        delivered.push([payloadType, payload.slice(), seq]);
        // Now and then, a handler that takes a moment (as writing to stdout does).
        if (seq % 7 === 3) {
          asyncHandler++;
          return Promise.resolve();
        }
      },
      onChannelClosed: (closed) => closedCalls.push(closed),
      onError: (error) => errors.push(error),
    },
  });
  channel.attach({ sendBinary: (frame) => written.push(frame.slice()) });

  const valid: Uint8Array[] = []; // the in-order stream, by sequence number
  const expectedDeliveries: Array<[number, Uint8Array, number]> = [];
  const want = { dropped: 0, duplicates: 0, reordered: 0, received: 0, closed: 0 };
  const wantAcks: number[] = []; // acknowledged sequence numbers, in order
  const counts: Record<string, number> = {};
  let malformed = 0;
  const nextSeq = () => valid.length;

  /** The oracle: §3.5 validation and dispatch, from the pure codec alone. */
  const judge = (frame: Uint8Array): Outcome => {
    let m: ClientMessage;
    try {
      m = decodeClientMessage(frame);
    } catch (error) {
      assert(error instanceof ProtocolError, `decode threw ${error}`);
      return "drop";
    }
    if (validationError(m) !== undefined) return "drop";
    switch (m.messageType) {
      case MessageType.OutputStreamData:
        return m.sequenceNumber < nextSeq()
          ? "duplicate"
          : m.sequenceNumber === nextSeq()
          ? "deliver"
          : "reorder";
      case MessageType.Acknowledge:
        try {
          decodeAcknowledge(m.payload);
          return "ack";
        } catch {
          return "drop";
        }
      case MessageType.ChannelClosed:
        return "closed";
      default:
        return "ignore";
    }
  };

  const feed = (category: string, frame: Uint8Array, expected?: Outcome[]) => {
    const outcome = judge(frame);
    if (expected) {
      assert(
        expected.includes(outcome),
        `seed ${SEED}: ${category} frame judged ${outcome}, expected ${expected}`,
      );
    }
    assert(outcome !== "deliver", `seed ${SEED}: a ${category} frame would be delivered`);
    counts[category] = (counts[category] ?? 0) + 1;
    malformed++;
    if (outcome === "drop") want.dropped++;
    if (outcome === "duplicate") want.duplicates++;
    if (outcome === "reorder") want.reordered++;
    if (outcome === "duplicate" || outcome === "reorder") {
      want.received++;
      wantAcks.push(decodeClientMessage(frame).sequenceNumber);
    }
    if (outcome === "closed") want.closed++;
    channel.receive(frame);
  };

  const validFrame = (): Uint8Array => {
    const seq = nextSeq();
    const payloadType = rng.pick([
      PayloadType.Output,
      PayloadType.Output,
      PayloadType.Output,
      PayloadType.HandshakeRequest,
      PayloadType.HandshakeComplete,
      PayloadType.Flag,
      PayloadType.StdErr,
    ]);
    const payload = payloadType === PayloadType.Output
      ? rng.bytes(rng.int(1, 1024))
      : garbagePayload(rng); // garbage JSON in order: the channel just delivers the bytes
    return frameOf(rng, { sequenceNumber: seq, payloadType, payload });
  };

  const TOTAL_MALFORMED = 6000;
  while (malformed < TOTAL_MALFORMED) {
    // The valid in-order stream, about one frame in six.
    if (rng.bool(1 / 6)) {
      const frame = validFrame();
      assertEquals(judge(frame), "deliver");
      const m = decodeClientMessage(frame);
      expectedDeliveries.push([m.payloadType, m.payload, m.sequenceNumber]);
      valid.push(frame);
      want.received++;
      wantAcks.push(m.sequenceNumber);
      channel.receive(frame);
      continue;
    }
    switch (rng.int(0, 13)) {
      case 0: // random bytes of random lengths
      case 1: {
        feed("random bytes", rng.bytes(rng.int(0, 2000)), ["drop", "ignore"]);
        break;
      }
      case 2: { // a valid frame (of the next sequence number!) truncated
        const whole = frameOf(rng, { sequenceNumber: nextSeq() });
        feed("truncated", whole.slice(0, rng.int(0, whole.length - 1)), ["drop"]);
        break;
      }
      case 3: { // valid header, bad HeaderLength
        const frame = frameOf(rng, { sequenceNumber: nextSeq() });
        const bad = rng.pick([
          0,
          1,
          rng.int(0, 115),
          115,
          frame.length - 3,
          frame.length + rng.int(0, 5000),
          0xffffffff,
          rng.int(117, frame.length - 4), // shifts the payload: the digest no longer matches
        ]);
        feed("bad HeaderLength", setUint32(frame, Offset.HeaderLength, bad), ["drop"]);
        break;
      }
      case 4: { // garbage acknowledge payload with a correct digest
        feed(
          "garbage acknowledge",
          frameOf(rng, {
            messageType: MessageType.Acknowledge,
            payloadType: 0,
            payload: garbagePayload(rng),
          }),
          ["drop", "ack"],
        );
        break;
      }
      case 5: { // garbage channel_closed payload with a correct digest
        feed(
          "garbage channel_closed",
          frameOf(rng, {
            messageType: MessageType.ChannelClosed,
            payloadType: 0,
            payload: garbagePayload(rng),
          }),
          ["closed"],
        );
        break;
      }
      case 6: { // random MessageType strings
        const length = rng.int(1, 32);
        const messageType = rng.bool(0.7)
          ? Array.from({ length }, () => String.fromCharCode(rng.int(0x21, 0x7e))).join("")
          : String.fromCharCode(...rng.bytes(length).map((b) => (b & 0x7f) || 0x20));
        if (messageType.trim() === MessageType.OutputStreamData) break;
        feed("random MessageType", frameOf(rng, { messageType, sequenceNumber: rng.int(0, 1e6) }));
        break;
      }
      case 7: { // raw MessageType bytes, including NULs, spaces and invalid UTF-8
        const frame = frameOf(rng, { sequenceNumber: nextSeq() });
        frame.set(
          rng.bytes(32).map((b) => rng.bool(0.3) ? rng.pick([0, 0x20]) : b),
          Offset.MessageType,
        );
        feed("raw MessageType bytes", frame, ["drop", "ignore", "ack", "closed"]);
        break;
      }
      case 8: { // negative and huge sequence numbers
        const frame = frameOf(rng, { sequenceNumber: 0 });
        const view = new DataView(frame.buffer, frame.byteOffset);
        const kind = rng.int(0, 3);
        if (kind === 0) view.setBigInt64(Offset.SequenceNumber, -BigInt(rng.int(1, 2 ** 31)));
        else if (kind === 1) view.setBigUint64(Offset.SequenceNumber, rng.u64() | (1n << 63n));
        else if (kind === 2) {
          const over = BigInt(Number.MAX_SAFE_INTEGER) + 1n + (rng.u64() >> 12n);
          view.setBigInt64(Offset.SequenceNumber, over);
        } else {
          // Representable but absurd: with a broken digest it must be dropped, not buffered.
          view.setBigInt64(
            Offset.SequenceNumber,
            BigInt(rng.int(2 ** 40, Number.MAX_SAFE_INTEGER)),
          );
          frame[Offset.PayloadDigest + rng.int(0, 31)] ^= rng.int(1, 255);
        }
        feed("bad sequence number", frame, ["drop"]);
        break;
      }
      case 9: { // representable huge sequence numbers with a correct digest: buffered, never delivered
        if (counts["far future"] >= 50) break;
        const seq = rng.int(10_000_000, Number.MAX_SAFE_INTEGER);
        feed("far future", frameOf(rng, { sequenceNumber: seq }), ["reorder"]);
        break;
      }
      case 10: { // corrupted digest or payload of the next frame
        const frame = frameOf(rng, { sequenceNumber: nextSeq() });
        const at = rng.int(Offset.PayloadDigest, frame.length - 1);
        if (at >= Offset.PayloadType && at < Offset.Payload) break; // not the type/length fields
        frame[at] ^= rng.int(1, 255);
        feed("corrupted digest/payload", frame, ["drop"]);
        break;
      }
      case 11: { // CreatedDate 0, or an empty MessageType
        const frame = frameOf(rng, { sequenceNumber: nextSeq() });
        if (rng.bool()) {
          new DataView(frame.buffer, frame.byteOffset).setBigUint64(Offset.CreatedDate, 0n);
        } else frame.fill(rng.pick([0, 0x20]), Offset.MessageType, Offset.SchemaVersion);
        feed("zero date / empty type", frame, ["drop"]);
        break;
      }
      case 12: { // a replay of an already delivered frame: re-acked, not delivered again
        if (valid.length === 0) break;
        feed("replayed", rng.pick(valid).slice(), ["duplicate"]);
        break;
      }
      default: { // acks for messages we never sent, and publication messages with garbage
        const messageType = rng.pick([
          MessageType.Acknowledge,
          MessageType.StartPublication,
          MessageType.PausePublication,
        ]);
        const payload = messageType === MessageType.Acknowledge
          ? encodeAcknowledge({
            AcknowledgedMessageType: "input_stream_data",
            AcknowledgedMessageId: rng.uuid(),
            AcknowledgedMessageSequenceNumber: rng.int(0, 1e9),
            IsSequentialMessage: true,
          })
          : garbagePayload(rng);
        const frame = frameOf(rng, { messageType, payloadType: 0, payload });
        if (messageType !== MessageType.Acknowledge && rng.bool()) {
          frame[Offset.PayloadDigest] ^= 1; // publication messages skip validation entirely
        }
        feed("ack / publication", frame, ["ack", "ignore"]);
      }
    }
    if (malformed % 500 === 0) await channel.idle();
  }
  await channel.idle();

  assertEquals(errors, [], `seed ${SEED}: onError must not be called for frame garbage`);
  assertEquals(channel.state, "open", `seed ${SEED}`);
  assertEquals(delivered.length, expectedDeliveries.length, `seed ${SEED}: deliveries`);
  for (let i = 0; i < expectedDeliveries.length; i++) {
    assertEquals(delivered[i], expectedDeliveries[i], `seed ${SEED}: delivery ${i}`);
  }
  assertEquals(delivered.map(([, , seq]) => seq), expectedDeliveries.map((_, i) => i));
  const stats = channel.stats;
  assertEquals(
    {
      dropped: stats.dropped,
      duplicates: stats.duplicates,
      reordered: stats.reordered,
      received: stats.received,
    },
    {
      dropped: want.dropped,
      duplicates: want.duplicates,
      reordered: want.reordered,
      received: want.received,
    },
    `seed ${SEED}: stats`,
  );
  assertEquals(closedCalls.length, want.closed, `seed ${SEED}: onChannelClosed calls`);
  // Every frame the channel wrote is an acknowledge: one per in-order, duplicate or buffered frame.
  // An in-order ack waits for its own handler (§4.5) while later frames are handled, so acks may
  // leave out of feed order; the peer matches them by sequence number (§4.4).
  const acks = written.map((f) => decodeClientMessage(f));
  assert(acks.every((m) => m.messageType === MessageType.Acknowledge));
  const bySeq = (a: number, b: number) => a - b;
  assertEquals(
    acks.map((m) => decodeAcknowledge(m.payload).AcknowledgedMessageSequenceNumber).sort(bySeq),
    wantAcks.sort(bySeq),
    `seed ${SEED}: acks written`,
  );

  // The channel still works: the next valid frame is delivered.
  channel.receive(validFrame());
  await channel.idle();
  assertEquals(delivered.length, expectedDeliveries.length + 1, `seed ${SEED}`);
  assert(malformed >= 5000 && valid.length > 500, `${malformed} malformed, ${valid.length} valid`);
  assert(asyncHandler > 0);
  console.log(
    `  ${malformed} malformed + ${valid.length + 1} valid frames; dropped ${stats.dropped}, ` +
      `duplicates ${stats.duplicates}, buffered ${stats.reordered}; ` +
      Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", "),
  );
  channel.close();
  assertEquals(clock.pendingTimers, 0);
});

// --- codec fuzz -------------------------------------------------------------------------------

/** Runs `fn`; anything thrown must be a ProtocolError. */
function onlyProtocolErrors<T>(what: string, input: Uint8Array, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    const hex = Array.from(input.subarray(0, 400), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    throw new Error(
      `seed ${SEED}: ${what} threw ${(error as Error)?.name}: ${(error as Error)?.message}\n` +
        `input (${input.length} bytes, first 400 hex): ${hex}`,
    );
  }
}

Deno.test(`fuzz: decodeClientMessage + validationError throw only ProtocolError (seed ${SEED})`, () => {
  const rng = new Rng(SEED ^ 0x5eed);
  let decoded = 0;
  let valid = 0;
  for (let i = 0; i < 20_000; i++) {
    let input: Uint8Array;
    const kind = rng.int(0, 4);
    if (kind === 0) input = rng.bytes(rng.int(0, 600));
    else {
      input = frameOf(rng, {
        messageType: rng.pick(Object.values(MessageType)),
        sequenceNumber: rng.int(0, 1e9),
        payloadType: rng.int(0, 20),
        payload: rng.bytes(rng.int(0, 200)),
      });
      const mutations = rng.int(1, 6);
      for (let j = 0; j < mutations; j++) {
        const what = rng.int(0, 3);
        if (what === 0) input[rng.int(0, input.length - 1)] = rng.int(0, 255);
        else if (what === 1) input = input.slice(0, rng.int(0, input.length));
        else if (what === 2) {
          const longer = new Uint8Array(input.length + rng.int(1, 50));
          longer.set(input);
          longer.set(rng.bytes(longer.length - input.length), input.length);
          input = longer;
        } else if (input.length >= 4) {
          setUint32(input, 0, rng.pick([0, 115, 116, 117, input.length - 4, 0xffffffff]));
        }
      }
      if (kind === 1 && input.byteLength > 8) {
        // A view into a larger buffer at an odd offset: offsets must use byteOffset.
        const host = new Uint8Array(input.length + 7);
        host.set(input, 3);
        input = host.subarray(3, 3 + input.length);
      }
    }
    const message = onlyProtocolErrors(
      "decodeClientMessage",
      input,
      () => decodeClientMessage(input),
    );
    if (!message) continue;
    decoded++;
    assertEquals(message.payload.length, input.length - message.headerLength - 4);
    assert(Number.isSafeInteger(message.sequenceNumber) && message.sequenceNumber >= 0);
    assert(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(message.messageId),
    );
    const reason = onlyProtocolErrors("validationError", input, () => validationError(message));
    if (reason === undefined) valid++;
    else assertEquals(typeof reason, "string");
  }
  assert(decoded > 1000 && valid > 100, `${decoded} decoded, ${valid} valid`);
});

Deno.test(`fuzz: JSON payload decoders throw only ProtocolError (seed ${SEED})`, () => {
  const rng = new Rng(SEED ^ 0x150e);
  const decoders: Array<[string, (bytes: Uint8Array) => unknown]> = [
    ["decodeJsonObject", (b) => decodeJsonObject(b, "fuzz")],
    ["decodeAcknowledge", decodeAcknowledge],
    ["decodeHandshakeRequest", decodeHandshakeRequest],
    ["decodeHandshakeComplete", decodeHandshakeComplete],
    ["decodeHandshakeResponse", decodeHandshakeResponse],
    ["decodeChannelClosed", decodeChannelClosed],
    ["decodeFlag", decodeFlag],
  ];
  for (let i = 0; i < 20_000; i++) {
    const input = garbagePayload(rng);
    for (const [name, decode] of decoders) onlyProtocolErrors(name, input, () => decode(input));
  }
});

// --- websocket FrameParser fuzz ---------------------------------------------------------------

Deno.test(`fuzz: FrameParser on random bytes: frames, incomplete, or WebSocketProtocolError (seed ${SEED})`, () => {
  const rng = new Rng(SEED ^ 0xf4a3e);
  let frames = 0;
  let errors = 0;
  let incomplete = 0;
  for (let i = 0; i < 5000; i++) {
    const parser = new FrameParser(rng.pick([125, 4096, 1 << 20]));
    const stream = rng.bytes(rng.int(0, 3000));
    if (rng.bool(0.5) && stream.length > 1) {
      stream[0] &= 0x8f; // clear the reserved bits, so parsing gets further
      stream[1] &= rng.bool() ? 0x7f : 0xff;
    }
    let at = 0;
    try {
      while (at < stream.length) {
        const size = rng.int(1, 400);
        const got = parser.push(stream.slice(at, at + size));
        for (const frame of got) {
          assert(frame.opcode >= 0 && frame.opcode <= 15);
          if (frame.opcode >= 8) assert(frame.fin && frame.payload.length <= 125);
        }
        frames += got.length;
        at += size;
      }
      incomplete++;
    } catch (error) {
      if (!(error instanceof WebSocketProtocolError)) {
        throw new Error(`seed ${SEED}: FrameParser threw ${error} on case ${i}`);
      }
      errors++;
    }
  }
  assert(frames > 0 && errors > 0 && incomplete > 0, `${frames} frames, ${errors} errors`);
});
