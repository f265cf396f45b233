/**
 * DataChannel basics: outbound framing (§3.3, §4.1), in-order inbound delivery and the ack it
 * produces (§4.2, §4.3, §4.5), handler failures, channel_closed (§9.6), empty payloads.
 * Other topics: data_channel_inbound_test.ts, data_channel_retransmit_test.ts,
 * data_channel_connection_test.ts.
 * @module
 */

import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { payloadDigest, validationError } from "../../src/protocol/client_message.ts";
import { PayloadType } from "../../src/protocol/message_type.ts";
import { encodeFlag } from "../../src/protocol/payloads.ts";
import { ProtocolError } from "../../src/protocol/protocol_error.ts";
import { channelClosed, control, deferred, inbound, setup, text, untext } from "./harness.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("send (client): input_stream_data, seq 0,1,2, flags 0, PayloadType kept, digest valid", async () => {
  const { channel, sink } = setup();
  const before = Date.now();
  await channel.send(PayloadType.HandshakeResponse, text('{"ClientVersion":"1"}'));
  await channel.send(PayloadType.Output, text("ssh bytes"));
  await channel.send(PayloadType.Flag, encodeFlag(2));
  const after = Date.now();

  const sent = sink.messages;
  assertEquals(
    sent.map((m) => [m.messageType, m.sequenceNumber, m.flags, m.payloadType, m.payloadLength]),
    [
      ["input_stream_data", 0, 0n, 6, 21],
      ["input_stream_data", 1, 0n, 1, 9],
      ["input_stream_data", 2, 0n, 10, 4],
    ],
  );
  assertEquals(untext(sent[1].payload), "ssh bytes");
  assertEquals(sent[2].payload, new Uint8Array([0, 0, 0, 2]));
  for (const m of sent) {
    assertEquals([m.headerLength, m.schemaVersion], [116, 1]);
    assertEquals(m.payloadDigest, payloadDigest(m.payload));
    assertEquals(validationError(m), undefined);
    assert(m.createdDate >= before && m.createdDate <= after, `CreatedDate ${m.createdDate}`);
    assert(UUID.test(m.messageId), m.messageId);
  }
  assertEquals(new Set(sent.map((m) => m.messageId)).size, 3);
  assertEquals(channel.stats.sent, 3);
  assertEquals(channel.unacknowledged, 3);
  channel.close();
});

Deno.test("send: uses the injected message id generator", async () => {
  let n = 0;
  const ids = ["dd01e56b-ff48-483e-a508-b5f073f31b16", "3c1a7f4e-9b2d-4e6f-8a5b-0c1d2e3f4a5b"];
  const { channel, sink } = setup({ newMessageId: () => ids[n++] });
  await channel.send(PayloadType.Output, text("a"));
  await channel.send(PayloadType.Output, text("b"));
  assertEquals(sink.messages.map((m) => m.messageId), ids);
  channel.close();
});

Deno.test("send (agent): output_stream_data with the SYN flag on seq 0 only", async () => {
  const { channel, sink } = setup({ role: "agent" });
  for (const s of ["x", "y", "z"]) await channel.send(PayloadType.Output, text(s));
  assertEquals(
    sink.messages.map((m) => [m.messageType, m.sequenceNumber, m.flags, untext(m.payload)]),
    [
      ["output_stream_data", 0, 1n, "x"],
      ["output_stream_data", 1, 0n, "y"],
      ["output_stream_data", 2, 0n, "z"],
    ],
  );
  channel.close();
});

Deno.test("send: an empty payload rejects with ProtocolError and uses no sequence number", async () => {
  const { channel, sink } = setup();
  await assertRejects(() => channel.send(PayloadType.Output, new Uint8Array()), ProtocolError);
  assertEquals(sink.frames.length, 0);
  assertEquals(channel.unacknowledged, 0);
  await channel.send(PayloadType.Output, text("a"));
  assertEquals(sink.messages[0].sequenceNumber, 0);
  channel.close();
});

Deno.test("receive: in-order output_stream_data is delivered, then acked (§4.2 fields)", async () => {
  const { channel, sink, delivered, feed } = setup();
  const id = "dd01e56b-ff48-483e-a508-b5f073f31b16";
  await feed(inbound(0, "hello", { messageId: id }));

  assertEquals(delivered, [{ payloadType: 1, text: "hello", seq: 0 }]);
  assertEquals(sink.frames.length, 1);
  const ack = sink.messages[0];
  assertEquals(
    [ack.messageType, ack.sequenceNumber, ack.flags, ack.payloadType, ack.schemaVersion],
    ["acknowledge", 0, 3n, 0, 1],
  );
  assertEquals(
    untext(ack.payload),
    '{"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"' + id +
      '","AcknowledgedMessageSequenceNumber":0,"IsSequentialMessage":true}',
  );
  assertEquals(validationError(ack), undefined);
  assert(ack.messageId !== id && UUID.test(ack.messageId), "an ack has a fresh MessageId");
  assertEquals(channel.unacknowledged, 0, "acks are not sequenced and never buffered");

  await feed(inbound(1, "world"));
  assertEquals(delivered.map((d) => [d.text, d.seq]), [["hello", 0], ["world", 1]]);
  assertEquals(sink.ackedSeqs, [0, 1]);
  assertEquals(sink.acks[1].AcknowledgedMessageType, "output_stream_data");
  assertEquals(channel.stats.received, 2);
  channel.close();
});

