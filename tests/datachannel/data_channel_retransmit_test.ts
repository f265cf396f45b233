/**
 * DataChannel outgoing reliability: inbound acks (§4.4), RTT sampling (§5.2), retransmission
 * (§5.3), resend exhaustion (§5.4), back-pressure and drain. Time is a FakeClock; the resend
 * tick runs every 100 ms from channel creation, and a message is resent on the first tick at
 * which `now - lastSent > RTO` and either a later message was acked or, for the oldest message,
 * no ack at all came for an RTO.
 * @module
 */

import { assert, assertEquals, assertRejects, assertThrows } from "../support/assert.ts";
import { PayloadType } from "../../src/protocol/message_type.ts";
import { ackFor, inbound, setup, text } from "./harness.ts";

const rttState = (h: ReturnType<typeof setup>) => [
  h.channel.rtt.rtt,
  h.channel.rtt.rttVariation,
  h.channel.rtt.rto,
];

Deno.test("ack: removes the matching message; unknown or repeated seqs are no-ops", async () => {
  const h = setup();
  for (const s of ["a", "b", "c"]) await h.channel.send(PayloadType.Output, text(s));
  await h.feed(ackFor(1));
  assertEquals(h.channel.unacknowledged, 2);
  await h.feed(ackFor(7), ackFor(1));
  assertEquals(h.channel.unacknowledged, 2);
  assertEquals([h.channel.stats.dropped, h.errors.length], [0, 0]);
  assertEquals(rttState(h), [87.5, 25, 187.5], "only the first ack of seq 1 (R = 0) sampled");
  await h.feed(ackFor(0), ackFor(2));
  assertEquals(h.channel.unacknowledged, 0);
  assertEquals(h.sink.ackedSeqs, [], "acks are never acked");
  h.channel.close();
});

Deno.test("ack: samples RTT from the send time (§5.2)", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("x"));
  await h.clock.advanceAsync(40);
  await h.feed(ackFor(0));
  assertEquals(rttState(h), [92.5, 15, 152.5]);
  h.channel.close();
});

Deno.test("ack: inbound data never acknowledges our messages", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("x"));
  await h.feed(inbound(0, "reply"));
  assertEquals(h.channel.unacknowledged, 1);
  h.channel.close();
});

Deno.test("retransmit: identical bytes after RTO 200 ms on the 100 ms tick, then every RTO", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("lost"));
  const original = h.sink.frames[0];

  await h.clock.advanceAsync(299); // ticks at 100 and 200: 200 is not > 200
  assertEquals(h.sink.frames.length, 1);
  await h.clock.advanceAsync(1); // tick at 300
  assertEquals(h.sink.frames.length, 2);
  assertEquals(h.sink.frames[1], original);

  await h.clock.advanceAsync(299);
  assertEquals(h.sink.frames.length, 2, "not on every tick: lastSent was updated");
  await h.clock.advanceAsync(1); // 600
  await h.clock.advanceAsync(300); // 900
  assertEquals(h.sink.frames, [original, original, original, original]);
  assertEquals(h.channel.stats.resent, 3);
  h.channel.close();
});

Deno.test("retransmit: an overdue message is lost once a later one is acked (RACK)", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("probe"));
  await h.clock.advanceAsync(40);
  await h.feed(ackFor(0)); // RTT 92.5, RTTVAR 15
  await h.clock.advanceAsync(60); // t = 100 (a tick)
  await h.channel.send(PayloadType.Output, text("a"));
  await h.channel.send(PayloadType.Output, text("b"));
  await h.channel.send(PayloadType.Output, text("c"));
  await h.feed(ackFor(2)); // R = 0: RTTVAR 34.375, RTT 80.9375
  assertEquals(h.channel.rtt.rto, 218.4375);
  const [, a, , c] = h.sink.frames;

  await h.clock.advanceAsync(200); // t = 300: 200 elapsed, not > 218.4375
  assertEquals(h.sink.frames.length, 4);
  await h.clock.advanceAsync(100); // t = 400
  assertEquals(h.sink.frames.slice(4), [a], "c was sent after the acked b: it may be queued");
  await h.feed(ackFor(1));
  await h.clock.advanceAsync(300); // t = 700: no ack for an RTO, c is now the oldest
  assertEquals(h.sink.frames.slice(5), [c]);
  h.channel.close();
});

Deno.test("retransmit: nothing is resent while acks keep coming (a queue, not a loss)", async () => {
  const h = setup();
  for (let i = 0; i < 10; i++) await h.channel.send(PayloadType.Output, text(`m${i}`));
  for (let i = 0; i < 10; i++) {
    await h.clock.advanceAsync(150); // each message waits far longer than the RTO...
    await h.feed(ackFor(i)); // ...but acks arrive in order: the peer is busy, not losing data
  }
  assertEquals([h.channel.stats.resent, h.channel.unacknowledged], [0, 0]);
  h.channel.close();
});

