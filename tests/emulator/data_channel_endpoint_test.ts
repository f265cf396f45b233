/**
 * The emulator's data-channel endpoint (server.ts + stream_listener.ts) seen by a raw client:
 * HTTP errors for bad requests, the token check on the first message, the agent's first frame,
 * and TerminateSession; StreamUrl names the endpoint's own port, as ssmmessages is its own host.
 */

import { assert, assertEquals } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { decodeClientMessage } from "../../src/protocol/client_message.ts";
import { MessageType, PayloadType } from "../../src/protocol/message_type.ts";
import { Opcode } from "../../src/transport/websocket_frame.ts";
import { connectRaw, masked } from "./ws_peer.ts";

const INSTANCE = "i-0123456789abcdef0";

/** Calls the emulator's JSON API directly (it checks that a signature is present, not its value). */
async function callApi(
  url: string,
  target: string,
  input: unknown,
): Promise<Record<string, string>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "x-amz-target": target, authorization: "AWS4-HMAC-SHA256 test" },
    body: JSON.stringify(input),
  });
  assertEquals(response.status, 200);
  return await response.json();
}

Deno.test("data channel: 400 without an upgrade, 404 for an unknown session", async () => {
  await using emulator = await startEmulator();
  const plain = await fetch(
    `http://127.0.0.1:${emulator.streamPort}/v1/data-channel/nope?role=publish_subscribe`,
  );
  assertEquals([plain.status, await plain.text()], [400, "websocket upgrade required"]);
  const unknown = await connectRaw(emulator.streamPort, "/v1/data-channel/nope");
  assertEquals(unknown.head.split("\r\n")[0], "HTTP/1.1 404 Not Found");
  unknown.peer.close();
});

Deno.test("data channel: a wrong token is closed with 4001; the right one meets the agent", async () => {
  await using emulator = await startEmulator();
  const started = await callApi(emulator.url, "AmazonSSM.StartSession", {
    Target: INSTANCE,
    DocumentName: "AWS-StartSSHSession",
  });
  const path = new URL(started.StreamUrl);
  assertEquals(path.port, String(emulator.streamPort), "StreamUrl names the endpoint's port");

  const intruder = await connectRaw(emulator.streamPort, path.pathname + path.search);
  await intruder.peer.write(masked(Opcode.Text, JSON.stringify({ TokenValue: "forged" })));
  const refused = await intruder.peer.readUntil(Opcode.Close);
  assertEquals((refused!.payload[0] << 8) | refused!.payload[1], 4001);
  assertEquals(new TextDecoder().decode(refused!.payload.subarray(2)), "invalid token");
  intruder.peer.close();

  const client = await connectRaw(emulator.streamPort, path.pathname + path.search);
  const open = { MessageSchemaVersion: "1.0", RequestId: "r", TokenValue: started.TokenValue };
  await client.peer.write(masked(Opcode.Text, JSON.stringify(open)));
  const first = decodeClientMessage((await client.peer.readUntil(Opcode.Binary))!.payload);
  assertEquals(first.messageType, MessageType.OutputStreamData);
  assertEquals(first.payloadType, PayloadType.HandshakeRequest);
  const session = emulator.sessions.get(started.SessionId)!;
  assertEquals(session.agent.connections, 1);

  await callApi(emulator.url, "AmazonSSM.TerminateSession", { SessionId: started.SessionId });
  const closing = decodeClientMessage((await client.peer.readUntil(Opcode.Binary))!.payload);
  assertEquals(closing.messageType, MessageType.ChannelClosed);
  const close = await client.peer.readUntil(Opcode.Close);
  assertEquals((close!.payload[0] << 8) | close!.payload[1], 1000);
  client.peer.close();
});

Deno.test("data channel: stop() closes connections still open", async () => {
  const emulator = await startEmulator();
  const idle = await Deno.connect({ hostname: "127.0.0.1", port: emulator.streamPort });
  await emulator.stop();
  const read = await idle.read(new Uint8Array(16)).catch(() => null);
  assert(read === null, "the emulator closed the idle connection");
  idle.close();
});
