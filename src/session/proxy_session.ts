/**
 * One `ssmssh proxy` session, top to bottom: stdin → PortSession → DataChannel → websocket,
 * and back to stdout. Owns the socket's lifecycle: the first dial, reconnects with
 * ResumeSession after a drop (spec §10: same ClientId, new RequestId and token, the original
 * StreamUrl, every counter and buffer kept), and the end of the session.
 *
 * @example
 * ```ts
 * const outcome = await new ProxySession({ ...started, connect, resume, input, output, logger }).run();
 * ```
 * @module
 */

import { cpuUsage } from "node:process";
import { DataChannel } from "../datachannel/data_channel.ts";
import { encodeOpenDataChannelInput } from "../protocol/payloads.ts";
import type { Transport, TransportFactory } from "../transport/websocket_transport.ts";
import { type ByteSink, PortSession } from "./port_session.ts";
import { CLIENT_VERSION } from "./handshake.ts";
import type { Logger } from "../log/logger.ts";
import { SsmsshError } from "../errors.ts";

/** How a session ended normally. */
export type ProxyOutcome =
  | { kind: "channel-closed"; output: string }
  | { kind: "input-ended"; drained: boolean }
  | { kind: "aborted" };

/** Everything a session needs; I/O comes in as dependencies. */
export interface ProxySessionOptions {
  sessionId: string;
  streamUrl: string;
  tokenValue: string;
  connect: TransportFactory;
  /** ssm:ResumeSession; resolves the new TokenValue, or undefined when the session is gone. */
  resume(): Promise<string | undefined>;
  input: ReadableStream<Uint8Array>;
  output: ByteSink;
  logger: Logger;
  signal?: AbortSignal;
  clientId?: string;
  handshakeTimeoutMs?: number;
  dialTimeoutMs?: number;
  drainTimeoutMs?: number;
  /** Reconnect attempts after a drop (and retries of the first dial). */
  maxReconnectAttempts?: number;
}

/** Runs one Port session as an SSH ProxyCommand. */
export class ProxySession {
  readonly channel: DataChannel;
  readonly port: PortSession;
  state: "connecting" | "open" | "reconnecting" | "closed" = "connecting";
  reconnects = 0;

  readonly #options: ProxySessionOptions;
  readonly #clientId: string;
  readonly #done = Promise.withResolvers<ProxyOutcome>();
  #transport: Transport | undefined;
  #token: string;
  /** Flag TerminateSession was sent: a socket closing now is the end, not a drop. */
  #terminating = false;

  constructor(options: ProxySessionOptions) {
    this.#options = options;
    this.#clientId = options.clientId ?? crypto.randomUUID();
    this.#token = options.tokenValue;
    this.channel = new DataChannel({
      role: "client",
      logger: options.logger,
      handlers: {
        onMessage: (type, payload) => this.port.onMessage(type, payload),
        onChannelClosed: (closed) =>
          this.#finish({ kind: "channel-closed", output: closed.Output ?? "" }),
        onError: (error) => this.#fail(error),
      },
    });
    this.port = new PortSession({
      send: (type, payload) => this.channel.send(type, payload),
      sendNow: (type, payload) => this.channel.sendNow(type, payload),
      output: options.output,
      logger: options.logger,
    });
  }

  /** Connects, forwards until the session ends, then releases everything. */
  async run(): Promise<ProxyOutcome> {
    const { signal, logger } = this.#options;
    const onAbort = () => this.#finish({ kind: "aborted" });
    signal?.addEventListener("abort", onAbort, { once: true });
    const pumpAbort = new AbortController();
    try {
      await this.#connectWithRetries(true);
      this.#startHandshakeTimer();
      this.#pump(pumpAbort.signal);
      const outcome = await this.#done.promise;
      // ssh has gone (SIGHUP): tell the agent, but do not linger for its answer.
      if (outcome.kind === "aborted") await this.#terminateQuietly(100);
      return outcome;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      pumpAbort.abort();
      this.state = "closed";
      this.channel.close();
      this.#transport?.close();
      const cpu = cpuUsage();
      logger.debug(
        `session ${this.#options.sessionId} ended: ${this.port.bytesIn} bytes up, ` +
          `${this.port.bytesOut} down, ${this.channel.stats.resent} resent, ${this.reconnects} ` +
          `reconnects, ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU`,
      );
    }
  }

