/**
 * The emulator's agent: plays amazon-ssm-agent (and MGS, for channel_closed and publication
 * messages) for one Port session. It uses the same DataChannel as the client, in the agent role,
 * runs the handshake, then forwards the stream to a TCP port on 127.0.0.1 (the test sshd),
 * sending it in 1 KiB chunks with optional agent-like pacing. Test/demo infrastructure only.
 * @module
 */

import { DataChannel } from "../src/datachannel/data_channel.ts";
import { encodeClientMessage } from "../src/protocol/client_message.ts";
import {
  HeaderFlags,
  MessageType,
  PayloadType,
  PayloadTypeFlag,
  STREAM_DATA_PAYLOAD_SIZE,
} from "../src/protocol/message_type.ts";
import { decodeFlag, decodeHandshakeResponse, encodeJson } from "../src/protocol/payloads.ts";
import { deliverFiltered, type Faults, frameInfo } from "./faults.ts";
import { CoalescingSink } from "../src/session/coalescing_sink.ts";
import { Pacer } from "./pacer.ts";
import { writeAll } from "../src/bytes.ts";

/** The client's websocket as the agent sees it (ws_server.ts's ServerWebSocket is one). */
export interface ClientSocket {
  /** True until a Close is sent or received. */
  readonly open: boolean;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** A whole text (string) or binary (Uint8Array) message. */
  onmessage: ((data: string | Uint8Array) => void) | undefined;
  /** The connection ended. */
  onclose: ((code: number) => void) | undefined;
}

/** What an agent session needs. */
export interface AgentSessionOptions {
  sessionId: string;
  target: string;
  portNumber: number;
  faults: Faults;
  agentVersion: string;
  onEnd(): void;
}

/** One Port session on the agent side. */
export class AgentSession {
  state: "waiting" | "handshaking" | "forwarding" | "closed" = "waiting";
  readonly channel: DataChannel;
  /** Frames sent to / received from the client so far (across sockets). */
  toClientFrames = 0;
  fromClientFrames = 0;
  /** Websocket connections the client opened for this session. */
  connections = 0;
  clientVersion = "";
  endOutput = "";
  readonly #options: AgentSessionOptions;
  #socket: ClientSocket | undefined;
  #conn: Deno.TcpConn | undefined;
  #target: CoalescingSink | undefined;

  constructor(options: AgentSessionOptions) {
    this.#options = options;
    this.channel = new DataChannel({
      role: "agent",
      sendWindow: 4096,
      handlers: {
        onMessage: (type, payload) => this.#onMessage(type, payload),
        onError: (error) => this.terminate(`agent data channel failed: ${error.message}`),
      },
    });
  }