Deno.test("retransmit: when no ack comes for an RTO only the oldest is resent", async () => {
  const h = setup();
  for (const s of ["a", "b", "c"]) await h.channel.send(PayloadType.Output, text(s));
  const [a] = h.sink.frames;
  await h.clock.advanceAsync(300);
  assertEquals(h.sink.frames.slice(3), [a]);
  await h.clock.advanceAsync(300);
  assertEquals(h.sink.frames.slice(3), [a, a]);
  assertEquals(h.channel.stats.resent, 2);
  h.channel.close();
});

Deno.test("retransmit (Karn): the ack of a resent message does not sample RTT", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("x"));
  await h.clock.advanceAsync(300);
  assertEquals(h.channel.stats.resent, 1);
  await h.clock.advanceAsync(50);
  await h.feed(ackFor(0));
  assertEquals(h.channel.unacknowledged, 0);
  assertEquals(rttState(h), [100, 0, 200]);

  await h.channel.send(PayloadType.Output, text("y"));
  await h.clock.advanceAsync(40);
  await h.feed(ackFor(1));
  assertEquals(rttState(h), [92.5, 15, 152.5], "a first transmission is sampled");
  h.channel.close();
});

Deno.test("retransmit: resends run out -> onError once, closed, sends reject, no timer left", async () => {
  const h = setup({ maxResendAttempts: 2, sendWindow: 1 });
  await h.channel.send(PayloadType.Output, text("x"));
  const blocked = h.channel.send(PayloadType.Output, text("y"));
  const blockedResult = blocked.then(() => "resolved", (e: Error) => e.message);

  await h.clock.advanceAsync(899); // resends at 300 and 600
  assertEquals([h.sink.frames.length, h.errors.length, h.channel.state], [3, 0, "open"]);
  await h.clock.advanceAsync(1); // due again at 900 with 2 attempts used
  assertEquals(h.errors.length, 1);
  assert(h.errors[0].message.includes("acknowledging"), h.errors[0].message);
  assertEquals(h.channel.state, "closed");
  assertEquals(h.sink.frames.length, 3);
  assertEquals(await blockedResult, "Cannot send: the data channel is closed");
  await assertRejects(() => h.channel.send(PayloadType.Output, text("z")), Error, "closed");
  assertEquals(h.clock.pendingTimers, 0);

  await h.clock.advanceAsync(5000);
  assertEquals([h.sink.frames.length, h.errors.length], [3, 1]);
});

Deno.test("close: stops the resend timer", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("x"));
  h.channel.close();
  assertEquals(h.clock.pendingTimers, 0);
  await h.clock.advanceAsync(1000);
  assertEquals(h.sink.frames.length, 1);
  await h.feed(inbound(0, "late"));
  assertEquals(h.delivered.length, 0, "a closed channel ignores input");
});

Deno.test("back-pressure: with sendWindow 3 the 4th send waits for the oldest ack; nothing dropped", async () => {
  const h = setup({ sendWindow: 3 });
  for (const s of ["0", "1", "2"]) await h.channel.send(PayloadType.Output, text(s));
  const done: string[] = [];
  const p3 = h.channel.send(PayloadType.Output, text("3")).then(() => done.push("3"));
  const p4 = h.channel.send(PayloadType.Output, text("4")).then(() => done.push("4"));

  await h.clock.advanceAsync(1000);
  assertEquals(done, []);
  assertEquals(h.sink.dataFrames.length, 3 + h.channel.stats.resent);
  assertEquals(h.channel.unacknowledged, 3);

  await h.feed(ackFor(1));
  assertEquals(done, [], "the window spans from the oldest unacked message (0), not a count");
  await h.feed(ackFor(7)); // unknown: frees nothing
  assertEquals(done, []);
  await h.feed(ackFor(0));
  await Promise.all([p3, p4]);
  assertEquals(done, ["3", "4"]);

  const firstSends = new Map<number, string>();
  for (const m of h.sink.messages) {
    if (!firstSends.has(m.sequenceNumber)) {
      firstSends.set(m.sequenceNumber, new TextDecoder().decode(m.payload));
    }
  }
  assertEquals([...firstSends], [[0, "0"], [1, "1"], [2, "2"], [3, "3"], [4, "4"]]);
  assertEquals(h.channel.unacknowledged, 3);
  h.channel.close();
});

