/**
 * DataChannel inbound robustness: the reorder buffer (§4.3, §5.5), duplicates, and frames that
 * fail parsing or §3.5 validation.
 * @module
 */

import { assertEquals } from "../support/assert.ts";
import { Offset } from "../../src/protocol/client_message.ts";
import { PayloadType } from "../../src/protocol/message_type.ts";
import { ackFor, control, inbound, setup, text } from "./harness.ts";

Deno.test("reorder: seq 2, 1, 0 -> acks 2 and 1 at once, delivery 0,1,2, no double ack", async () => {
  const { channel, sink, delivered, feed } = setup();
  await feed(inbound(2, "c"));
  assertEquals([sink.ackedSeqs, delivered.length], [[2], 0]);
  await feed(inbound(1, "b"));
  assertEquals([sink.ackedSeqs, delivered.length], [[2, 1], 0]);
  await feed(inbound(0, "a"));
  assertEquals(delivered.map((d) => [d.text, d.seq]), [["a", 0], ["b", 1], ["c", 2]]);
  assertEquals(sink.ackedSeqs, [2, 1, 0], "buffered messages are not acked again on delivery");
  assertEquals([channel.stats.received, channel.stats.reordered], [3, 2]);

  await feed(inbound(3, "d"));
  assertEquals(delivered.map((d) => d.text).join(""), "abcd");
  assertEquals(sink.ackedSeqs, [2, 1, 0, 3]);
  channel.close();
});

Deno.test("reorder: frames queued back to back are processed in arrival order", async () => {
  const { channel, sink, delivered, feed } = setup();
  await feed(inbound(1, "b"), inbound(3, "d"), inbound(0, "a"), inbound(2, "c"));
  assertEquals(delivered.map((d) => d.text).join(""), "abcd");
  assertEquals(sink.ackedSeqs, [1, 3, 0, 2]);
  channel.close();
});

Deno.test("reorder: a buffered handshake message is dispatched like an in-order one", async () => {
  const { channel, sink, delivered, feed } = setup();
  await feed(
    inbound(1, "{}", { payloadType: PayloadType.HandshakeComplete }),
    inbound(0, "{}", {
      payloadType: PayloadType.HandshakeRequest,
    }),
  );
  assertEquals(delivered.map((d) => [d.payloadType, d.seq]), [[5, 0], [7, 1]]);
  assertEquals(sink.ackedSeqs, [1, 0]);
  channel.close();
});

Deno.test("reorder: a full reorder buffer drops (no ack) instead of growing", async () => {
  const { channel, sink, delivered, feed } = setup({ reorderCapacity: 2 });
  await feed(inbound(1, "b"), inbound(2, "c"), inbound(3, "d"));
  assertEquals(sink.ackedSeqs, [1, 2]);
  assertEquals(channel.stats.dropped, 1);
  await feed(inbound(0, "a"), inbound(3, "d"));
  assertEquals(delivered.map((d) => d.text).join(""), "abcd");
  assertEquals(sink.ackedSeqs, [1, 2, 0, 3]);
  channel.close();
});

Deno.test("duplicate: seq < expected is re-acked with its own id and not delivered again", async () => {
  const { channel, sink, delivered, feed } = setup();
  const id = "dd01e56b-ff48-483e-a508-b5f073f31b16";
  const first = inbound(0, "once", { messageId: id });
  await feed(first, inbound(1, "twice?"));
  await feed(first.slice());
  assertEquals(delivered.map((d) => d.text), ["once", "twice?"]);
  assertEquals(sink.ackedSeqs, [0, 1, 0]);
  assertEquals(sink.acks[2].AcknowledgedMessageId, id);
  assertEquals(channel.stats.duplicates, 1);
  channel.close();
});

Deno.test("duplicate: a frame repeated while buffered is acked again, delivered once", async () => {
  const { channel, sink, delivered, feed } = setup();
  const two = inbound(2, "c");
  await feed(two, two.slice(), inbound(1, "b"), inbound(0, "a"), two.slice());
  assertEquals(delivered.map((d) => d.text).join(""), "abc");
  assertEquals(sink.ackedSeqs, [2, 2, 1, 0, 2]);
  channel.close();
});