  /** Uses a freshly authenticated client websocket. */
  attach(socket: ClientSocket): void {
    this.#socket?.close(1000);
    this.#socket = socket;
    this.connections++;
    socket.onmessage = (frame) => {
      if (typeof frame === "string") return;
      const filter = this.#options.faults.fromClient;
      const frames = filter ? filter(frame, frameInfo(frame, this.fromClientFrames)) : [frame];
      this.fromClientFrames++;
      deliverFiltered(frames, (f) => this.channel.receive(f));
    };
    socket.onclose = () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.channel.detach();
      }
    };
    this.channel.attach({ sendBinary: (frame) => this.#sendToClient(socket, frame) });
    if (this.state === "waiting") {
      this.state = "handshaking";
      void this.channel.send(
        PayloadType.HandshakeRequest,
        encodeJson({
          AgentVersion: this.#options.agentVersion,
          RequestedClientActions: [{
            ActionType: "SessionType",
            ActionParameters: {
              SessionType: "Port",
              Properties: { portNumber: String(this.#options.portNumber) },
            },
          }],
        }),
      ).catch(() => {});
    }
  }

  /** Closes the client's socket without ending the session (a network drop). */
  dropSocket(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.channel.detach();
    socket?.close(4000, "dropped by the emulator");
  }

  /** MGS tells the client the agent is unreachable (true) or back (false). */
  setPublication(paused: boolean): void {
    this.#sendService(
      paused ? MessageType.PausePublication : MessageType.StartPublication,
      new Uint8Array(0),
    );
  }

  /** Ends the session: channel_closed to the client, everything closed. */
  terminate(output = ""): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.endOutput = output;
    this.#sendService(
      MessageType.ChannelClosed,
      encodeJson({
        MessageId: crypto.randomUUID(),
        CreatedDate: String(Date.now()),
        DestinationId: this.#options.target,
        SessionId: this.#options.sessionId,
        MessageType: "channel_closed",
        SchemaVersion: 1,
        Output: output,
      }),
    );
    this.channel.close();
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    this.#socket?.close(1000);
    this.#options.onEnd();
  }

  #sendToClient(socket: ClientSocket, frame: Uint8Array): void {
    if (!socket.open) throw new Error("client socket is not open");
    const { toClient, dropSocketAfterFrames } = this.#options.faults;
    const frames = toClient ? toClient(frame, frameInfo(frame, this.toClientFrames)) : [frame];
    this.toClientFrames++;
    deliverFiltered(frames, (f) => {
      if (socket.open) socket.send(f);
    });
    if (dropSocketAfterFrames?.includes(this.toClientFrames)) this.dropSocket();
  }

  #sendService(messageType: string, payload: Uint8Array): void {
    const socket = this.#socket;
    if (!socket?.open) return;
    socket.send(encodeClientMessage({
      messageType,
      createdDate: Date.now(),
      sequenceNumber: 0,
      flags: HeaderFlags.SynFin,
      messageId: crypto.randomUUID(),
      payloadType: PayloadType.Null,
      payload,
    }));
  }

  async #onMessage(payloadType: number, payload: Uint8Array): Promise<void> {
    if (payloadType === PayloadType.HandshakeResponse) {
      return await this.#onHandshakeResponse(payload);
    }
    if (payloadType === PayloadType.Output) {
      // Like the agent: stream data before the handshake completes is dropped (spec §7.3).
      if (this.state === "forwarding") await this.#target!.write(payload);
      return;
    }
    if (payloadType === PayloadType.Flag) {
      await this.#target?.flushed(); // data sent before the flag reaches the target first
      const flag = decodeFlag(payload);
      if (flag === PayloadTypeFlag.TerminateSession) this.terminate();
      if (flag === PayloadTypeFlag.DisconnectToPort) this.#conn?.closeWrite().catch(() => {});
    }
  }

  async #onHandshakeResponse(payload: Uint8Array): Promise<void> {
    if (this.state !== "handshaking") return;
    const response = decodeHandshakeResponse(payload);
    this.clientVersion = response.ClientVersion;
    const failed = response.ProcessedClientActions.find((a) => a.ActionStatus !== 1);
    if (failed) return this.terminate(`Handshake failed: ${failed.Error}`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.#options.portNumber });
      conn.setNoDelay(true);
      this.#conn = conn;
      this.#target = new CoalescingSink({ write: (bytes) => writeAll(conn, bytes) });
    } catch (error) {
      return this.terminate(`Unable to connect to specified port: ${(error as Error).message}`);
    }
    this.state = "forwarding";
    await this.channel.send(
      PayloadType.HandshakeComplete,
      encodeJson({ HandshakeTimeToComplete: 1_000_000, CustomerMessage: "" }),
    );
    void this.#pumpFromTarget(this.#conn);
  }

  async #pumpFromTarget(conn: Deno.TcpConn): Promise<void> {
    // Read in large blocks (one read per 64 KiB, not per KiB), send 1 KiB chunks like the agent.
    const buffer = new Uint8Array(64 * STREAM_DATA_PAYLOAD_SIZE);
    const pacer = new Pacer(this.#options.faults.paceMsPerChunk ?? 0);
    try {
      while (this.state === "forwarding") {
        const n = await conn.read(buffer);
        if (n === null) break;
        for (let offset = 0; offset < n; offset += STREAM_DATA_PAYLOAD_SIZE) {
          const chunk = buffer.subarray(offset, Math.min(n, offset + STREAM_DATA_PAYLOAD_SIZE));
          // At once while the window has room, so the chunks of one read leave in one socket
          // write; a send that must wait keeps a copy, as the next read reuses the buffer.
          if (!this.channel.sendNow(PayloadType.Output, chunk)) {
            await this.channel.send(PayloadType.Output, chunk.slice());
          }
          if (pacer.msPerChunk > 0) await pacer.paced();
        }
      }
      await this.channel.drain(2000);
    } catch {
      // The session ended while reading.
    }
    this.terminate();
  }
}
