/**
 * Real websocket peers on loopback for the transport tests: an echo server on Deno.serve, and a
 * raw TCP server that speaks HTTP and RFC 6455 by hand so tests can misbehave on purpose
 * (fragments, unanswered pings, bad handshakes, silent proxies). Test infrastructure.
 * @module
 */

import {
  encodeFrame,
  type Frame,
  FrameParser,
  Opcode,
} from "../../src/transport/websocket_frame.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Resolves when `predicate` holds, polling every few ms; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** A real-time pause. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An environment lookup over a plain object. */
export const envOf = (vars: Record<string, string> = {}) => (name: string): string | undefined =>
  vars[name];

/** Sec-WebSocket-Accept for a key, computed independently of the client (WebCrypto). */
export async function acceptFor(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** What Deno.serve's websocket end saw. */
export interface EchoServer extends AsyncDisposable {
  url: string;
  port: number;
  /** Close codes of the server-side sockets, in order. */
  closeCodes: number[];
  /** Request headers of every upgrade. */
  requests: Headers[];
  /** Server-side sockets, for server-initiated actions. */
  sockets: WebSocket[];
  stop(): Promise<void>;
}

/**
 * Deno.serve + Deno.upgradeWebSocket echoing every message back. The text message "close:N"
 * makes the server close the websocket with code N instead.
 */
export function startEchoServer(tls?: { cert: string; key: string }): EchoServer {
  const closeCodes: number[] = [];
  const requests: Headers[] = [];
  const sockets: WebSocket[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, ...(tls ?? {}) },
    (request) => {
      if (request.headers.get("upgrade") !== "websocket") {
        return new Response("websocket only", { status: 400 });
      }
      requests.push(new Headers(request.headers));
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.binaryType = "arraybuffer";
      sockets.push(socket);
      socket.onmessage = (event) => {
        const data = event.data;
        const close = typeof data === "string" ? /^close:(\d+)$/.exec(data) : null;
        if (close) socket.close(Number(close[1]), "asked to");
        else socket.send(data);
      };
      socket.onclose = (event) => closeCodes.push(event.code);
      return response;
    },
  );
  const port = server.addr.port;
  const stop = async () => {
    for (const socket of sockets) {
      if (socket.readyState === WebSocket.OPEN) socket.close();
    }
    await server.shutdown();
  };
  return {
    url: `${tls ? "wss" : "ws"}://127.0.0.1:${port}/echo?x=1`,
    port,
    closeCodes,
    requests,
    sockets,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A server-side connection with buffered reading of HTTP heads and websocket frames. */
export class RawPeer {
  readonly conn: Deno.Conn;
  #buffered: Uint8Array = new Uint8Array(0);
  readonly #parser = new FrameParser();
  readonly #frames: Frame[] = [];

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Reads an HTTP request or response head (without the blank line); null on EOF. */
  async readHead(): Promise<string | null> {
    for (;;) {
      const text = decoder.decode(this.#buffered);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const headBytes = encoder.encode(text.slice(0, end + 4)).length;
        this.#buffered = this.#buffered.slice(headBytes);
        return text.slice(0, end);
      }
      const chunk = await this.#read();
      if (!chunk) return null;
      this.#buffered = concat(this.#buffered, chunk);
    }
  }

  /** Reads the next client frame (unmasked for the caller); null on EOF or a closed socket. */
  async readFrame(): Promise<Frame | null> {
    for (;;) {
      if (this.#frames.length > 0) return this.#frames.shift()!;
      if (this.#buffered.length > 0) {
        const bytes = this.#buffered;
        this.#buffered = new Uint8Array(0);
        this.#frames.push(...this.#parser.push(bytes));
        continue;
      }
      const chunk = await this.#read();
      if (!chunk) return null;
      this.#frames.push(...this.#parser.push(chunk));
    }
  }

  /** Reads and discards bytes until EOF: a peer that never answers. */
  async silence(): Promise<void> {
    while (await this.#read()) { /* discard */ }
  }

  /** Reads frames until one with `opcode`; null on EOF. */
  async readUntil(opcode: number): Promise<Frame | null> {
    for (let frame; (frame = await this.readFrame());) if (frame.opcode === opcode) return frame;
    return null;
  }

  /** Reads and answers the websocket upgrade; returns the request head. */
  async acceptWebSocket(
    o: { accept?: (key: string) => Promise<string>; extra?: Uint8Array } = {},
  ): Promise<string> {
    const head = await this.readHead();
    if (head === null) throw new Error("no upgrade request");
    const key = /^sec-websocket-key: *(.+)$/im.exec(head)?.[1].trim() ?? "";
    const accept = await (o.accept ?? acceptFor)(key);
    const answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
      `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
    await this.write(concat(encoder.encode(answer), o.extra ?? new Uint8Array(0)));
    return head;
  }

  /** Writes a server (unmasked) frame with the given FIN bit. */
  async sendFrame(opcode: number, payload: Uint8Array | string, fin = true): Promise<void> {
    const bytes = encodeFrame(
      opcode,
      typeof payload === "string" ? encoder.encode(payload) : payload,
    );
    if (!fin) bytes[0] &= 0x7f;
    await this.write(bytes);
  }

  async write(bytes: Uint8Array | string): Promise<void> {
    const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    for (let offset = 0; offset < data.length;) {
      offset += await this.conn.write(data.subarray(offset));
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async #read(): Promise<Uint8Array | null> {
    const buffer = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(buffer);
    } catch {
      return null; // closed by stop() or reset by the client
    }
    return n === null ? null : buffer.slice(0, n);
  }
}

/** A raw TCP server; `handle` runs per connection, its failures are collected in `errors`. */
export interface RawServer extends AsyncDisposable {
  port: number;
  url: string;
  peers: RawPeer[];
  errors: unknown[];
  /** Closes the listener and every connection, and waits for the handlers. */
  stop(): Promise<void>;
}

/** Starts a raw TCP server on 127.0.0.1:0. */
export function startRawServer(handle: (peer: RawPeer) => Promise<void>): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const peers: RawPeer[] = [];
  const errors: unknown[] = [];
  const handlers: Promise<void>[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const peer = new RawPeer(conn);
        peers.push(peer);
        handlers.push(
          handle(peer).catch((error) => {
            errors.push(error);
          }).finally(() => peer.close()),
        );
      }
    } catch { /* listener closed */ }
  })();
  const stop = async () => {
    try {
      listener.close();
    } catch { /* closed */ }
    await accepting;
    for (const peer of peers) peer.close();
    await Promise.allSettled(handlers);
  };
  return {
    port,
    url: `ws://127.0.0.1:${port}/raw`,
    peers,
    errors,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Text of a payload. */
export const untext = (bytes: Uint8Array): string => decoder.decode(bytes);

/** The close code carried in a Close frame payload. */
export const closeCode = (frame: Frame): number =>
  frame.payload.length >= 2 ? (frame.payload[0] << 8) | frame.payload[1] : 1005;

export { Opcode };

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
