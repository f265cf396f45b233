/**
 * A small RFC 6455 websocket client over Deno's TCP/TLS sockets, because the runtime's WebSocket
 * cannot send pings. It tunnels through an HTTP proxy with CONNECT (HTTPS_PROXY, NO_PROXY),
 * trusts the CA bundle in AWS_CA_BUNDLE in addition to the system roots, sends a ping right away
 * and then at a fixed interval, and treats a missing pong as a dead connection (the reference
 * client never notices a half-open socket).
 *
 * @example
 * ```ts
 * const ws = await WebSocketClient.connect("wss://example.com/socket", {
 *   env: (name) => Deno.env.get(name),
 *   onMessage: (data) => console.log(data),
 *   onClose: (reason) => console.log(reason),
 * });
 * ws.send("hello");
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { encodeFrame, type Frame, FrameParser, Opcode } from "./websocket_frame.ts";
import { defaultPort, proxyFor } from "./proxy_env.ts";
import { concatBytes, writeAll } from "../bytes.ts";

/** Options of {@linkcode WebSocketClient.connect}. */
export interface WebSocketClientOptions {
  env(name: string): string | undefined;
  /** A whole text (string) or binary (Uint8Array) message. */
  onMessage(data: string | Uint8Array): void;
  /** The connection ended without `close()` being called. */
  onClose(reason: string): void;
  /** Handshake deadline (ms). */
  timeoutMs?: number;
  /** Keepalive ping interval (ms); the reference client uses 5 minutes. */
  pingIntervalMs?: number;
  /** A pong must arrive within this long after a ping (ms). */
  pongTimeoutMs?: number;
  userAgent?: string;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An open websocket. */
export class WebSocketClient {
  state: "open" | "closing" | "closed" = "open";
  /** Pongs received; tests and diagnostics. */
  pongs = 0;
  /** Bytes handed to `send` but not yet written to the socket. */
  bufferedAmount = 0;

  readonly #conn: Deno.Conn;
  readonly #options: WebSocketClientOptions;
  readonly #parser = new FrameParser();
  #fragments: Uint8Array[] = [];
  #fragmentOpcode = 0;
  #pending: Uint8Array[] = [];
  #writing = false;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #writeFailed = false;
  #failTimer: ReturnType<typeof setTimeout> | undefined;
  #pongDeadline: ReturnType<typeof setTimeout> | undefined;

  private constructor(conn: Deno.Conn, options: WebSocketClientOptions, leftover: Uint8Array) {
    this.#conn = conn;
    this.#options = options;
    if (leftover.length > 0) this.#onBytes(leftover);
    void this.#readLoop();
    this.ping();
    this.#pingTimer = setInterval(() => this.ping(), options.pingIntervalMs ?? 60_000);
  }

  /** Dials `url` (ws: or wss:), through a proxy if the environment names one. */
  static async connect(url: string, options: WebSocketClientOptions): Promise<WebSocketClient> {
    const target = new URL(url);
    if (target.protocol !== "ws:" && target.protocol !== "wss:") {
      throw new Error(`not a websocket URL (${target.protocol})`);
    }
    const timeoutMs = options.timeoutMs ?? 15_000;
    const abort = new AbortController();
    let conn: Deno.Conn | undefined;
    const timer = setTimeout(() => {
      abort.abort();
      try {
        conn?.close();
      } catch { /* already closed */ }
    }, timeoutMs);
    try {
      // dial reports the proxy socket as soon as it exists, so the timer can close it too.
      conn = await dial(target, options.env, abort.signal, (opened) => conn = opened);
      const leftover = await handshake(conn, target, options.userAgent ?? "ssmssh");
      return new WebSocketClient(conn, options, leftover);
    } catch (error) {
      try {
        conn?.close();
      } catch { /* already closed */ }
      if (abort.signal.aborted) throw new Error(`no answer within ${timeoutMs / 1000} s`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a text (string) or binary message. Throws if the socket is not open. */
  send(data: string | Uint8Array): void {
    if (this.state !== "open" || this.#writeFailed) throw new Error("websocket is not open");
    const opcode = typeof data === "string" ? Opcode.Text : Opcode.Binary;
    this.#write(
      encodeFrame(opcode, typeof data === "string" ? encoder.encode(data) : data, mask()),
    );
  }

  /** Sends a ping (payload "keepalive", as the reference client does) and expects a pong. */
  ping(): void {
    if (this.state !== "open") return;
    this.#write(encodeFrame(Opcode.Ping, encoder.encode("keepalive"), mask()));
    if (this.#pongDeadline === undefined) {
      this.#pongDeadline = setTimeout(
        () => this.#terminate("no pong from the server: the connection is dead"),
        this.#options.pongTimeoutMs ?? 30_000,
      );
    }
  }

  /** Sends a Close frame (1000) and closes the socket; no onClose callback. */
  close(): void {
    if (this.state !== "open") return;
    this.state = "closing";
    this.#write(encodeFrame(Opcode.Close, new Uint8Array([0x03, 0xe8]), mask()));
    this.#stopTimers();
    void this.#flushed().finally(() => this.#shutdown());
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) return this.#terminate("the server closed the connection");
        this.#onBytes(buffer.slice(0, n));
        if (this.state === "closed") return;
      }
    } catch (error) {
      this.#terminate(`read failed: ${(error as Error).message}`);
    }
  }

