/**
 * The transport: one websocket to the Session Manager data channel (spec §2). It sends the
 * OpenDataChannelInput text frame on open and passes every inbound frame on as bytes.
 *
 * @example
 * ```ts
 * const socket = await openWebSocketTransport(streamUrl, openInputJson, {
 *   onFrame: (bytes) => channel.receive(bytes),
 *   onClose: (reason) => console.error(reason),
 * });
 * channel.attach(socket);
 * ```
 * @module
 */

import { SsmsshError } from "../errors.ts";
import type { FrameSink } from "../datachannel/data_channel.ts";

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

/** Dials `url` with the runtime's WebSocket (honours HTTPS_PROXY/NO_PROXY under Deno). */
export const openWebSocketTransport: TransportFactory = (url, openInput, events, timeoutMs) => {
  return new Promise<Transport>((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      reject(dialError(url, String(error)));
      return;
    }
    socket.binaryType = "arraybuffer";
    let opened = false;
    let closedByUs = false;
    const timer = setTimeout(() => {
      closedByUs = true;
      socket.close();
      reject(dialError(url, `no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      opened = true;
      socket.send(openInput);
      resolve({
        sendBinary(frame) {
          if (socket.readyState !== WebSocket.OPEN) throw new Error("websocket is not open");
          socket.send(frame);
        },
        close() {
          closedByUs = true;
          if (socket.readyState <= WebSocket.OPEN) socket.close(1000);
        },
      });
    };
    socket.onmessage = (event) => {
      const data = event.data;
      events.onFrame(
        typeof data === "string" ? encoder.encode(data) : new Uint8Array(data as ArrayBuffer),
      );
    };
    socket.onerror = (event) => {
      if (!opened) {
        clearTimeout(timer);
        reject(dialError(url, (event as ErrorEvent).message ?? "connection failed"));
      }
    };
    socket.onclose = (event) => {
      clearTimeout(timer);
      if (!opened) reject(dialError(url, `closed with code ${event.code}`));
      else if (!closedByUs) events.onClose(`websocket closed (code ${event.code})`);
    };
  });
};

function dialError(url: string, detail: string): SsmsshError {
  const host = URL.canParse(url) ? new URL(url).host : "the stream URL";
  return new SsmsshError(
    "connection",
    `Cannot open the Session Manager data channel at ${host}: ${detail}`,
    "Check outbound HTTPS (443) to ssmmessages.<region>.amazonaws.com, or set HTTPS_PROXY",
  );
}