  #pump(signal: AbortSignal): void {
    const { drainTimeoutMs = 2000 } = this.#options;
    this.port.pumpInput(this.#options.input, signal).then(async () => {
      if (this.state === "closed") return;
      const drained = await this.channel.drain(drainTimeoutMs);
      await this.#terminateQuietly();
      this.#finish({ kind: "input-ended", drained });
    }, (error) => this.#fail(error));
  }

  async #terminateQuietly(waitMs = 500): Promise<void> {
    if (this.port.state !== "ready" || this.channel.state === "closed") return;
    try {
      this.#terminating = true;
      await this.port.terminate();
      await this.channel.drain(waitMs);
    } catch {
      // Best effort: the service ends idle sessions anyway.
    }
  }

  #startHandshakeTimer(): void {
    const { handshakeTimeoutMs = 30000 } = this.#options;
    const timer = setTimeout(() => {
      this.#fail(
        new SsmsshError(
          "protocol",
          `The agent did not complete the handshake within ${handshakeTimeoutMs / 1000} s`,
          "Check that the SSM Agent on the instance is running and up to date (ssmssh doctor)",
        ),
      );
    }, handshakeTimeoutMs);
    const clear = () => clearTimeout(timer);
    this.port.handshakeComplete.then(() => {
      clear();
      this.#options.logger.debug("handshake complete");
    }, (error) => {
      clear();
      this.#fail(error);
    });
    this.#done.promise.then(clear, clear);
  }

  async #connectWithRetries(first: boolean): Promise<void> {
    const { maxReconnectAttempts = 5, logger } = this.#options;
    const base = 100 + Math.random() * 100; // spec §10.2: d in [100, 200) ms, once per session
    let lastError: unknown;
    for (let attempt = 0; attempt <= maxReconnectAttempts; attempt++) {
      if (this.state === "closed") return;
      if (attempt > 0) await delay(base * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
      // Spec §10.2: every reconnect attempt, the first included, gets a fresh token from
      // ResumeSession; only the very first dial uses StartSession's token.
      if (attempt > 0 || !first) {
        const token = await this.#options.resume();
        if (!token) {
          throw new SsmsshError(
            "connection",
            `Session ${this.#options.sessionId} timed out and cannot be resumed`,
            "Connect again; the service ends sessions that stay disconnected too long",
          );
        }
        this.#token = token;
      }
      try {
        await this.#dial();
        if (!first) logger.info(`reconnected session ${this.#options.sessionId}`);
        return;
      } catch (error) {
        lastError = error;
        logger.debug(`dial attempt ${attempt + 1} failed: ${(error as Error).message}`);
      }
    }
    throw lastError;
  }

  async #dial(): Promise<void> {
    const { connect, streamUrl, dialTimeoutMs = 15000 } = this.#options;
    const openInput = encodeOpenDataChannelInput({
      MessageSchemaVersion: "1.0",
      RequestId: crypto.randomUUID(),
      TokenValue: this.#token,
      ClientId: this.#clientId,
      ClientVersion: CLIENT_VERSION,
    });
    const opened: { transport?: Transport; closedEarly?: boolean } = {};
    const transport = await connect(streamUrl, openInput, {
      onFrame: (frame) => this.channel.receive(frame),
      onClose: (reason) => {
        if (opened.transport) void this.#onTransportClosed(opened.transport, reason);
        else opened.closedEarly = true;
      },
    }, dialTimeoutMs);
    opened.transport = transport;
    if (opened.closedEarly) throw new Error("websocket closed right after opening");
    if (this.state === "closed") return transport.close();
    this.#transport = transport;
    this.state = "open";
    this.channel.attach(transport);
    this.#options.logger.debug("data channel open");
  }

  async #onTransportClosed(transport: Transport, reason: string): Promise<void> {
    if (this.state !== "open" || transport !== this.#transport) return;
    // A channel_closed received just before the close ends the session: no reconnect.
    await this.channel.idle();
    if (this.state !== "open" || transport !== this.#transport) return;
    if (this.#terminating) {
      // The agent ended the session we asked it to end; its channel_closed may be lost with the
      // connection. Resuming would fail ("cannot be resumed"), so stop waiting for the flag's ack.
      this.#options.logger.debug(`${reason} after TerminateSession; not reconnecting`);
      this.channel.close();
      return;
    }
    this.#options.logger.debug(`${reason}; reconnecting`);
    this.state = "reconnecting";
    this.reconnects++;
    this.channel.detach();
    this.#transport = undefined;
    this.#connectWithRetries(false).catch((error) => this.#fail(error));
  }

  #finish(outcome: ProxyOutcome): void {
    if (this.state !== "closed") this.state = "closed";
    this.#done.resolve(outcome);
  }

  #fail(error: unknown): void {
    this.state = "closed";
    this.#done.reject(error);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