  #onBytes(bytes: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.#parser.push(bytes);
    } catch (error) {
      return this.#terminate(`protocol error: ${(error as Error).message}`);
    }
    for (const frame of frames) {
      if (this.state === "closed") return;
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Frame): void {
    switch (frame.opcode) {
      case Opcode.Ping:
        if (this.state === "open") this.#write(encodeFrame(Opcode.Pong, frame.payload, mask()));
        return;
      case Opcode.Pong:
        this.pongs++;
        clearTimeout(this.#pongDeadline);
        this.#pongDeadline = undefined;
        return;
      case Opcode.Close: {
        const code = frame.payload.length >= 2 ? (frame.payload[0] << 8) | frame.payload[1] : 1005;
        if (this.state !== "open") return this.#shutdown();
        // Echo the Close (RFC 6455 §5.5.1) and close the socket once it is written: closing at
        // once would cancel the write.
        this.#write(encodeFrame(Opcode.Close, frame.payload.slice(0, 2), mask()));
        this.state = "closing";
        this.#stopTimers();
        void this.#flushed().finally(() => this.#shutdown());
        return this.#options.onClose(`the server closed the websocket (code ${code})`);
      }
      case Opcode.Text:
      case Opcode.Binary:
      case Opcode.Continuation:
        return this.#onDataFrame(frame);
      default:
        this.#terminate(`protocol error: unknown opcode ${frame.opcode}`);
    }
  }

  #onDataFrame(frame: Frame): void {
    if (frame.opcode !== Opcode.Continuation) {
      this.#fragmentOpcode = frame.opcode;
      this.#fragments = [];
    }
    if (frame.fin && this.#fragments.length === 0) {
      return this.#deliver(this.#fragmentOpcode, frame.payload);
    }
    this.#fragments.push(frame.payload);
    if (!frame.fin) return;
    const total = this.#fragments.reduce((n, f) => n + f.length, 0);
    const whole = new Uint8Array(total);
    let offset = 0;
    for (const f of this.#fragments) {
      whole.set(f, offset);
      offset += f.length;
    }
    this.#fragments = [];
    this.#deliver(this.#fragmentOpcode, whole);
  }

  #deliver(opcode: number, payload: Uint8Array): void {
    if (this.state !== "open") return;
    this.#options.onMessage(opcode === Opcode.Text ? decoder.decode(payload) : payload);
  }

  /** Queues bytes; frames queued while a write is in flight go out together in one write. */
  #write(bytes: Uint8Array): void {
    if (this.#writeFailed) return;
    this.#pending.push(bytes);
    this.bufferedAmount += bytes.length;
    if (!this.#writing) void this.#drainWrites();
  }

  async #drainWrites(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0 && this.state !== "closed") {
        const batch = this.#pending.length === 1 ? this.#pending[0] : concatBytes(this.#pending);
        this.#pending = [];
        for (let offset = 0; offset < batch.length;) {
          offset += await this.#conn.write(batch.subarray(offset));
        }
        this.bufferedAmount -= batch.length;
      }
    } catch (error) {
      // Frames the server sent before the reset (channel_closed, say) may still be unread: give
      // the read loop a moment to deliver them and report the end itself.
      const reason = `write failed: ${(error as Error).message}`;
      this.#pending = [];
      this.#writeFailed = true;
      this.#failTimer = setTimeout(() => this.#terminate(reason), 250);
    } finally {
      this.#writing = false;
    }
  }

  async #flushed(): Promise<void> {
    for (let i = 0; i < 100 && (this.#writing || this.#pending.length > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  #terminate(reason: string): void {
    if (this.state === "closed") return;
    const notify = this.state === "open";
    this.#shutdown();
    if (notify) this.#options.onClose(reason);
  }

  #shutdown(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.#stopTimers();
    this.#pending = [];
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#failTimer);
    clearTimeout(this.#pongDeadline);
    this.#pongDeadline = undefined;
  }
}

