/**
 * The transport: one websocket to the Session Manager data channel (spec §2). It sends the
 * OpenDataChannelInput text frame on open and passes every inbound frame on as bytes.
 *
 * @example
 * ```ts
 * const connect = webSocketTransportFactory((name) => Deno.env.get(name));
 * const socket = await connect(streamUrl, openInputJson, {
 *   onFrame: (bytes) => channel.receive(bytes),
 *   onClose: (reason) => console.error(reason),
 * }, 15000);
 * channel.attach(socket);
 * ```
 * @module
 */

import { SsmsshError } from "../errors.ts";
import type { FrameSink } from "../datachannel/data_channel.ts";
import { WebSocketClient } from "./websocket_client.ts";

/** Callbacks from an open socket. */
export interface TransportEvents {
  onFrame(frame: Uint8Array): void;
  /** The socket closed without `close()` being called. */
  onClose(reason: string): void;
}

/** An open data-channel socket. */
export interface Transport extends FrameSink {
  close(): void;
}

/** Opens a transport; injected so sessions can be tested and reconnected. */
export type TransportFactory = (
  url: string,
  openDataChannelInput: string,
  events: TransportEvents,
  timeoutMs: number,
) => Promise<Transport>;

const encoder = new TextEncoder();

/** Keepalive settings: a ping at once and then every interval (spec §2.3 uses 5 minutes). */
export interface KeepaliveOptions {
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

/** A factory dialing with {@linkcode WebSocketClient} (pings, HTTPS_PROXY, AWS_CA_BUNDLE). */
export function webSocketTransportFactory(
  env: (name: string) => string | undefined,
  keepalive: KeepaliveOptions = {},
): TransportFactory {
  return async (url, openInput, events, timeoutMs) => {
    let socket: WebSocketClient;
    try {
      socket = await WebSocketClient.connect(url, {
        env,
        timeoutMs,
        ...keepalive,
        onMessage: (data) => events.onFrame(typeof data === "string" ? encoder.encode(data) : data),
        onClose: (reason) => events.onClose(reason),
      });
    } catch (error) {
      throw dialError(url, (error as Error).message);
    }
    socket.send(openInput);
    return {
      sendBinary: (frame) => socket.send(frame),
      close: () => socket.close(),
    };
  };
}

function dialError(url: string, detail: string): SsmsshError {
  const host = URL.canParse(url) ? new URL(url).host : "the stream URL";
  if (/certificate|UnknownIssuer/i.test(detail)) {
    return new SsmsshError(
      "connection",
      `The TLS certificate of the data channel at ${host} was not trusted: ${detail}`,
      "If a corporate proxy re-signs TLS, set AWS_CA_BUNDLE to its CA certificate (PEM)",
    );
  }
  return new SsmsshError(
    "connection",
    `Cannot open the Session Manager data channel at ${host}: ${detail}`,
    "Check outbound HTTPS (443) to ssmmessages.<region>.amazonaws.com, or set HTTPS_PROXY",
  );
}

/** The factory with the process environment and default keepalive. */
export const openWebSocketTransport: TransportFactory = (...args) =>
  webSocketTransportFactory((name) => Deno.env.get(name))(...args);