Deno.test("receive (agent): input_stream_data is acked as input_stream_data", async () => {
  const { channel, sink, delivered, feed } = setup({ role: "agent" });
  await feed(inbound(0, "stdin", { messageType: "input_stream_data" }));
  assertEquals(delivered, [{ payloadType: 1, text: "stdin", seq: 0 }]);
  assertEquals(sink.acks.map((a) => a.AcknowledgedMessageType), ["input_stream_data"]);
  assertEquals(sink.messages[0].flags, 3n);
  channel.close();
});

Deno.test("receive: data of the wrong direction or unknown type is ignored, not acked", async () => {
  const { channel, sink, delivered, feed } = setup();
  await feed(
    inbound(0, "echo", { messageType: "input_stream_data" }),
    control("agent_session_state", text('{"SchemaVersion":1,"SessionState":"Connected"}')),
  );
  assertEquals([delivered.length, sink.frames.length, channel.stats.dropped], [0, 0, 0]);
  await feed(inbound(0, "real"));
  assertEquals(delivered.map((d) => d.text), ["real"]);
  channel.close();
});

Deno.test("receive: for Output each ack waits until its async handler resolves", async () => {
  const gates = [deferred(), deferred()];
  const { channel, sink, delivered, feed } = setup({
    onMessage: (_t, _p, seq) => gates[seq].promise,
  });
  await feed(inbound(0, "slow"), inbound(1, "next"));

  assertEquals(delivered.map((d) => d.seq), [0, 1], "the next frame is handled meanwhile");
  assertEquals(sink.frames.length, 0, "no ack before the handler has written the data");
  gates[0].resolve();
  await feed();
  assertEquals(sink.ackedSeqs, [0]);
  gates[1].resolve();
  await feed();
  assertEquals(sink.ackedSeqs, [0, 1]);
  channel.close();
});

Deno.test("receive: handshake types 5 and 7 are acked BEFORE the handler runs", async () => {
  const ackedWhenCalled: number[][] = [];
  const gate = deferred();
  const h = setup({
    onMessage: (type) => {
      ackedWhenCalled.push(h.sink.ackedSeqs);
      return type === PayloadType.HandshakeRequest ? gate.promise : undefined;
    },
  });
  await h.feed(
    inbound(0, '{"AgentVersion":"3.3"}', { payloadType: PayloadType.HandshakeRequest }),
    inbound(1, '{"HandshakeTimeToComplete":1}', { payloadType: PayloadType.HandshakeComplete }),
    inbound(2, "data"),
  );
  assertEquals(ackedWhenCalled, [[0]], "seq 0 acked while its handler is still pending");
  gate.resolve();
  await h.feed();
  assertEquals(h.delivered.map((d) => [d.payloadType, d.seq]), [[5, 0], [7, 1], [1, 2]]);
  assertEquals(ackedWhenCalled, [[0], [0, 1], [0, 1]], "seq 2 (Output) not yet acked in handler");
  assertEquals(h.sink.ackedSeqs, [0, 1, 2]);
  h.channel.close();
});

Deno.test("receive: a handler that throws reports onError, closes, and the message is not acked", async () => {
  const { channel, sink, errors, feed } = setup({
    onMessage: (_type, payload) => {
      if (untext(payload) === "boom") throw new Error("handler exploded");
    },
  });
  await feed(inbound(0, "ok"), inbound(1, "boom"), inbound(2, "never"));
  assertEquals(errors.map((e) => e.message), ["handler exploded"]);
  assertEquals(channel.state, "closed");
  assertEquals(sink.ackedSeqs, [0]);
  await assertRejects(() => channel.send(PayloadType.Output, text("x")), Error, "closed");
});

Deno.test("receive: an async handler that rejects reports onError once", async () => {
  const { channel, errors, feed } = setup({
    onMessage: () => Promise.reject(new Error("socket write failed")),
  });
  await feed(inbound(0, "a"), inbound(1, "b"));
  assertEquals(errors.map((e) => e.message), ["socket write failed"]);
  assertEquals(channel.state, "closed");
});

Deno.test("channel_closed: onChannelClosed gets SessionId and Output; no ack", async () => {
  const { channel, sink, closed, delivered, feed } = setup();
  await feed(channelClosed("Unable to connect to specified port", "sess-1"));
  assertEquals(closed, [{ SessionId: "sess-1", Output: "Unable to connect to specified port" }]);
  assertEquals([sink.frames.length, delivered.length], [0, 0]);

  const corrupt = channelClosed("tampered");
  corrupt[corrupt.length - 3] ^= 0xff;
  await feed(corrupt);
  assertEquals(closed.length, 1, "a channel_closed with a bad digest is dropped (§9.6)");
  assertEquals(channel.stats.dropped, 1);
  channel.close();
});
