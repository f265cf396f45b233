/**
 * The data-channel transport (src/transport/websocket_transport.ts) over a real websocket: the
 * OpenDataChannelInput text frame goes first, every inbound message reaches onFrame as bytes,
 * and dial failures become SsmsshErrors with a hint.
 * @module
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "../support/assert.ts";
import { webSocketTransportFactory } from "../../src/transport/websocket_transport.ts";
import { SsmsshError } from "../../src/errors.ts";
import { makeTestCertificates } from "../support/tls_cert.ts";
import { delay, envOf, Opcode, startRawServer, untext, waitFor } from "./ws_peers.ts";

Deno.test("transport: OpenDataChannelInput first, then binary frames; inbound text becomes bytes", async () => {
  const received: Array<[number, string]> = [];
  await using server = startRawServer(async (peer) => {
    await peer.acceptWebSocket();
    for (let frame; (frame = await peer.readFrame());) {
      if (frame.opcode === Opcode.Ping) continue;
      received.push([frame.opcode, untext(frame.payload)]);
      if (received.length === 2) {
        await peer.sendFrame(Opcode.Binary, new Uint8Array([1, 2, 3]));
        await peer.sendFrame(Opcode.Text, "text frame");
      }
      if (frame.opcode === Opcode.Close) return;
    }
  });
  const frames: Uint8Array[] = [];
  const closes: string[] = [];
  const connect = webSocketTransportFactory(envOf(), { pongTimeoutMs: 5000 });
  const transport = await connect(server.url, '{"TokenValue":"tok"}', {
    onFrame: (frame) => frames.push(frame),
    onClose: (reason) => closes.push(reason),
  }, 2000);
  transport.sendBinary(new TextEncoder().encode("binary"));
  await waitFor(() => frames.length === 2, "two inbound frames");
  assertEquals(received.slice(0, 2), [[Opcode.Text, '{"TokenValue":"tok"}'], [
    Opcode.Binary,
    "binary",
  ]]);
  assertEquals(frames, [new Uint8Array([1, 2, 3]), new TextEncoder().encode("text frame")]);
  transport.close();
  await waitFor(() => received.some(([opcode]) => opcode === Opcode.Close), "the Close frame");
  await server.stop();
  await delay(10);
  assertEquals([closes, server.errors], [[], []]);
});

Deno.test("transport: a refused connection is a 'connection' SsmsshError naming the host", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const connect = webSocketTransportFactory(envOf());
  const events = { onFrame() {}, onClose() {} };
  const error = await assertRejects(
    () => connect(`ws://127.0.0.1:${port}/v1/data-channel/s-1`, "{}", events, 2000),
    SsmsshError,
    `Cannot open the Session Manager data channel at 127.0.0.1:${port}`,
  );
  assertEquals(error.kind, "connection");
  assertStringIncludes(error.hint, "HTTPS_PROXY");
});

Deno.test("transport: an untrusted certificate points at AWS_CA_BUNDLE", async () => {
  const certs = await makeTestCertificates();
  try {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert: certs.cert, key: certs.key, onListen() {} },
      () => new Response("never reached"),
    );
    try {
      const connect = webSocketTransportFactory(envOf());
      const events = { onFrame() {}, onClose() {} };
      const error = await assertRejects(
        () => connect(`wss://127.0.0.1:${server.addr.port}/`, "{}", events, 2000),
        SsmsshError,
        "was not trusted",
      );
      assertEquals(error.kind, "connection");
      assert(error.hint.includes("AWS_CA_BUNDLE"), error.hint);
    } finally {
      await server.shutdown();
    }
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});
