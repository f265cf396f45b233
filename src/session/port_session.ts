/**
 * A Port session in plain stream-forwarding mode (spec §9.2), the AWS-StartSSHSession case:
 * handshake first, then stdin bytes become `input_stream_data` chunks of at most 1024 bytes and
 * `output_stream_data` Output payloads are written to stdout, byte for byte (no LF rewriting).
 *
 * @example
 * ```ts
 * const port = new PortSession({ send: (t, p) => channel.send(t, p), output, logger });
 * // DataChannel handlers: { onMessage: (type, payload) => port.onMessage(type, payload) }
 * await port.handshakeComplete;
 * await port.pumpInput(Deno.stdin.readable);
 * ```
 * @module
 */

import {
  PayloadType,
  PayloadTypeFlag,
  STREAM_DATA_PAYLOAD_SIZE,
} from "../protocol/message_type.ts";
import {
  decodeFlag,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  encodeFlag,
  encodeHandshakeResponse,
} from "../protocol/payloads.ts";
import { answerHandshake, CLIENT_VERSION } from "./handshake.ts";
import type { Logger } from "../log/logger.ts";
import { SsmsshError } from "../errors.ts";

/** Where downstream bytes go (stdout in `proxy`). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

/** What the session needs from the layers around it. */
export interface PortSessionDeps {
  send(payloadType: number, payload: Uint8Array): Promise<void>;
  /** Sends at once if possible (see DataChannel.sendNow); false: use `send`. */
  sendNow?(payloadType: number, payload: Uint8Array): boolean;
  output: ByteSink;
  logger: Logger;
  clientVersion?: string;
}

/** The session's lifecycle. */
export type PortSessionState = "handshaking" | "ready" | "failed";

/** Handshake and stream forwarding for one Port session. */
export class PortSession {
  state: PortSessionState = "handshaking";
  agentVersion = "";
  /** Bytes written to the output so far. */
  bytesOut = 0;
  /** Bytes read from the input so far. */
  bytesIn = 0;
  readonly handshakeComplete: Promise<void>;
  #completeHandshake!: () => void;
  #failHandshake!: (error: Error) => void;
  readonly #deps: PortSessionDeps;

  constructor(deps: PortSessionDeps) {
    this.#deps = deps;
    this.handshakeComplete = new Promise((resolve, reject) => {
      this.#completeHandshake = resolve;
      this.#failHandshake = reject;
    });
    this.handshakeComplete.catch(() => {});
  }

  /**
   * Handles one in-order sequenced message from the agent; the promise (if any) settles once it
   * is done with. Not `async`: Output, nearly every message, passes the output's own promise on.
   */
  onMessage(payloadType: number, payload: Uint8Array): Promise<void> | void {
    switch (payloadType) {
      case PayloadType.HandshakeRequest:
        return this.#onHandshakeRequest(payload);
      case PayloadType.HandshakeComplete:
        return this.#onHandshakeComplete(payload);
      case PayloadType.Output:
        if (this.state !== "ready") {
          this.#deps.logger.debug("Output before HandshakeComplete; writing it anyway");
        }
        this.bytesOut += payload.length;
        return this.#deps.output.write(payload);
      case PayloadType.Flag:
        return this.#onFlag(payload);
      default:
        this.#deps.logger.debug(`ignoring PayloadType ${payloadType} in a Port session`);
    }
  }

  /** Reads `input` to its end, sending chunks of at most 1024 bytes; waits on back-pressure. */
  async pumpInput(input: ReadableStream<Uint8Array>, signal?: AbortSignal): Promise<void> {
    await this.handshakeComplete;
    const reader = input.getReader();
    const onAbort = () => reader.cancel().catch(() => {});
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal?.aborted) {
        const { value, done } = await reader.read();
        if (done) return;
        // The chunks of one read go out in one synchronous run (so in one websocket write)
        // while the window has room; only a full window makes the loop wait.
        for (let offset = 0; offset < value.length; offset += STREAM_DATA_PAYLOAD_SIZE) {
          const chunk = value.subarray(offset, offset + STREAM_DATA_PAYLOAD_SIZE);
          this.bytesIn += chunk.length;
          if (!this.#deps.sendNow?.(PayloadType.Output, chunk)) {
            await this.#deps.send(PayloadType.Output, chunk);
          }
        }
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      reader.releaseLock();
    }
  }

  /** Asks the agent to end the session (Flag TerminateSession). */
  async terminate(): Promise<void> {
    await this.#deps.send(PayloadType.Flag, encodeFlag(PayloadTypeFlag.TerminateSession));
  }

  async #onHandshakeRequest(payload: Uint8Array): Promise<void> {
    const request = decodeHandshakeRequest(payload);
    this.agentVersion = request.AgentVersion;
    const answer = answerHandshake(request, this.#deps.clientVersion ?? CLIENT_VERSION);
    await this.#deps.send(PayloadType.HandshakeResponse, encodeHandshakeResponse(answer.response));
    if (answer.sessionType !== "Port") {
      this.state = "failed";
      this.#failHandshake(
        new SsmsshError(
          "protocol",
          `The agent offered a session ssmssh cannot use: ${answer.response.Errors?.join("; ")}`,
          "Use a Port document such as AWS-StartSSHSession (--document)",
        ),
      );
    }
  }

  #onHandshakeComplete(payload: Uint8Array): void {
    const complete = decodeHandshakeComplete(payload);
    if (complete.CustomerMessage) this.#deps.logger.info(complete.CustomerMessage);
    if (this.state !== "handshaking") return;
    this.state = "ready";
    this.#completeHandshake();
  }

  #onFlag(payload: Uint8Array): void {
    const flag = decodeFlag(payload);
    if (flag === PayloadTypeFlag.ConnectToPortError) {
      this.#deps.logger.warn("the agent could not connect to the destination port");
    } else {
      this.#deps.logger.debug(`ignoring flag ${flag}`);
    }
  }
}
