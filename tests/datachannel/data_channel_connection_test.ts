/**
 * DataChannel and the connection around it: pause_publication / start_publication (§6), detach
 * and attach across a reconnect (§10.2 step 5), and a sink that fails to write.
 * @module
 */

import { assertEquals } from "../support/assert.ts";
import { decodeClientMessage, Offset } from "../../src/protocol/client_message.ts";
import { MessageType, PayloadType } from "../../src/protocol/message_type.ts";
import { ackFor, control, inbound, RecordingSink, setup, text, untext } from "./harness.ts";

/** A publication frame as loosely filled as MGS may send it: CreatedDate 0, wrong digest. */
function publication(type: string): Uint8Array {
  const frame = control(type, text("{}"), 0);
  frame[Offset.PayloadDigest] ^= 0xff;
  return frame;
}

const seqAndText = (frames: Uint8Array[]) =>
  frames.map((f) => decodeClientMessage(f)).map((m) => [m.sequenceNumber, untext(m.payload)]);

Deno.test("publication: pause stops sends and resends; start resends what is unacked; never acked", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("a"));
  const a = h.sink.frames[0];

  await h.feed(publication(MessageType.PausePublication));
  assertEquals(h.channel.paused, true);
  assertEquals(h.channel.stats.dropped, 0, "publication messages skip validation");
  await h.clock.advanceAsync(500);
  await h.channel.send(PayloadType.Output, text("b"));
  await h.clock.advanceAsync(500);
  assertEquals(h.sink.frames, [a], "nothing written while paused");
  assertEquals([h.channel.unacknowledged, h.channel.stats.resent], [2, 0]);

  await h.feed(publication(MessageType.StartPublication));
  assertEquals(h.channel.paused, false);
  assertEquals(seqAndText(h.sink.frames), [[0, "a"], [0, "a"], [1, "b"]]);
  assertEquals(h.sink.frames[1], a, "a resend is byte-identical");
  assertEquals(h.sink.ackedSeqs, [], "publication messages are never acked");

  await h.clock.advanceAsync(300);
  assertEquals(seqAndText(h.sink.frames.slice(3)), [[0, "a"]], "resends resume: oldest probed");
  h.channel.close();
});

Deno.test("publication: a message sent during a short pause goes out after start", async () => {
  const h = setup();
  await h.feed(publication(MessageType.PausePublication));
  await h.clock.advanceAsync(50);
  await h.channel.send(PayloadType.Output, text("x"));
  await h.clock.advanceAsync(10);
  await h.feed(publication(MessageType.StartPublication));
  assertEquals(seqAndText(h.sink.frames), [[0, "x"]], "at once");
  await h.clock.advanceAsync(200);
  assertEquals(seqAndText(h.sink.frames), [[0, "x"]], "then not again within its RTO");
  h.channel.close();
});

Deno.test("publication: inbound data is still delivered and acked while paused", async () => {
  const h = setup();
  await h.feed(publication(MessageType.PausePublication), inbound(0, "hi"));
  assertEquals(h.delivered.map((d) => d.text), ["hi"]);
  assertEquals(h.sink.ackedSeqs, [0]);
  h.channel.close();
});

Deno.test("detach/attach: sends while detached are buffered, then everything unacked is resent", async () => {
  const h = setup();
  const first = h.sink;
  await h.channel.send(PayloadType.Output, text("a"));
  await h.channel.send(PayloadType.Output, text("acked"));
  await h.feed(ackFor(1));
  h.channel.detach();
  await h.channel.send(PayloadType.Output, text("b"));
  await h.channel.send(PayloadType.Output, text("c"));
  await h.clock.advanceAsync(1000);
  assertEquals(seqAndText(first.frames), [[0, "a"], [1, "acked"]], "nothing written detached");
  assertEquals(h.channel.stats.resent, 0);

  const second = new RecordingSink();
  h.channel.attach(second);
  assertEquals(seqAndText(second.frames), [[0, "a"], [2, "b"], [3, "c"]]);
  assertEquals(second.frames[0], first.frames[0], "identical bytes on the new socket");
  const written = second.frames.slice();

  await h.clock.advanceAsync(300); // RTO counts from the attach; no ack came: probe the oldest
  assertEquals(second.frames, [...written, written[0]]);
  assertEquals(first.frames.length, 2, "the old sink is never written again");
  h.channel.close();
});

Deno.test("attach: clears a pause and writes on the new sink", async () => {
  const h = setup();
  await h.feed(publication(MessageType.PausePublication));
  await h.channel.send(PayloadType.Output, text("p"));
  const next = new RecordingSink();
  h.channel.attach(next);
  assertEquals(h.channel.paused, false);
  assertEquals(seqAndText(next.frames), [[0, "p"]]);
  h.channel.close();
});

Deno.test("attach: resendBurst limits the burst; the rest follows on the next tick", async () => {
  const h = setup({ resendBurst: 2 });
  for (const s of ["a", "b", "c"]) await h.channel.send(PayloadType.Output, text(s));
  const next = new RecordingSink();
  h.channel.attach(next);
  assertEquals(seqAndText(next.frames), [[0, "a"], [1, "b"]]);
  await h.clock.advanceAsync(100);
  assertEquals(seqAndText(next.frames), [[0, "a"], [1, "b"], [2, "c"]]);
  h.channel.close();
});

Deno.test("attach: an ack for a message not yet resent keeps the RTT estimate finite", async () => {
  const h = setup({ resendBurst: 1 });
  await h.channel.send(PayloadType.Output, text("a"));
  await h.channel.send(PayloadType.Output, text("b"));
  h.channel.attach(new RecordingSink()); // resends "a" only; "b" waits for the next tick
  await h.feed(ackFor(1)); // ambiguous: it acks the transmission on the old socket
  assertEquals(h.channel.unacknowledged, 1);
  assertEquals([h.channel.rtt.rtt, h.channel.rtt.rttVariation, h.channel.rtt.rto], [100, 0, 200]);

  await h.feed(ackFor(0));
  await h.channel.send(PayloadType.Output, text("c"));
  await h.clock.advanceAsync(40);
  await h.feed(ackFor(2));
  assertEquals([h.channel.rtt.rtt, h.channel.rtt.rttVariation, h.channel.rtt.rto], [
    92.5,
    15,
    152.5,
  ]);
  h.channel.close();
});

Deno.test("sink failure: a throwing sink loses nothing; the message goes out after attach", async () => {
  const h = setup();
  h.channel.attach({
    sendBinary() {
      throw new Error("WebSocket is not open");
    },
  });
  await h.channel.send(PayloadType.Output, text("kept"));
  assertEquals([h.channel.unacknowledged, h.errors.length], [1, 0]);
  await h.clock.advanceAsync(1000); // resend attempts also fail quietly
  const next = new RecordingSink();
  h.channel.attach(next);
  assertEquals(seqAndText(next.frames), [[0, "kept"]]);
  h.channel.close();
});
