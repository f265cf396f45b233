/**
 * Lossy, reordering, duplicating, corrupting and late networks in both directions, garbage frames
 * (random bytes, truncated headers), and pause_publication / start_publication mid-transfer:
 * the echoed bytes must come back intact and nothing may crash.
 * @module
 */

import { assert, assertEquals } from "../support/assert.ts";
import {
  chain,
  corruptEvery,
  delayEvery,
  dropAcksEvery,
  duplicateEvery,
  type FrameFilter,
  injectGarbageEvery,
  reorderEvery,
} from "../../emulator/faults.ts";
import { decodeClientMessage, encodeClientMessage } from "../../src/protocol/client_message.ts";
import { HeaderFlags, MessageType, PayloadType } from "../../src/protocol/message_type.ts";
import type { DataChannelStats } from "../../src/datachannel/data_channel.ts";
import {
  assertEndedByInput,
  CollectingSink,
  delay,
  KB,
  MB,
  openProxy,
  type ProxyRun,
  randomBytes,
  sha256,
  sourceOf,
  startWorld,
  waitFor,
  type World,
} from "./harness.ts";

const LATE_MS = 120;

/** A small deterministic PRNG (xorshift32), so garbage is reproducible. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * Garbage frames, in turn: random bytes (0–299 long), a real-looking frame of `messageType`
 * truncated inside its header or payload, and a header whose lengths lie.
 */
function garbage(messageType: string, seed: number): () => Uint8Array {
  const random = prng(seed);
  let n = 0;
  return () => {
    const kind = n++ % 3;
    if (kind === 0) {
      return Uint8Array.from({ length: Math.floor(random() * 300) }, () => random() * 256);
    }
    const frame = encodeClientMessage({
      messageType,
      createdDate: Date.now(),
      sequenceNumber: Math.floor(random() * 50),
      flags: HeaderFlags.None,
      messageId: crypto.randomUUID(),
      payloadType: PayloadType.Output,
      payload: Uint8Array.from({ length: 200 }, () => random() * 256),
    });
    if (kind === 1) return frame.slice(0, 1 + Math.floor(random() * (frame.length - 1)));
    const lying = frame.slice();
    new DataView(lying.buffer, lying.byteOffset).setUint32(0, 0xfffffff0); // HeaderLength
    new DataView(lying.buffer, lying.byteOffset).setUint32(116, 0x7fffffff); // PayloadLength
    return lying;
  };
}

/** Every fault emulator/faults.ts knows, for the frames going one way. */
function everyFault(messageType: string, seed: number): FrameFilter {
  return chain(
    reorderEvery(7),
    duplicateEvery(5),
    corruptEvery(11),
    delayEvery(13, LATE_MS),
    dropAcksEvery(9),
    injectGarbageEvery(17, garbage(messageType, seed)),
  );
}

/** Echoes `size` random bytes and checks they came back intact. */
async function echo(world: World, size: number): Promise<ProxyRun> {
  const data = randomBytes(size);
  const sink = new CollectingSink();
  const run = await openProxy({
    port: world.echo.port,
    input: sourceOf(data, sink.reached(data.length)),
    output: sink,
  });
  try {
    const outcome = await run.run(30000);
    assertEndedByInput(outcome);
    assertEquals(sink.length, data.length);
    assertEquals(sha256(sink.bytes()), sha256(data));
    return run;
  } catch (error) {
    await run[Symbol.asyncDispose]();
    throw error;
  } finally {
    await delay(LATE_MS + 30); // let late frames still in the air land before the sanitizers look
  }
}

/** The receiver saw reordering, duplicates and dropped (corrupt or garbage) frames. */
function assertReceiverSawFaults(stats: DataChannelStats, who: string): void {
  const json = JSON.stringify(stats);
  assert(stats.reordered > 0, `${who} buffered out-of-order frames: ${json}`);
  assert(stats.duplicates > 0, `${who} saw duplicates: ${json}`);
  assert(stats.dropped > 0, `${who} dropped corrupt and garbage frames: ${json}`);
}

Deno.test("faults toward the client: reordered, duplicated, corrupt, late, unacked, garbage", async () => {
  await using world = await startWorld({
    faults: { toClient: everyFault(MessageType.OutputStreamData, 1) },
  });
  await using run = await echo(world, 1536 * KB);
  assertReceiverSawFaults(run.proxy.channel.stats, "the client");
  assert(run.proxy.channel.stats.resent > 0, "the client resent what the dropped acks left");
  const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
  assert(agent.channel.stats.resent > 0, "the agent resent the corrupted frames");
  assertEquals(run.proxy.reconnects, 0);
});

Deno.test("faults from the client: reordered, duplicated, corrupt, late, unacked, garbage", async () => {
  await using world = await startWorld({
    faults: { fromClient: everyFault(MessageType.InputStreamData, 2) },
  });
  await using run = await echo(world, 1536 * KB);
  const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
  assertReceiverSawFaults(agent.channel.stats, "the agent");
  assert(agent.channel.stats.resent > 0, "the agent resent what the dropped acks left");
  assert(run.proxy.channel.stats.resent > 0, "the client resent the corrupted frames");
  assertEquals(run.proxy.reconnects, 0);
});

Deno.test("faults in both directions at once, with socket drops on top", async () => {
  await using world = await startWorld({
    faults: {
      toClient: everyFault(MessageType.OutputStreamData, 3),
      fromClient: everyFault(MessageType.InputStreamData, 4),
      dropSocketAfterFrames: [700, 1800],
    },
  });
  await using run = await echo(world, 1 * MB);
  const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
  assertReceiverSawFaults(run.proxy.channel.stats, "the client");
  assertReceiverSawFaults(agent.channel.stats, "the agent");
  assertEquals(run.proxy.reconnects, 2);
  assertEquals(agent.connections, 3);
});

Deno.test("pause_publication / start_publication mid-transfer: nothing sent while paused, data intact", async () => {
  await using world = await startWorld();
  const data = randomBytes(3 * MB);
  const sink = new CollectingSink();
  const holder: { run?: ProxyRun } = {};
  let writtenWhilePaused = 0;
  await using run = holder.run = await openProxy({
    port: world.echo.port,
    input: sourceOf(data, sink.reached(data.length)),
    output: sink,
    onSend: (frame) => {
      if (!holder.run?.proxy.channel.paused) return;
      const type = decodeClientMessage(frame).messageType;
      if (type === MessageType.InputStreamData) writtenWhilePaused++;
    },
  });
  const agent = () => world.emulator.sessions.get(run.started.sessionId)!.agent;
  const paused = Promise.withResolvers<{ sentDuringPause: number }>();
  sink.at(512 * KB, async () => {
    try {
      const channel = run.proxy.channel;
      agent().setPublication(true);
      await waitFor(() => channel.paused, "the client to pause");
      const sentBefore = channel.stats.sent;
      await delay(250); // the pause lasts a while; the transfer goes on behind it
      const sentDuringPause = channel.stats.sent - sentBefore;
      agent().setPublication(false);
      await waitFor(() => !channel.paused, "the client to resume");
      paused.resolve({ sentDuringPause });
    } catch (error) {
      paused.reject(error);
    }
  });
  const outcome = await run.run(30000);
  const { sentDuringPause } = await paused.promise;
  assertEndedByInput(outcome);
  assertEquals(sha256(sink.bytes()), sha256(data));
  assertEquals(writtenWhilePaused, 0, "no stream data was written while paused");
  assert(sentDuringPause > 0, "the pump kept queueing input during the pause");
  assertEquals(run.proxy.reconnects, 0);
});
