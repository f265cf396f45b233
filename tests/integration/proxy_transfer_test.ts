/**
 * In process: ProxySession ↔ real local websocket ↔ the emulator's agent ↔ a TCP target, with
 * StartSession/ResumeSession through the SDK. Clean transfers, and the ways a session ends.
 * @module
 */

import { assert, assertEquals } from "../support/assert.ts";
import {
  assertEndedByInput,
  closedPort,
  CollectingSink,
  echoTransfer,
  KB,
  MB,
  openProxy,
  randomBytes,
  readSizes,
  sha256,
  sourceOf,
  startSinkSourceServer,
  startWorld,
  waitFor,
} from "./harness.ts";

Deno.test("integration: 5 MB echoed through the data channel arrive intact", async () => {
  await using world = await startWorld();
  const { data, sink, ...streams } = echoTransfer(5 * MB);
  await using run = await openProxy({ port: world.echo.port, ...streams });
  const outcome = await run.run(30000);

  assertEndedByInput(outcome);
  assertEquals(sink.length, data.length);
  assertEquals(sha256(sink.bytes()), sha256(data));
  assertEquals(run.proxy.port.bytesIn, data.length);
  assertEquals(run.proxy.port.bytesOut, data.length);
  assertEquals(run.proxy.reconnects, 0);
  assertEquals(run.opens.length, 1);
  assertEquals(run.opens[0].url, run.started.streamUrl);
  assertEquals(run.opens[0].input.TokenValue, run.started.tokenValue);
  assertEquals(run.opens[0].input.ClientVersion, "1.2.677.0");
  assertEquals(world.emulator.calls.map((c) => c.operation), ["AmazonSSM.StartSession"]);

  const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
  assertEquals(agent.clientVersion, "1.2.677.0");
  assertEquals(agent.connections, 1);
  // Each read is cut into ≤ 1024-byte messages; plus the HandshakeResponse and the final flag.
  const messages = readSizes(data.length).reduce((n, size) => n + Math.ceil(size / 1024), 0);
  assertEquals(run.proxy.channel.stats.sent, messages + 2);
  assertEquals(run.proxy.channel.stats.dropped, 0);
  assertEquals(agent.channel.stats.dropped, 0);
  // The end of input: drain, Flag TerminateSession, then the agent ends the session.
  assertEquals(agent.state, "closed");
});

Deno.test("integration: the target closing ends the session: channel-closed, downstream intact", async () => {
  await using world = await startWorld();
  const up = randomBytes(300 * KB + 17);
  const down = randomBytes(2 * MB + 5);
  await using target = startSinkSourceServer(up.length, down);
  const sink = new CollectingSink();
  await using run = await openProxy({
    port: target.port,
    input: sourceOf(up, new Promise(() => {})), // stdin stays open, as with ssh
    output: sink,
  });
  const outcome = await run.run(20000);
  assertEquals(outcome, { kind: "channel-closed", output: "" });
  assertEquals(sha256(target.received), sha256(up));
  assertEquals(sha256(sink.bytes()), sha256(down));
  assertEquals(run.proxy.port.bytesOut, down.length);
  const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
  assertEquals([agent.state, agent.endOutput], ["closed", ""]);
});

Deno.test("integration: channel_closed with Output ends run() with that Output", async () => {
  await using world = await startWorld();
  const data = randomBytes(1 * MB);
  const sink = new CollectingSink();
  await using run = await openProxy({
    port: world.echo.port,
    input: sourceOf(data, new Promise(() => {})), // stdin stays open
    output: sink,
  });
  const reason = "Session terminated by an administrator";
  const terminated = Promise.withResolvers<void>();
  // Once everything came back and both sides are acknowledged, the service ends the session.
  // (Ending it while the client is still writing can lose channel_closed: see the report.)
  sink.at(data.length, () => {
    const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
    waitFor(
      () => agent.channel.unacknowledged === 0 && run.proxy.channel.unacknowledged === 0,
      "both sides to be acknowledged",
    ).then(() => agent.terminate(reason)).then(terminated.resolve, terminated.reject);
  });
  const outcome = await run.run(20000);
  await terminated.promise;
  assertEquals(outcome, { kind: "channel-closed", output: reason });
  assertEquals(run.proxy.state, "closed");
  assertEquals(run.proxy.channel.state, "closed");
  assertEquals(run.proxy.reconnects, 0, "a close after channel_closed is not a drop");
  assertEquals(world.emulator.calls.map((c) => c.operation), ["AmazonSSM.StartSession"]);
  assertEquals(sha256(sink.bytes()), sha256(data));
});

Deno.test("integration: a closed target port: channel-closed with the agent's reason", async () => {
  await using world = await startWorld();
  const sink = new CollectingSink();
  await using run = await openProxy({
    port: closedPort(),
    input: sourceOf(randomBytes(10), new Promise(() => {})),
    output: sink,
  });
  const outcome = await run.run(10000);
  assertEquals(outcome.kind, "channel-closed");
  assert(
    outcome.kind === "channel-closed" &&
      outcome.output.startsWith("Unable to connect to specified port: "),
    JSON.stringify(outcome),
  );
  assertEquals(sink.length, 0);
  assertEquals(run.proxy.port.bytesIn, 0, "nothing is sent before HandshakeComplete");
  const agent = world.emulator.sessions.get(run.started.sessionId)!.agent;
  assertEquals(outcome, { kind: "channel-closed", output: agent.endOutput });
});
