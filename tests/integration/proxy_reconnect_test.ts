/**
 * Websocket drops mid-transfer (spec §10): ResumeSession, a new socket to the original StreamUrl
 * with the same ClientId and a new RequestId and token, all protocol state kept, data intact.
 * And a session the service ended while the client was away.
 * @module
 */

import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { SsmsshError } from "../../src/errors.ts";
import type { Faults } from "../../emulator/faults.ts";
import { PayloadType } from "../../src/protocol/message_type.ts";
import {
  assertEndedByInput,
  echoTransfer,
  KB,
  MB,
  openProxy,
  type ProxyRun,
  sha256,
  startWorld,
  type World,
} from "./harness.ts";

/** The reconnect facts every drop test checks. */
function assertReconnected(world: World, run: ProxyRun, drops: number): void {
  assertEquals(run.proxy.reconnects, drops);
  const resumes = world.emulator.calls.filter((c) => c.operation === "AmazonSSM.ResumeSession");
  assertEquals(resumes.length, drops, "one ResumeSession per reconnect");
  for (const call of resumes) assertEquals(call.input, { SessionId: run.started.sessionId });

  assertEquals(run.opens.length, drops + 1);
  const emulated = world.emulator.sessions.get(run.started.sessionId)!;
  assertEquals(emulated.agent.connections, drops + 1, "the agent saw every socket");
  const [first, ...again] = run.opens;
  assertEquals(first.input.TokenValue, run.started.tokenValue);
  assertEquals(run.resumedTokens.length, drops);
  again.forEach((open, i) => {
    assertEquals(open.url, run.started.streamUrl, "the original StreamUrl, not Resume's");
    assertEquals(open.input.ClientId, first.input.ClientId, "same ClientId across reconnects");
    assertEquals(open.input.TokenValue, run.resumedTokens[i], "the token ResumeSession returned");
    assert(emulated.tokens.has(open.input.TokenValue));
  });
  const tokens = new Set(run.opens.map((o) => o.input.TokenValue));
  const requestIds = new Set(run.opens.map((o) => o.input.RequestId));
  assertEquals([tokens.size, requestIds.size], [drops + 1, drops + 1], "new token and RequestId");
  assertEquals(
    run.logger.lines.filter((l) => l.startsWith("info: reconnected")).length,
    drops,
    run.logger.lines.join("\n"),
  );
}

Deno.test("reconnect: the agent drops the socket after N and M frames: resumed, data intact", async () => {
  await using world = await startWorld({ faults: { dropSocketAfterFrames: [300, 2500] } });
  const { data, sink, ...streams } = echoTransfer(3 * MB);
  await using run = await openProxy({ port: world.echo.port, ...streams });
  const outcome = await run.run(30000);
  assertEndedByInput(outcome);
  assertEquals(sha256(sink.bytes()), sha256(data));
  assertReconnected(world, run, 2);
});

Deno.test("reconnect: drops at chosen points of the download (agent.dropSocket)", async () => {
  await using world = await startWorld();
  const { data, sink, ...streams } = echoTransfer(3 * MB);
  await using run = await openProxy({ port: world.echo.port, ...streams });
  const agent = () => world.emulator.sessions.get(run.started.sessionId)!.agent;
  const dropped: number[] = [];
  for (const at of [512 * KB, 1536 * KB]) {
    sink.at(at, () => {
      dropped.push(sink.length);
      agent().dropSocket();
    });
  }
  const outcome = await run.run(30000);
  assertEndedByInput(outcome);
  assertEquals(dropped.length, 2);
  assertEquals(sha256(sink.bytes()), sha256(data));
  assertReconnected(world, run, 2);
  assert(
    agent().channel.stats.resent + run.proxy.channel.stats.resent > 0,
    "unacknowledged messages were sent again on the new socket",
  );
});

Deno.test("reconnect: a drop right after the HandshakeRequest; the handshake still completes", async () => {
  await using world = await startWorld({ faults: { dropSocketAfterFrames: [1] } });
  const { data, sink, ...streams } = echoTransfer(64 * KB);
  await using run = await openProxy({ port: world.echo.port, ...streams });
  const outcome = await run.run(20000);
  assertEndedByInput(outcome);
  assertEquals(sha256(sink.bytes()), sha256(data));
  assertEquals(run.proxy.port.state, "ready");
  assertReconnected(world, run, 1);
});

Deno.test("reconnect: the service ended the session meanwhile: run() rejects 'cannot be resumed'", async () => {
  await using world = await startWorld();
  const { sink, ...streams } = echoTransfer(2 * MB);
  await using run = await openProxy({ port: world.echo.port, ...streams });
  let droppedAt = 0;
  sink.at(256 * KB, () => {
    const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
    agent.dropSocket();
    agent.terminate(); // no socket: the client never sees channel_closed
    droppedAt = performance.now();
  });
  const error = await assertRejects(() => run.run(20000), SsmsshError, "cannot be resumed");
  const ms = performance.now() - droppedAt;
  assert(droppedAt > 0);
  assert(ms < 3000, `rejected ${ms.toFixed(0)} ms after the drop`);
  assertEquals(error.kind, "connection");
  assert(error.message.includes(run.started.sessionId), error.message);
  assertEquals(run.resumedTokens, [undefined], "ResumeSession was asked once and gave no token");
  assertEquals(run.opens.length, 1, "no dial without a token");
  assertEquals(run.proxy.state, "closed");
  assertEquals(run.proxy.channel.state, "closed");
});

Deno.test("reconnect: the socket closing after our Flag TerminateSession is the end, not a drop", async () => {
  // The agent ends the session on the flag, and the close reaches the client but its
  // channel_closed does not (a reset connection drops unread data): no ResumeSession then.
  const faults: Faults = {};
  await using world = await startWorld({ faults });
  const { data, sink, ...streams } = echoTransfer(64 * KB);
  await using run = await openProxy({ port: world.echo.port, ...streams });
  let flags = 0;
  faults.fromClient = (frame, info) => {
    if (info.payloadType !== PayloadType.Flag) return [frame];
    flags++;
    const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
    agent.dropSocket();
    agent.terminate(); // no socket left: channel_closed is lost
    return [];
  };
  const started = performance.now();
  const outcome = await run.run(20000);
  assertEquals(flags, 1);
  assertEquals(outcome, { kind: "input-ended", drained: true });
  assertEquals(sha256(sink.bytes()), sha256(data));
  assertEquals(run.proxy.reconnects, 0);
  assertEquals(run.resumedTokens, [], "no ResumeSession for a session we ended");
  const ms = performance.now() - started;
  assert(ms < 5000, `ended after ${ms.toFixed(0)} ms`);
});
