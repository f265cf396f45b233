/**
 * The handshake from the client's side of a real websocket, against tiny data-channel servers
 * written here: one that accepts the OpenDataChannelInput and never says anything (the handshake
 * timeout), and one whose agent offers a shell session (refused at once).
 * @module
 */

import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { SsmsshError } from "../../src/errors.ts";
import { ProxySession } from "../../src/session/proxy_session.ts";
import { openWebSocketTransport } from "../../src/transport/websocket_transport.ts";
import { DataChannel } from "../../src/datachannel/data_channel.ts";
import { PayloadType } from "../../src/protocol/message_type.ts";
import { decodeHandshakeResponse, encodeJson } from "../../src/protocol/payloads.ts";
import { CollectingSink, memoryLogger, type OpenRecord, recordingConnect } from "./harness.ts";

/** A websocket server on 127.0.0.1:0; `onOpen` gets each socket after its first text frame. */
function dataChannelServer(onOpen: (socket: WebSocket) => void = () => {}) {
  const firstFrames: string[] = [];
  const closed: Promise<void>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    const done = Promise.withResolvers<void>();
    closed.push(done.promise);
    socket.onclose = () => done.resolve();
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      firstFrames.push(event.data);
      onOpen(socket);
    };
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}/v1/data-channel/s-test?role=publish_subscribe`,
    firstFrames,
    /** Resolves once every socket accepted so far has closed. */
    allClosed: () => Promise.all(closed),
    async [Symbol.asyncDispose]() {
      await Promise.all(closed);
      await server.shutdown();
    },
  };
}

/** A ProxySession to `url` over the real websocket transport; stdin never ends. */
function proxyTo(url: string, opens: OpenRecord[], handshakeTimeoutMs: number) {
  return new ProxySession({
    sessionId: "s-test",
    streamUrl: url,
    tokenValue: "token-1",
    connect: recordingConnect(openWebSocketTransport, opens),
    resume: () => Promise.reject(new Error("ResumeSession must not be called")),
    input: new ReadableStream<Uint8Array>(),
    output: new CollectingSink(),
    logger: memoryLogger(),
    handshakeTimeoutMs,
  });
}

Deno.test("handshake: a silent data channel fails with a protocol error after handshakeTimeoutMs", async () => {
  await using server = dataChannelServer();
  const opens: OpenRecord[] = [];
  const proxy = proxyTo(server.url, opens, 300);
  const started = performance.now();
  const error = await assertRejects(() => proxy.run(), SsmsshError, "handshake");
  const ms = performance.now() - started;
  assertEquals(error.kind, "protocol");
  assert(error.hint.length > 0);
  assert(ms >= 290 && ms < 3000, `failed after ${ms.toFixed(0)} ms`);
  assertEquals(proxy.state, "closed");
  assertEquals(proxy.port.state, "handshaking");
  assertEquals(proxy.reconnects, 0);
  await server.allClosed();
  // The server did get a proper OpenDataChannelInput, as a text frame.
  assertEquals(server.firstFrames.length, 1);
  const input = JSON.parse(server.firstFrames[0]);
  assertEquals(Object.keys(input), [
    "MessageSchemaVersion",
    "RequestId",
    "TokenValue",
    "ClientId",
    "ClientVersion",
  ]);
  assertEquals(input.TokenValue, "token-1");
  assertEquals(input, opens[0].input);
});

Deno.test("handshake: an agent offering a shell session is refused at once (protocol error)", async () => {
  const responses: Array<ReturnType<typeof decodeHandshakeResponse>> = [];
  const channels: DataChannel[] = [];
  await using server = dataChannelServer((socket) => {
    const agent = new DataChannel({
      role: "agent",
      handlers: {
        onMessage: (type, payload) => {
          if (type === PayloadType.HandshakeResponse) {
            responses.push(decodeHandshakeResponse(payload));
          }
        },
      },
    });
    channels.push(agent);
    socket.onmessage = (event) => agent.receive(new Uint8Array(event.data as ArrayBuffer));
    agent.attach({ sendBinary: (frame) => socket.send(frame) });
    void agent.send(
      PayloadType.HandshakeRequest,
      encodeJson({
        AgentVersion: "3.3.987.0",
        RequestedClientActions: [{
          ActionType: "SessionType",
          ActionParameters: { SessionType: "Standard_Stream", Properties: {} },
        }],
      }),
    );
  });
  try {
    const proxy = proxyTo(server.url, [], 10000);
    const started = performance.now();
    const error = await assertRejects(() => proxy.run(), SsmsshError, "Standard_Stream");
    const ms = performance.now() - started;
    assertEquals(error.kind, "protocol");
    assert(ms < 3000, `refused after ${ms.toFixed(0)} ms, not at the handshake timeout`);
    assertEquals(proxy.port.state, "failed");
    await server.allClosed(); // frames sent before the close have arrived
    // The agent was told why, with status Failed (2), so it can cancel its side.
    assertEquals(responses.length, 1);
    assertEquals(responses[0].ProcessedClientActions[0].ActionStatus, 2);
    assertEquals(responses[0].ClientVersion, "1.2.677.0");
  } finally {
    for (const channel of channels) channel.close();
  }
});
