/**
 * Both ends for the emulator's websocket tests: a one-connection server running
 * {@linkcode ServerWebSocket} (counting its socket writes), and a raw client that writes masked
 * frames by hand. Test infrastructure.
 *
 * @example
 * ```ts
 * await using server = serveOne({ echo: true });
 * const client = await connectRaw(server.port, "/echo");
 * await client.peer.write(masked(Opcode.Text, "hi"));
 * ```
 * @module
 */

import { readRequestHead } from "../../emulator/http_head.ts";
import { upgradeAnswer } from "../../emulator/ws_handshake.ts";
import { ServerWebSocket } from "../../emulator/ws_server.ts";
import { encodeFrame } from "../../src/transport/websocket_frame.ts";
import { writeAll } from "../../src/bytes.ts";
import { RawPeer } from "../transport/ws_peers.ts";

const encoder = new TextEncoder();

/** The server side of one websocket, and what it saw. */
export interface OneSocketServer extends AsyncDisposable {
  port: number;
  /** The server socket, once the handshake is done. */
  socket: Promise<ServerWebSocket>;
  messages: Array<string | Uint8Array>;
  closeCodes: number[];
  /** Byte counts of the socket's writes after the handshake. */
  writes: number[];
}

/** Accepts one connection on 127.0.0.1 and serves it; `echo` sends every message back. */
export function serveOne(options: { echo?: boolean } = {}): OneSocketServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const socket = Promise.withResolvers<ServerWebSocket>();
  const server = { messages: [], closeCodes: [], writes: [] } as Pick<
    OneSocketServer,
    "messages" | "closeCodes" | "writes"
  >;
  let conn: Deno.Conn | null = null;
  const served = (async () => {
    const accepted = await listener.accept().catch(() => null);
    if (!accepted) return; // stopped before anyone connected
    conn = accepted;
    try {
      const read = await readRequestHead(accepted);
      const answer = upgradeAnswer(read!.head);
      await writeAll(accepted, answer.bytes);
      if (!answer.accepted) return accepted.close();
      const counting = {
        read: (p: Uint8Array) => accepted.read(p),
        write: (p: Uint8Array) => {
          server.writes.push(p.length);
          return accepted.write(p);
        },
        close: () => accepted.close(),
      };
      const ws = new ServerWebSocket(counting, read!.rest, { closeTimeoutMs: 500 });
      ws.onmessage = (data) => {
        server.messages.push(data);
        if (options.echo) ws.send(data);
      };
      ws.onclose = (code) => server.closeCodes.push(code);
      socket.resolve(ws);
      await ws.run();
    } catch {
      // closed by stop()
    }
  })();
  const stop = async () => {
    listener.close();
    try {
      conn?.close(); // a failed test may leave the client connected
    } catch { /* closed by the socket */ }
    await served;
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    socket: socket.promise,
    ...server,
    [Symbol.asyncDispose]: stop,
  };
}

/** A raw client after its upgrade request: the answer's head and the key it sent. */
export interface RawClient {
  peer: RawPeer;
  head: string;
  key: string;
}

/** Connects and sends an upgrade request for `path`; `headers` replace the usual ones. */
export async function connectRaw(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawClient> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const all: Record<string, string> = {
    Host: `127.0.0.1:${port}`,
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": key,
    "Sec-WebSocket-Version": "13",
    ...headers,
  };
  const lines = Object.entries(all).filter(([, v]) => v !== "").map(([k, v]) => `${k}: ${v}`);
  const peer = new RawPeer(await Deno.connect({ hostname: "127.0.0.1", port }));
  await peer.write(`GET ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  const head = await peer.readHead();
  if (head === null) throw new Error("no answer to the upgrade request");
  return { peer, head, key };
}

/** A client frame: masked with a fresh key; `fin` false leaves a fragment open. */
export function masked(opcode: number, payload: Uint8Array | string, fin = true): Uint8Array {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const frame = encodeFrame(opcode, bytes, crypto.getRandomValues(new Uint8Array(4)));
  if (!fin) frame[0] &= 0x7f;
  return frame;
}
