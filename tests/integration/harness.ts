/**
 * Shared fixtures for the in-process integration tests: the real ProxySession over a real local
 * websocket ({@linkcode openWebSocketTransport}) to the emulator, with the SDK session API pointed
 * at the emulator through its environment, and TCP targets on 127.0.0.1:0 (echo, sink+source).
 * Every helper is disposable so Deno's op and resource sanitizers stay happy.
 * @module
 */

import { createHash } from "node:crypto";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import { createAwsContext } from "../../src/aws/aws_context.ts";
import { resumeSession, type StartedSession, startSession } from "../../src/aws/session_api.ts";
import { type ProxyOutcome, ProxySession } from "../../src/session/proxy_session.ts";
import type { ByteSink } from "../../src/session/port_session.ts";
import {
  openWebSocketTransport,
  type Transport,
  type TransportFactory,
} from "../../src/transport/websocket_transport.ts";
import type { Logger } from "../../src/log/logger.ts";
import type { OpenDataChannelInput } from "../../src/protocol/payloads.ts";
import { randomBytes } from "../support/product.ts";

export { randomBytes };

export const INSTANCE = "i-0123456789abcdef0";
export const KB = 1024;
export const MB = 1024 * 1024;

/** Resolves after `ms` (used for pacing stimuli and cleanup, never as an assertion). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** SHA-256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The end of a session whose input ended: after the drain ssmssh sends Flag TerminateSession, and
 * the agent's channel_closed (empty Output) may beat the ack of that flag. Either is normal.
 */
export function assertEndedByInput(outcome: ProxyOutcome): void {
  const normal = [
    JSON.stringify({ kind: "input-ended", drained: true }),
    JSON.stringify({ kind: "channel-closed", output: "" }),
  ];
  if (!normal.includes(JSON.stringify(outcome))) {
    throw new Error(`expected a normal end after the input ended, got ${JSON.stringify(outcome)}`);
  }
}

/** Sets environment variables; the returned function puts the previous values back. */
export function setEnv(vars: Record<string, string>): () => void {
  const previous = Object.keys(vars).map((key) => [key, Deno.env.get(key)] as const);
  for (const [key, value] of Object.entries(vars)) Deno.env.set(key, value);
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) Deno.env.delete(key);
      else Deno.env.set(key, value);
    }
  };
}

/** Polls `condition` every few ms until it holds; throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** A TCP server on 127.0.0.1:0. */
export interface TcpServer extends AsyncDisposable {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
}

/** Tracks connections and tasks so a server can be torn down completely. */
function tcpServer(handle: (conn: Deno.TcpConn) => Promise<void>): TcpServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  const tasks: Promise<void>[] = [];
  const server = {
    port: listener.addr.port,
    accepted: 0,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const conn of conns) closeQuietly(conn);
      await Promise.all(tasks);
    },
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        server.accepted++;
        conns.add(conn);
        tasks.push(
          handle(conn).catch(() => {}).finally(() => {
            conns.delete(conn);
            closeQuietly(conn);
          }),
        );
      }
    } catch {
      // listener closed
    }
  })();
  return server;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** A TCP echo server: every byte read is written back. */
export function startEchoServer(): TcpServer {
  return tcpServer(async (conn) => {
    const buffer = new Uint8Array(64 * KB);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      for (let offset = 0; offset < n;) offset += await conn.write(buffer.subarray(offset, n));
    }
  });
}

/**
 * A sink+source server: reads exactly `expect` bytes (kept in `received`), then writes `reply`
 * and closes the connection (the agent then ends the session, as sshd closing does).
 */
export function startSinkSourceServer(
  expect: number,
  reply: Uint8Array,
): TcpServer & { received: Uint8Array } {
  const received = new Uint8Array(expect);
  const server = tcpServer(async (conn) => {
    let got = 0;
    while (got < expect) {
      const n = await conn.read(received.subarray(got));
      if (n === null) throw new Error(`sink: EOF after ${got} of ${expect} bytes`);
      got += n;
    }
    for (let offset = 0; offset < reply.length;) offset += await conn.write(reply.subarray(offset));
  });
  return Object.assign(server, { received });
}

/** A port on 127.0.0.1 with nothing listening on it. */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** An output sink that keeps every byte and can run callbacks at byte thresholds. */
export class CollectingSink implements ByteSink {
  #chunks: Uint8Array[] = [];
  #length = 0;
  #watchers: Array<{ at: number; fn: () => void }> = [];

  get length(): number {
    return this.#length;
  }

  write(bytes: Uint8Array): Promise<void> {
    this.#chunks.push(bytes.slice());
    this.#length += bytes.length;
    const due = this.#watchers.filter((w) => this.#length >= w.at);
    this.#watchers = this.#watchers.filter((w) => this.#length < w.at);
    for (const w of due) w.fn();
    return Promise.resolve();
  }

