/**
 * The server side of the RFC 6455 opening handshake (§4.2), pure: check an upgrade request and
 * compute the answer, 101 with Sec-WebSocket-Accept or an HTTP error. Test/demo infrastructure.
 *
 * @example
 * ```ts
 * acceptValue("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * const answer = upgradeAnswer(head);
 * await writeAll(conn, answer.bytes);
 * if (answer.accepted) new ServerWebSocket(conn, rest);
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import { httpAnswer, type RequestHead } from "./http_head.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The answer to an upgrade request: the bytes to write, and whether the socket is now open. */
export interface UpgradeAnswer {
  accepted: boolean;
  bytes: Uint8Array;
}

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)). */
export function acceptValue(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** True when the request asks for a websocket (`Upgrade: websocket`). */
export function isWebSocketUpgrade(head: RequestHead): boolean {
  return tokens(head.headers.get("upgrade")).includes("websocket");
}

/** 101 for a well-formed upgrade; 400 (or 426 for another protocol version) otherwise. */
export function upgradeAnswer(head: RequestHead): UpgradeAnswer {
  const key = head.headers.get("sec-websocket-key") ?? "";
  if (head.method !== "GET" || head.version !== "HTTP/1.1") {
    return refused(400, "websocket upgrade needs GET and HTTP/1.1");
  }
  if (!isWebSocketUpgrade(head) || !tokens(head.headers.get("connection")).includes("upgrade")) {
    return refused(400, "websocket upgrade required");
  }
  if (head.headers.get("sec-websocket-version") !== "13") {
    return {
      accepted: false,
      bytes: httpAnswer(426, "websocket version 13 required", { "Sec-WebSocket-Version": "13" }),
    };
  }
  if (decodedLength(key) !== 16) return refused(400, "bad Sec-WebSocket-Key");
  return {
    accepted: true,
    bytes: httpAnswer(101, "", {
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Accept": acceptValue(key),
    }),
  };
}

function refused(status: number, body: string): UpgradeAnswer {
  return { accepted: false, bytes: httpAnswer(status, body) };
}

/** Comma-separated header tokens, lower case. */
function tokens(value: string | undefined): string[] {
  return (value ?? "").split(",").map((t) => t.trim().toLowerCase());
}

/** Decoded length of a base64 key, or -1 if it is not base64 (the key must be 16 bytes). */
function decodedLength(key: string): number {
  try {
    return atob(key).length;
  } catch {
    return -1;
  }
}
