/**
 * RFC 6455 framing (src/transport/websocket_frame.ts): the three length encodings, client
 * masking, and the incremental parser under arbitrary splits, joins and protocol violations.
 * @module
 */

import { assert, assertEquals, assertThrows } from "../support/assert.ts";
import {
  encodeFrame,
  type Frame,
  FrameParser,
  Opcode,
  WebSocketProtocolError,
} from "../../src/transport/websocket_frame.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Deterministic, non-repeating-looking payload bytes. */
function pattern(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A server (unmasked) frame with full control over FIN, RSV and the length field. */
function rawFrame(
  opcode: number,
  payload: Uint8Array,
  o: { fin?: boolean; rsv?: number; mask?: Uint8Array } = {},
): Uint8Array {
  const fin = o.fin ?? true;
  const encoded = encodeFrame(opcode, payload, o.mask);
  encoded[0] = (fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
  return encoded;
}

Deno.test("encodeFrame: 7-bit lengths (0 and 125 bytes), unmasked server frames", () => {
  for (const length of [0, 1, 125]) {
    const payload = pattern(length);
    const frame = encodeFrame(Opcode.Binary, payload);
    assertEquals(frame.length, 2 + length);
    assertEquals(frame[0], 0x82, "FIN + binary");
    assertEquals(frame[1], length, "mask bit clear, length inline");
    assertEquals(frame.subarray(2), payload);
  }
  assertEquals(Array.from(encodeFrame(Opcode.Text, text("hi"))), [0x81, 2, 0x68, 0x69]);
});

Deno.test("encodeFrame: 16-bit lengths (126 and 65535 bytes)", () => {
  for (const length of [126, 65535]) {
    const payload = pattern(length);
    const frame = encodeFrame(Opcode.Binary, payload);
    assertEquals(frame.length, 4 + length);
    assertEquals(frame[1], 126);
    assertEquals((frame[2] << 8) | frame[3], length);
    assertEquals(frame.subarray(4), payload);
  }
});

Deno.test("encodeFrame: 64-bit length (65536 bytes)", () => {
  const payload = pattern(65536);
  const frame = encodeFrame(Opcode.Binary, payload);
  assertEquals(frame.length, 10 + 65536);
  assertEquals(frame[1], 127);
  assertEquals(Array.from(frame.subarray(2, 10)), [0, 0, 0, 0, 0, 1, 0, 0]);
  assertEquals(frame.subarray(10), payload);
});

Deno.test("encodeFrame: a mask sets the mask bit, carries the key and XORs the payload", () => {
  const mask = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
  for (
    const [length, lengthBytes] of [[0, 0], [5, 0], [125, 0], [126, 2], [65535, 2], [65536, 8]]
  ) {
    const payload = pattern(length, length + 1);
    const frame = encodeFrame(Opcode.Binary, payload, mask);
    const keyAt = 2 + lengthBytes;
    assertEquals(frame.length, keyAt + 4 + length);
    assert((frame[1] & 0x80) !== 0, "mask bit set");
    assertEquals(frame[1] & 0x7f, length < 126 ? length : length < 65536 ? 126 : 127);
    assertEquals(frame.subarray(keyAt, keyAt + 4), mask);
    for (let i = 0; i < length; i++) {
      if (frame[keyAt + 4 + i] !== (payload[i] ^ mask[i & 3])) {
        throw new Error(`byte ${i} of a ${length}-byte payload is not masked`);
      }
    }
  }
  // RFC 6455 §5.7: a masked "Hello".
  assertEquals(
    Array.from(encodeFrame(Opcode.Text, text("Hello"), mask)),
    [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
  );
  // The caller's payload is not modified.
  const payload = text("unchanged");
  encodeFrame(Opcode.Text, payload, mask);
  assertEquals(new TextDecoder().decode(payload), "unchanged");
});

Deno.test("FrameParser: decodes the RFC 6455 §5.7 examples", () => {
  const parser = new FrameParser();
  const frames = parser.push(
    new Uint8Array([
      ...[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], // unmasked "Hello"
      ...[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], // masked "Hello"
      ...[0x01, 0x03, 0x48, 0x65, 0x6c], // "Hel" (not final)
      ...[0x80, 0x02, 0x6c, 0x6f], // continuation "lo"
      ...[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f], // ping "Hello"
    ]),
  );
  const decoded = frames.map((f) => [f.fin, f.opcode, new TextDecoder().decode(f.payload)]);
  assertEquals(decoded, [
    [true, Opcode.Text, "Hello"],
    [true, Opcode.Text, "Hello"],
    [false, Opcode.Text, "Hel"],
    [true, Opcode.Continuation, "lo"],
    [true, Opcode.Ping, "Hello"],
  ]);
});

/** A stream of frames of every length class, control frames included, and what they decode to. */
function sampleStream(): { bytes: Uint8Array; frames: Frame[] } {
  const frames: Frame[] = [
    { fin: true, opcode: Opcode.Binary, payload: pattern(0) },
    { fin: true, opcode: Opcode.Text, payload: text("hello") },
    { fin: false, opcode: Opcode.Binary, payload: pattern(125, 3) },
    { fin: true, opcode: Opcode.Ping, payload: text("keepalive") },
    { fin: false, opcode: Opcode.Continuation, payload: pattern(126, 4) },
    { fin: true, opcode: Opcode.Pong, payload: pattern(125, 5) },
    { fin: true, opcode: Opcode.Continuation, payload: pattern(300, 6) },
    { fin: true, opcode: Opcode.Binary, payload: pattern(65535, 8) },
    { fin: true, opcode: Opcode.Binary, payload: pattern(65536, 9) },
    { fin: true, opcode: Opcode.Close, payload: new Uint8Array([0x03, 0xe8]) },
  ];
  const parts = frames.map((f, i) =>
    rawFrame(f.opcode, f.payload, {
      fin: f.fin,
      mask: i === 1 ? new Uint8Array([1, 2, 3, 4]) : undefined,
    })
  );
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.length;
  }
  return { bytes, frames };
}

Deno.test("FrameParser: many frames joined in one chunk", () => {
  const { bytes, frames } = sampleStream();
  const parser = new FrameParser();
  assertEquals(parser.push(bytes), frames);
  assertEquals(parser.push(new Uint8Array(0)), []);
});

Deno.test("FrameParser: the stream split in two at every byte boundary", () => {
  // Small frames only, so that every split (including inside 16- and 64-bit lengths) stays quick.
  const frames: Frame[] = [
    { fin: true, opcode: Opcode.Text, payload: text("a") },
    { fin: false, opcode: Opcode.Binary, payload: pattern(130, 1) },
    { fin: true, opcode: Opcode.Ping, payload: text("keepalive") },
    { fin: true, opcode: Opcode.Continuation, payload: pattern(0) },
    { fin: true, opcode: Opcode.Pong, payload: pattern(0) },
  ];
  const parts = frames.map((f) => rawFrame(f.opcode, f.payload, { fin: f.fin }));
  // A frame with a 64-bit length field that holds a small value (legal, if wasteful).
  const wide = new Uint8Array(10 + 3);
  wide.set([0x82, 127, 0, 0, 0, 0, 0, 0, 0, 3, 7, 8, 9]);
  parts.push(wide);
  frames.push({ fin: true, opcode: Opcode.Binary, payload: new Uint8Array([7, 8, 9]) });
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.length;
  }
  for (let split = 0; split <= bytes.length; split++) {
    const parser = new FrameParser();
    const got = [...parser.push(bytes.slice(0, split)), ...parser.push(bytes.slice(split))];
    assertEquals(got, frames, `split at ${split}`);
  }
});

Deno.test("FrameParser: one byte at a time, and random chunk sizes", () => {
  const { bytes, frames } = sampleStream();
  const small = bytes.subarray(0, 600); // the first frames, fed a byte at a time
  const parser = new FrameParser();
  const got: Frame[] = [];
  for (let i = 0; i < small.length; i++) got.push(...parser.push(small.slice(i, i + 1)));
  got.push(...parser.push(bytes.slice(600)));
  assertEquals(got, frames);

  let seed = 12345;
  const next = () => (seed = (seed * 48271) % 0x7fffffff);
  for (let round = 0; round < 20; round++) {
    const p = new FrameParser();
    const out: Frame[] = [];
    for (let at = 0; at < bytes.length;) {
      const size = 1 + (next() % 9000);
      out.push(...p.push(bytes.slice(at, at + size)));
      at += size;
    }
    assertEquals(out, frames, `round ${round}`);
  }
});

Deno.test("FrameParser: control frames between fragments keep their place", () => {
  const parser = new FrameParser();
  const frames = parser.push(
    new Uint8Array([
      ...rawFrame(Opcode.Text, text("one "), { fin: false }),
      ...rawFrame(Opcode.Ping, text("p1")),
      ...rawFrame(Opcode.Continuation, text("two "), { fin: false }),
      ...rawFrame(Opcode.Pong, text("")),
      ...rawFrame(Opcode.Ping, text("p2")),
      ...rawFrame(Opcode.Continuation, text("three"), { fin: true }),
    ]),
  );
  assertEquals(
    frames.map((f) => [f.fin, f.opcode, new TextDecoder().decode(f.payload)]),
    [
      [false, Opcode.Text, "one "],
      [true, Opcode.Ping, "p1"],
      [false, Opcode.Continuation, "two "],
      [true, Opcode.Pong, ""],
      [true, Opcode.Ping, "p2"],
      [true, Opcode.Continuation, "three"],
    ],
  );
});

Deno.test("FrameParser: incomplete input returns nothing until the rest arrives", () => {
  const parser = new FrameParser();
  const frame = rawFrame(Opcode.Binary, pattern(70000));
  assertEquals(parser.push(frame.slice(0, 1)), []);
  assertEquals(parser.push(frame.slice(1, 9)), [], "inside the 64-bit length");
  assertEquals(parser.push(frame.slice(9, 50000)), []);
  const got = parser.push(frame.slice(50000));
  assertEquals(got.length, 1);
  assertEquals(got[0].payload, pattern(70000));
});

Deno.test("FrameParser: reserved bits are a protocol error", () => {
  for (const rsv of [1, 2, 4, 7]) {
    assertThrows(
      () => new FrameParser().push(rawFrame(Opcode.Text, text("x"), { rsv })),
      WebSocketProtocolError,
      "reserved bits",
    );
  }
  // Also when the bad frame follows good ones in the same chunk.
  const parser = new FrameParser();
  assertThrows(
    () =>
      parser.push(
        new Uint8Array([
          ...rawFrame(Opcode.Text, text("ok")),
          ...rawFrame(Opcode.Binary, text("x"), { rsv: 4 }),
        ]),
      ),
    WebSocketProtocolError,
  );
});

Deno.test("FrameParser: frames over the size limit are a protocol error, before the payload", () => {
  // 16-bit length over a small limit.
  assertThrows(
    () => new FrameParser(1000).push(new Uint8Array([0x82, 126, 0x03, 0xe9])),
    WebSocketProtocolError,
    "too large",
  );
  // 7-bit length over a tiny limit.
  assertThrows(
    () => new FrameParser(10).push(new Uint8Array([0x82, 11])),
    WebSocketProtocolError,
    "too large",
  );
  // At the limit is fine.
  assertEquals(new FrameParser(3).push(new Uint8Array([0x82, 3, 1, 2, 3])).length, 1);
  // 64-bit lengths past the default limit (16 MiB), including the top bit set (RFC: must be 0).
  for (
    const length of [
      [0, 0, 0, 0, 1, 0, 0, 1],
      [0, 0, 0, 1, 0, 0, 0, 0],
      [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      [0x80, 0, 0, 0, 0, 0, 0, 5],
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ]
  ) {
    assertThrows(
      () => new FrameParser().push(new Uint8Array([0x82, 127, ...length])),
      WebSocketProtocolError,
      "too large",
    );
  }
});

Deno.test("FrameParser: bad control frames are a protocol error", () => {
  for (const opcode of [Opcode.Close, Opcode.Ping, Opcode.Pong]) {
    // Longer than 125 bytes.
    assertThrows(
      () => new FrameParser().push(rawFrame(opcode, pattern(126))),
      WebSocketProtocolError,
      "bad control frame",
    );
    // Fragmented.
    assertThrows(
      () => new FrameParser().push(rawFrame(opcode, text("x"), { fin: false })),
      WebSocketProtocolError,
      "bad control frame",
    );
  }
  // Detected from the header alone: the 126-byte payload need not have arrived.
  assertThrows(
    () => new FrameParser().push(new Uint8Array([0x89, 126, 0, 126])),
    WebSocketProtocolError,
    "bad control frame",
  );
  // A 125-byte control frame is fine.
  assertEquals(new FrameParser().push(rawFrame(Opcode.Ping, pattern(125))).length, 1);
});

Deno.test("masking: encodeFrame and FrameParser round-trip every length, at any alignment", () => {
  const data = crypto.getRandomValues(new Uint8Array(1300));
  const mask = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  for (let length = 0; length <= 1200; length += length < 70 ? 1 : 37) {
    for (const shift of [0, 1, 2, 3]) {
      const payload = data.subarray(shift, shift + length); // aligned and unaligned sources
      const frame = encodeFrame(Opcode.Binary, payload, mask);
      const headerLength = frame.length - length;
      for (let i = 0; i < length; i++) {
        if (frame[headerLength + i] !== (payload[i] ^ mask[i & 3])) {
          throw new Error(`length ${length} shift ${shift}: byte ${i} masked wrongly`);
        }
      }
      const stream = new Uint8Array(shift + frame.length); // the frame at an unaligned offset
      stream.set(frame, shift);
      const parsed = new FrameParser().push(stream.subarray(shift));
      assertEquals(parsed.length, 1);
      assertEquals(parsed[0].payload, payload.slice(), `length ${length} shift ${shift}`);
    }
  }
});