  /** Runs `fn` once, as soon as at least `bytes` have been written. */
  at(bytes: number, fn: () => void): void {
    if (this.#length >= bytes) fn();
    else this.#watchers.push({ at: bytes, fn });
  }

  /** Resolves once at least `bytes` have been written. */
  reached(bytes: number): Promise<void> {
    return new Promise((resolve) => this.at(bytes, resolve));
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** The sizes of the reads {@linkcode sourceOf} makes for `total` bytes. */
export function readSizes(total: number): number[] {
  const pattern = [1, 100, 1023, 1024, 1025, 3000, 16 * KB, 64 * KB - 1, 64 * KB];
  const sizes: number[] = [];
  for (let left = total, i = 0; left > 0; i++) {
    const size = Math.min(left, pattern[i % pattern.length]);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/**
 * The input of a session: `data` in reads of varying sizes ({@linkcode readSizes}, 1 byte to
 * 64 KiB, like a pipe), each a separate event-loop turn, like stdin. After the last byte it waits
 * for `endAfter` (for an echo: until everything came back) before it ends, as ssh keeps stdin open.
 */
export function sourceOf(
  data: Uint8Array,
  endAfter: Promise<void> = Promise.resolve(),
): ReadableStream<Uint8Array> {
  const sizes = readSizes(data.length);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const size = sizes.shift();
      if (size === undefined) {
        await endAfter;
        controller.close();
        return;
      }
      await delay(0);
      controller.enqueue(data.slice(offset, offset + size));
      offset += size;
    },
  }, { highWaterMark: 0 });
}

/** A logger that keeps lines (printed only if a test wants them). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** One websocket the client opened: where and what it sent first. */
export interface OpenRecord {
  url: string;
  input: OpenDataChannelInput;
}

/**
 * Wraps a TransportFactory: records every dial and lets a test watch every frame the client
 * writes (`onSend`), then delegates to the real transport unchanged.
 */
export function recordingConnect(
  inner: TransportFactory,
  opens: OpenRecord[],
  onSend?: (frame: Uint8Array) => void,
): TransportFactory {
  return async (url, openInput, events, timeoutMs) => {
    opens.push({ url, input: JSON.parse(openInput) });
    const transport = await inner(url, openInput, events, timeoutMs);
    const wrapped: Transport = {
      sendBinary(frame) {
        onSend?.(frame);
        transport.sendBinary(frame);
      },
      close: () => transport.close(),
    };
    return wrapped;
  };
}

/** The emulator, an echo server and the environment pointing the SDK at the emulator. */
export interface World extends AsyncDisposable {
  emulator: Emulator;
  echo: TcpServer;
}

/** Starts the emulator and an echo target and sets the SDK environment (restored on dispose). */
export async function startWorld(options: EmulatorOptions = {}): Promise<World> {
  const emulator = await startEmulator(options);
  const echo = startEchoServer();
  const restoreEnv = setEnv(emulator.env);
  return {
    emulator,
    echo,
    async [Symbol.asyncDispose]() {
      restoreEnv();
      await emulator.stop();
      await echo[Symbol.asyncDispose]();
    },
  };
}

/** What {@linkcode openProxy} built. */
export interface ProxyRun extends AsyncDisposable {
  proxy: ProxySession;
  started: StartedSession;
  opens: OpenRecord[];
  /** TokenValues ResumeSession returned, in order (undefined: none). */
  resumedTokens: Array<string | undefined>;
  logger: ReturnType<typeof memoryLogger>;
  /**
   * Runs the session with a safety deadline: past it the session is aborted, so a broken
   * build fails with "aborted" instead of hanging the suite.
   */
  run(deadlineMs: number): Promise<ProxyOutcome>;
}

/** Options of {@linkcode openProxy}. */
export interface OpenProxyOptions {
  port: number;
  input: ReadableStream<Uint8Array>;
  output: ByteSink;
  onSend?: (frame: Uint8Array) => void;
  handshakeTimeoutMs?: number;
}

/**
 * `size` random bytes as the session's input, ended once they have all come back through the
 * echo target into the returned sink: spread `input`/`output` into {@linkcode openProxy}.
 */
export function echoTransfer(size: number) {
  const data = randomBytes(size);
  const sink = new CollectingSink();
  return { data, sink, input: sourceOf(data, sink.reached(data.length)), output: sink };
}

/**
 * StartSession through the SDK (endpoint from the environment), then a ProxySession with the
 * real websocket transport, ResumeSession through the SDK, and recorders around both.
 */
export async function openProxy(options: OpenProxyOptions): Promise<ProxyRun> {
  const aws = createAwsContext({});
  const started = await startSession(aws.ssm, { target: INSTANCE, portNumber: options.port });
  const opens: OpenRecord[] = [];
  const resumedTokens: Array<string | undefined> = [];
  const logger = memoryLogger();
  const abort = new AbortController();
  const proxy = new ProxySession({
    ...started,
    connect: recordingConnect(openWebSocketTransport, opens, options.onSend),
    resume: async () => {
      const token = await resumeSession(aws.ssm, started.sessionId);
      resumedTokens.push(token);
      return token;
    },
    input: options.input,
    output: options.output,
    logger,
    signal: abort.signal,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
  });
  return {
    proxy,
    started,
    opens,
    resumedTokens,
    logger,
    async run(deadlineMs) {
      const timer = setTimeout(() => abort.abort(), deadlineMs);
      try {
        return await proxy.run();
      } finally {
        clearTimeout(timer);
      }
    },
    [Symbol.asyncDispose]() {
      abort.abort();
      aws.ssm.destroy();
      aws.ec2InstanceConnect.destroy();
      return Promise.resolve();
    },
  };
}