async function dial(
  target: URL,
  env: (name: string) => string | undefined,
  signal: AbortSignal,
  opened: (conn: Deno.Conn) => void,
): Promise<Deno.Conn> {
  const hostname = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port || defaultPort(target.protocol));
  const secure = target.protocol === "wss:";
  const caCerts = await extraCaCerts(env);
  const proxy = proxyFor(target, env);
  // Small frames must not wait for Nagle's algorithm: every SSH round trip would pay for it.
  if (!proxy) {
    const tcp = await Deno.connect({ hostname, port, signal });
    tcp.setNoDelay(true);
    opened(tcp);
    return secure ? await Deno.startTls(tcp, { hostname, caCerts }) : tcp;
  }
  const proxyConn = await Deno.connect({
    hostname: proxy.hostname.replace(/^\[|\]$/g, ""),
    port: Number(proxy.port || 80),
    signal,
  });
  proxyConn.setNoDelay(true);
  opened(proxyConn);
  try {
    await connectTunnel(proxyConn, `${target.hostname}:${port}`, proxy);
  } catch (error) {
    try {
      proxyConn.close();
    } catch { /* the connect timer closed it */ }
    throw error;
  }
  return secure ? await Deno.startTls(proxyConn, { hostname, caCerts }) : proxyConn;
}

async function connectTunnel(conn: Deno.Conn, authority: string, proxy: URL): Promise<void> {
  // UTF-8, as curl and fetch send it; btoa alone throws on characters outside Latin-1.
  const credentials = encoder.encode(
    `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`,
  );
  const auth = proxy.username
    ? `Proxy-Authorization: Basic ${btoa(String.fromCharCode(...credentials))}\r\n`
    : "";
  await writeAll(
    conn,
    encoder.encode(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`),
  );
  const { head, rest } = await readHead(conn);
  const status = head.split("\r\n")[0];
  if (!/^HTTP\/1\.[01] 200/.test(status)) {
    throw new Error(`the proxy ${proxy.host} refused CONNECT ${authority}: ${status}`);
  }
  if (rest.length > 0) {
    throw new Error(`the proxy ${proxy.host} sent data before the tunnel opened`);
  }
}

async function handshake(conn: Deno.Conn, target: URL, userAgent: string): Promise<Uint8Array> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const request = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    `User-Agent: ${userAgent}`,
    "",
    "",
  ].join("\r\n");
  await writeAll(conn, encoder.encode(request));
  const { head, rest } = await readHead(conn);
  const [status, ...lines] = head.split("\r\n");
  if (!/^HTTP\/1\.1 101/.test(status)) throw new Error(`the server answered ${status}`);
  const headers = new Map(lines.map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as [string, string];
  }));
  const expected = createHash("sha1").update(key + GUID).digest("base64");
  if (headers.get("sec-websocket-accept") !== expected) {
    throw new Error("the server's Sec-WebSocket-Accept is wrong");
  }
  return rest;
}

async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  let data: Uint8Array = new Uint8Array(0);
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("the connection closed during the HTTP handshake");
    data = concatBytes([data, buffer.subarray(0, n)]);
    const end = indexOfHeadEnd(data);
    if (end >= 0) return { head: decoder.decode(data.subarray(0, end)), rest: data.slice(end + 4) };
    if (data.length > 65536) throw new Error("the HTTP handshake answer is too large");
  }
}

function indexOfHeadEnd(data: Uint8Array): number {
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) return i;
  }
  return -1;
}

async function extraCaCerts(
  env: (name: string) => string | undefined,
): Promise<string[] | undefined> {
  const bundle = env("AWS_CA_BUNDLE");
  if (!bundle) return undefined;
  try {
    return [await Deno.readTextFile(bundle)];
  } catch (error) {
    throw new Error(`cannot read AWS_CA_BUNDLE ${bundle}: ${(error as Error).message}`);
  }
}

/** Random bytes for masking keys, drawn from the system 4 KiB at a time (one call per 1024 frames). */
const maskPool = new Uint8Array(4096);
let maskOffset = maskPool.length;

/** A fresh, unpredictable 4-byte masking key (RFC 6455 §5.3). */
function mask(): Uint8Array {
  if (maskOffset === maskPool.length) {
    crypto.getRandomValues(maskPool);
    maskOffset = 0;
  }
  maskOffset += 4;
  return maskPool.subarray(maskOffset - 4, maskOffset);
}