Deno.test("back-pressure: a sender blocked on a full window resumes for a burst, not per ack", async () => {
  const h = setup({ sendWindow: 256 });
  for (let i = 0; i < 256; i++) await h.channel.send(PayloadType.Output, text(String(i)));
  let sent = 256;
  const sender = (async () => {
    for (; sent < 400; sent++) await h.channel.send(PayloadType.Output, text(String(sent)));
  })();
  for (let seq = 0; seq < 63; seq++) await h.feed(ackFor(seq));
  assertEquals(sent, 256, "63 free slots: still waiting");
  await h.feed(ackFor(63));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(sent, 320, "64 free slots: 64 sends at once");
  for (let seq = 64; seq < 400; seq++) await h.feed(ackFor(seq));
  await sender;
  assertEquals(h.sink.dataFrames.length - h.channel.stats.resent, 400, "nothing dropped");
  h.channel.close();
});

Deno.test("back-pressure: many senders waiting on a full window all go in the burst, in order", async () => {
  const h = setup({ sendWindow: 256 });
  for (let i = 0; i < 256; i++) await h.channel.send(PayloadType.Output, text(String(i)));
  const sent: number[] = [];
  const waiting = Array.from(
    { length: 100 },
    (_, i) => h.channel.send(PayloadType.Output, text(String(256 + i))).then(() => sent.push(i)),
  );
  for (let seq = 0; seq < 64; seq++) await h.feed(ackFor(seq));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(sent.length, 64, "the burst takes 64 waiting senders, not one");
  for (let seq = 64; seq < 356; seq++) await h.feed(ackFor(seq));
  await Promise.all(waiting);
  assertEquals(sent, Array.from({ length: 100 }, (_, i) => i));
  const order = h.sink.messages.map((m) => Number(new TextDecoder().decode(m.payload)));
  assertEquals(
    order.slice(0, 356),
    Array.from({ length: 356 }, (_, i) => i),
    "sequence = call order",
  );
  h.channel.close();
});

Deno.test("sendNow: at once while the window has room; false when full or a send waits", async () => {
  const h = setup({ sendWindow: 2 });
  assertEquals(h.channel.sendNow(PayloadType.Output, text("0")), true);
  assertEquals(h.channel.sendNow(PayloadType.Output, text("1")), true);
  assertEquals(h.sink.dataFrames.length, 2, "written synchronously");
  assertEquals(h.channel.sendNow(PayloadType.Output, text("x")), false, "window full");
  const waiting = h.channel.send(PayloadType.Output, text("2"));
  await h.feed(ackFor(0), ackFor(1));
  assertEquals(h.channel.sendNow(PayloadType.Output, text("3")), true);
  await waiting;
  const order = h.sink.messages.map((m) => new TextDecoder().decode(m.payload));
  assertEquals(order, ["0", "1", "2", "3"], "the waiting send keeps its place; nothing dropped");
  h.channel.close();
  assertThrows(() => h.channel.sendNow(PayloadType.Output, text("y")), Error, "closed");
});

Deno.test("drain: true once everything is acked", async () => {
  const h = setup();
  assertEquals(await h.channel.drain(0), true, "nothing outstanding");
  await h.channel.send(PayloadType.Output, text("a"));
  await h.channel.send(PayloadType.Output, text("b"));
  let result: boolean | undefined;
  const drained = h.channel.drain(1000).then((r) => (result = r));
  await h.clock.advanceAsync(50);
  await h.feed(ackFor(1));
  assertEquals(result, undefined);
  await h.feed(ackFor(0));
  await drained;
  assertEquals(result, true);
  assertEquals(h.clock.now(), 1_000_050, "resolved without waiting for the timeout");
  h.channel.close();
});

Deno.test("drain: false after the timeout when acks do not come", async () => {
  const h = setup();
  await h.channel.send(PayloadType.Output, text("a"));
  let result: boolean | undefined;
  const drained = h.channel.drain(500).then((r) => (result = r));
  await h.clock.advanceAsync(499);
  assertEquals(result, undefined);
  await h.clock.advanceAsync(1);
  await drained;
  assertEquals(result, false);
  assertEquals(h.channel.unacknowledged, 1);
  h.channel.close();
});

Deno.test("drain: each ack restarts the idle wait; the cap still bounds it", async () => {
  const h = setup();
  for (const s of ["a", "b", "c"]) await h.channel.send(PayloadType.Output, text(s));
  let result: boolean | undefined;
  const drained = h.channel.drain(500, 1200).then((r) => (result = r));
  await h.clock.advanceAsync(400);
  await h.feed(ackFor(0));
  await h.clock.advanceAsync(400);
  assertEquals(result, undefined, "progress at 400 ms moved the idle deadline to 900 ms");
  await h.feed(ackFor(1));
  await h.clock.advanceAsync(399);
  assertEquals(result, undefined);
  await h.clock.advanceAsync(1);
  await drained;
  assertEquals(result, false, "capped at 1200 ms although the last ack was at 800 ms");
  assertEquals(h.channel.unacknowledged, 1);
  h.channel.close();
});