/** A deterministic byte generator (xorshift32), so "random" garbage is the same on every run. */
function garbage(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function withCreatedDate(frame: Uint8Array, value: bigint): Uint8Array {
  const copy = frame.slice();
  new DataView(copy.buffer, copy.byteOffset).setBigUint64(Offset.CreatedDate, value);
  return copy;
}

const BAD_FRAMES: Array<[string, () => Uint8Array]> = [
  ["payload byte flipped (digest mismatch)", () => {
    const f = inbound(0, "payload");
    f[Offset.Payload] ^= 0x01;
    return f;
  }],
  ["digest byte flipped", () => {
    const f = inbound(0, "payload");
    f[Offset.PayloadDigest + 5] ^= 0x80;
    return f;
  }],
  ["CreatedDate 0", () => withCreatedDate(inbound(0, "payload"), 0n)],
  ["truncated to 119 bytes", () => inbound(0, "payload").subarray(0, 119)],
  ["truncated to 40 bytes", () => inbound(0, "payload").subarray(0, 40)],
  ["empty frame", () => new Uint8Array()],
  ["HeaderLength past the end", () => {
    const f = inbound(0, "payload");
    new DataView(f.buffer, f.byteOffset).setUint32(Offset.HeaderLength, 4000);
    return f;
  }],
  ["HeaderLength 0", () => {
    const f = inbound(0, "payload");
    new DataView(f.buffer, f.byteOffset).setUint32(Offset.HeaderLength, 0);
    return f;
  }],
  ["negative SequenceNumber", () => {
    const f = inbound(0, "payload");
    new DataView(f.buffer, f.byteOffset).setBigInt64(Offset.SequenceNumber, -1n);
    return f;
  }],
  ["random garbage, 200 bytes", () => garbage(200, 0xc0ffee)],
  ["random garbage, 120 bytes", () => garbage(120, 42)],
  ["acknowledge with a corrupted digest", () => {
    const f = ackFor(0);
    f[f.length - 2] ^= 0xff;
    return f;
  }],
];

for (const [name, make] of BAD_FRAMES) {
  Deno.test(`invalid frame dropped without ack or crash: ${name}`, async () => {
    const { channel, sink, delivered, errors, feed } = setup();
    await channel.send(PayloadType.Output, new Uint8Array([1]));
    sink.frames = [];
    await feed(make());
    assertEquals([sink.frames.length, delivered.length, errors.length], [0, 0, 0]);
    assertEquals(channel.stats.dropped, 1);
    assertEquals(channel.unacknowledged, 1, "a bad frame cannot acknowledge anything");
    assertEquals(channel.state, "open");

    await feed(inbound(0, "good"));
    assertEquals(delivered.map((d) => d.text), ["good"]);
    assertEquals(sink.ackedSeqs, [0]);
    channel.close();
  });
}

Deno.test("invalid frames: each one counts, and the corrected resend is accepted", async () => {
  const { channel, sink, delivered, feed } = setup();
  const good = inbound(0, "data");
  const bad = good.slice();
  bad[bad.length - 1] ^= 0x20;
  await feed(bad, garbage(300, 7), withCreatedDate(good, 0n), good.subarray(0, 100));
  assertEquals([channel.stats.dropped, sink.frames.length, delivered.length], [4, 0, 0]);
  await feed(good);
  assertEquals(delivered.map((d) => d.text), ["data"]);
  assertEquals(sink.ackedSeqs, [0]);
  channel.close();
});

Deno.test("acknowledge with an unparseable payload is dropped", async () => {
  const { channel, sink, feed } = setup();
  await channel.send(PayloadType.Output, new Uint8Array([1]));
  await feed(control("acknowledge", text("not json")));
  assertEquals([channel.stats.dropped, channel.unacknowledged, sink.frames.length], [1, 1, 1]);
  channel.close();
});
