/**
 * The server end of one RFC 6455 websocket, on a socket whose opening handshake is done
 * (ws_handshake.ts). Every frame of one socket read is handled in one synchronous burst, and
 * frames sent during a burst leave in one socket write: the runtime's WebSocket costs an event
 * and a write per 1 KiB data-channel message, which would cap what a benchmark measures. Pings
 * are answered, fragmented messages joined, and a Close is echoed. Test/demo infrastructure.
 *
 * @example
 * ```ts
 * const socket = new ServerWebSocket(conn, rest); // rest: bytes read past the handshake
 * socket.onmessage = (data) => socket.send(typeof data === "string" ? data : data.slice());
 * socket.onclose = (code) => console.log("closed", code);
 * await socket.run(); // resolves once the connection is closed
 * ```
 * @module
 */

import { encodeFrame, type Frame, FrameParser, Opcode } from "../src/transport/websocket_frame.ts";
import { concatBytes, writeAll } from "../src/bytes.ts";

/** What the websocket needs of its connection (a Deno.Conn, or a spy in tests). */
export type SocketConn = Pick<Deno.Conn, "read" | "write" | "close">;

/** Options of {@linkcode ServerWebSocket}. */
export interface ServerWebSocketOptions {
  /** After sending a Close, wait this long for the peer's (ms) before closing the connection. */
  closeTimeoutMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One websocket, server side. */
export class ServerWebSocket {
  state: "open" | "closing" | "closed" = "open";
  /** A whole text (string) or binary (Uint8Array) message. */
  onmessage: ((data: string | Uint8Array) => void) | undefined;
  /** The connection ended: the Close code sent or received, or 1006 without one. */
  onclose: ((code: number) => void) | undefined;
  closeCode = 1006;

  readonly #conn: SocketConn;
  readonly #leftover: Uint8Array;
  readonly #closeTimeoutMs: number;
  readonly #parser = new FrameParser();
  #fragments: Uint8Array[] = [];
  #fragmentOpcode = 0;
  #pending: Uint8Array[] = [];
  #writing: Promise<void> | undefined;
  #closeWhenWritten = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    conn: SocketConn,
    leftover: Uint8Array = new Uint8Array(0),
    options: ServerWebSocketOptions = {},
  ) {
    this.#conn = conn;
    this.#leftover = leftover;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 2000;
  }

  /** True until a Close is sent or received. */
  get open(): boolean {
    return this.state === "open";
  }

  /** Sends a text (string) or binary message; ignored once the socket is not open. */
  send(data: string | Uint8Array): void {
    if (this.state !== "open") return;
    const text = typeof data === "string";
    this.#queue(
      encodeFrame(text ? Opcode.Text : Opcode.Binary, text ? encoder.encode(data) : data),
    );
  }

  /** Sends a Close; the connection closes when the peer answers it (or after a timeout). */
  close(code = 1000, reason = ""): void {
    if (this.state !== "open") return;
    this.state = "closing";
    this.closeCode = code;
    this.#queue(encodeFrame(Opcode.Close, closePayload(code, reason)));
    this.#closeTimer = setTimeout(() => this.#shutdown(), this.#closeTimeoutMs);
  }

  /** Reads and handles frames until the connection closes; resolves once it has. */
  async run(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      if (this.#leftover.length > 0) this.#onBytes(this.#leftover);
      while (this.state !== "closed") {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        this.#onBytes(buffer.slice(0, n)); // a copy: the parser may keep it
      }
    } catch {
      // reset by the peer, or closed by #shutdown
    }
    this.#shutdown();
    await this.#writing;
  }

  /** Handles every frame of one read, synchronously. */
  #onBytes(bytes: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = this.#parser.push(bytes);
    } catch {
      return this.#fail(1002);
    }
    for (const frame of frames) {
      if (this.state === "closed") return;
      this.#onFrame(frame);
    }
  }

  #onFrame(frame: Frame): void {
    switch (frame.opcode) {
      case Opcode.Ping:
        if (this.state === "open") this.#queue(encodeFrame(Opcode.Pong, frame.payload));
        return;
      case Opcode.Pong:
        return;
      case Opcode.Close:
        return this.#onClose(frame.payload);
      case Opcode.Text:
      case Opcode.Binary:
      case Opcode.Continuation:
        return this.#onDataFrame(frame);
      default:
        this.#fail(1002);
    }
  }

  #onClose(payload: Uint8Array): void {
    if (this.state !== "open") return this.#shutdown(); // the answer to our Close
    // Echo the code (RFC 6455 §5.5.1), then close the connection once the echo is written.
    this.closeCode = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
    this.state = "closing";
    this.#queue(encodeFrame(Opcode.Close, payload.slice(0, 2)));
    this.#closeWhenWritten = true;
  }

  #onDataFrame(frame: Frame): void {
    if (frame.opcode !== Opcode.Continuation) {
      if (this.#fragments.length > 0) return this.#fail(1002); // a new message mid-message
      this.#fragmentOpcode = frame.opcode;
    } else if (this.#fragments.length === 0) {
      return this.#fail(1002); // a continuation of nothing
    }
    if (!frame.fin) {
      this.#fragments.push(frame.payload);
      return;
    }
    const whole = this.#fragments.length === 0
      ? frame.payload
      : concatBytes([...this.#fragments, frame.payload]);
    this.#fragments = [];
    if (this.state !== "open") return;
    this.onmessage?.(this.#fragmentOpcode === Opcode.Text ? decoder.decode(whole) : whole);
  }

  /** Queues a frame; frames queued in the same burst, or while a write is busy, join one write. */
  #queue(frame: Uint8Array): void {
    this.#pending.push(frame);
    this.#writing ??= this.#writePending();
  }

  async #writePending(): Promise<void> {
    await Promise.resolve(); // the rest of this burst queues its frames first
    try {
      while (this.#pending.length > 0 && this.state !== "closed") {
        const batch = this.#pending.length === 1 ? this.#pending[0] : concatBytes(this.#pending);
        this.#pending = [];
        await writeAll(this.#conn, batch);
      }
    } catch {
      this.#shutdown(); // the connection is gone
    } finally {
      this.#pending = [];
      this.#writing = undefined;
    }
    if (this.#closeWhenWritten) this.#shutdown();
  }

  /** A protocol violation: Close with `code`, and stop reading. */
  #fail(code: number): void {
    this.close(code);
    this.#closeWhenWritten = true;
  }

  #shutdown(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.#closeTimer);
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.onclose?.(this.closeCode);
  }
}

/** A Close payload: the code (big-endian) and a UTF-8 reason cut to fit 125 bytes. */
function closePayload(code: number, reason: string): Uint8Array {
  const text = encoder.encode(reason).subarray(0, 123);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}
