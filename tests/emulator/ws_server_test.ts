/**
 * The emulator's own websocket server (ws_handshake.ts, ws_server.ts) against a raw client that
 * writes masked frames by hand: the accept value, bursts in and out, ping, close, fragments.
 */

import { assert, assertEquals } from "../support/assert.ts";
import { acceptValue, upgradeAnswer } from "../../emulator/ws_handshake.ts";
import { parseRequestHead } from "../../emulator/http_head.ts";
import { Opcode } from "../../src/transport/websocket_frame.ts";
import { acceptFor, waitFor } from "../transport/ws_peers.ts";
import { connectRaw, masked, serveOne } from "./ws_peer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("acceptValue: the RFC 6455 §1.3 example", () => {
  assertEquals(acceptValue("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("handshake: 101 with Sec-WebSocket-Accept computed from the client's key", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/v1/data-channel/s?role=publish_subscribe");
  const [status, ...lines] = client.head.split("\r\n");
  assertEquals(status, "HTTP/1.1 101 Switching Protocols");
  assert(lines.includes(`Sec-WebSocket-Accept: ${await acceptFor(client.key)}`), client.head);
  assert(lines.includes("Upgrade: websocket"), client.head);
  await client.peer.write(masked(Opcode.Close, new Uint8Array([0x03, 0xe8])));
  await client.peer.readUntil(Opcode.Close);
  client.peer.close();
});

Deno.test("upgradeAnswer: bad upgrade requests get 400, another version 426", () => {
  const request = (headers: string) =>
    parseRequestHead(`GET /x HTTP/1.1\r\nHost: h\r\n${headers}`.trimEnd());
  const good = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13";
  const status = (headers: string) =>
    decoder.decode(upgradeAnswer(request(headers)).bytes).split("\r\n")[0];
  assertEquals(upgradeAnswer(request(good)).accepted, true);
  assertEquals(
    status(good.replace("Upgrade: websocket", "Upgrade: h2c")),
    "HTTP/1.1 400 Bad Request",
  );
  assertEquals(
    status(good.replace("keep-alive, Upgrade", "keep-alive")),
    "HTTP/1.1 400 Bad Request",
  );
  assertEquals(
    status(good.replace("dGhlIHNhbXBsZSBub25jZQ==", "short")),
    "HTTP/1.1 400 Bad Request",
  );
  assertEquals(status(good.replace("Version: 13", "Version: 8")), "HTTP/1.1 426 Upgrade Required");
  const refused = decoder.decode(upgradeAnswer(request("")).bytes);
  assert(refused.endsWith("\r\n\r\nwebsocket upgrade required"), refused);
});

Deno.test("a bad upgrade on the wire gets 400 and the connection closes", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/x", { Upgrade: "", Connection: "" });
  assertEquals(client.head.split("\r\n")[0], "HTTP/1.1 400 Bad Request");
  assert((await client.peer.readHead()) === null, "the connection closes after the answer");
  client.peer.close();
});

Deno.test("masked frames joined and split across reads arrive as whole messages", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/x");
  const big = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff); // a 64-bit length
  const joined = [
    masked(Opcode.Binary, "one"),
    masked(Opcode.Text, "two"),
    masked(Opcode.Binary, big),
  ];
  const stream = new Uint8Array(joined.reduce((n, f) => n + f.length, 0));
  joined.reduce((offset, f) => (stream.set(f, offset), offset + f.length), 0);
  await client.peer.write(stream.subarray(0, 5)); // inside the first header
  await client.peer.write(stream.subarray(5, 40_000));
  await client.peer.write(stream.subarray(40_000));
  await waitFor(() => server.messages.length === 3, "three messages");
  assertEquals(server.messages, [encoder.encode("one"), "two", big]);
  client.peer.close();
});

Deno.test("a burst: frames of one read are answered in one socket write", async () => {
  await using server = serveOne({ echo: true });
  const client = await connectRaw(server.port, "/x");
  const frames = Array.from({ length: 20 }, (_, i) => masked(Opcode.Binary, `message ${i}`));
  const burst = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((offset, f) => (burst.set(f, offset), offset + f.length), 0);
  await client.peer.write(burst);
  for (let i = 0; i < 20; i++) {
    const frame = await client.peer.readFrame();
    assertEquals(decoder.decode(frame!.payload), `message ${i}`);
  }
  assertEquals(server.writes.length, 1, `writes: ${server.writes}`);
  client.peer.close();
});

Deno.test("ping: answered at once with an unmasked pong of the same payload", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/x");
  await client.peer.write(masked(Opcode.Ping, "keepalive"));
  const buffer = new Uint8Array(64);
  const n = await client.peer.conn.read(buffer);
  assertEquals([...buffer.subarray(0, n!)], [0x8a, 9, ...encoder.encode("keepalive")]);
  client.peer.close();
});

Deno.test("close from the client: echoed with its code, then the connection ends", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/x");
  await client.peer.write(
    masked(Opcode.Close, new Uint8Array([0x03, 0xe8, ...encoder.encode("bye")])),
  );
  const echo = await client.peer.readFrame();
  assertEquals(echo?.opcode, Opcode.Close);
  assertEquals([...echo!.payload], [0x03, 0xe8]);
  assertEquals(await client.peer.readFrame(), null, "EOF after the echo");
  await waitFor(() => server.closeCodes.length === 1, "onclose");
  assertEquals(server.closeCodes, [1000]);
  client.peer.close();
});

Deno.test("close from the server: code and reason sent, the client's echo ends it", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/x");
  const socket = await server.socket;
  socket.close(4000, "dropped by the emulator");
  assertEquals(socket.open, false);
  socket.send(encoder.encode("too late")); // ignored once closing
  const close = await client.peer.readFrame();
  assertEquals(close?.opcode, Opcode.Close);
  assertEquals((close!.payload[0] << 8) | close!.payload[1], 4000);
  assertEquals(decoder.decode(close!.payload.subarray(2)), "dropped by the emulator");
  assertEquals(server.closeCodes, [], "open until the client answers");
  await client.peer.write(masked(Opcode.Close, close!.payload.subarray(0, 2)));
  assertEquals(await client.peer.readFrame(), null);
  await waitFor(() => server.closeCodes.length === 1, "onclose");
  assertEquals(server.closeCodes, [4000]);
  client.peer.close();
});

Deno.test("a fragmented message is joined; a ping between fragments is answered", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/x");
  await client.peer.write(masked(Opcode.Text, "frag", false));
  await client.peer.write(masked(Opcode.Ping, "p"));
  await client.peer.write(masked(Opcode.Continuation, "men", false));
  await client.peer.write(masked(Opcode.Continuation, "ted"));
  const pong = await client.peer.readFrame();
  assertEquals([pong?.opcode, decoder.decode(pong?.payload)], [Opcode.Pong, "p"]);
  await waitFor(() => server.messages.length === 1, "the joined message");
  assertEquals(server.messages, ["fragmented"]);
  client.peer.close();
});

Deno.test("a protocol violation (continuation of nothing) closes with 1002", async () => {
  await using server = serveOne();
  const client = await connectRaw(server.port, "/x");
  await client.peer.write(masked(Opcode.Continuation, "orphan"));
  const close = await client.peer.readFrame();
  assertEquals((close!.payload[0] << 8) | close!.payload[1], 1002);
  assertEquals(await client.peer.readFrame(), null);
  await waitFor(() => server.closeCodes.length === 1, "onclose");
  assertEquals(server.messages, []);
  client.peer.close();
});
