/**
 * HTTP/1.1 request heads for the emulator's own listener: read one from a socket (keeping the
 * bytes that follow it), parse the request line and headers, and write a short answer.
 * Test/demo infrastructure only.
 *
 * @example
 * ```ts
 * const read = await readRequestHead(conn);
 * if (read?.head.target.startsWith("/v1/data-channel/")) {
 *   await writeAll(conn, httpAnswer(404, "no such session"));
 * }
 * ```
 * @module
 */

import { concatBytes } from "../src/bytes.ts";

/** A parsed request line and header block; header names are lower case. */
export interface RequestHead {
  method: string;
  /** The request target as sent: path and query. */
  target: string;
  version: string;
  headers: Map<string, string>;
}

/** A request head, its raw bytes (through the blank line) and the bytes read past it. */
export interface ReadHead {
  head: RequestHead;
  raw: Uint8Array;
  rest: Uint8Array;
}

/** Heads larger than this are refused. */
export const MAX_HEAD_BYTES = 64 * 1024;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const STATUS_TEXT: Record<number, string> = {
  101: "Switching Protocols",
  400: "Bad Request",
  404: "Not Found",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
};

/** Reads up to the end of the first request head; null if the peer closed before it ended. */
export async function readRequestHead(
  conn: { read(p: Uint8Array): Promise<number | null> },
): Promise<ReadHead | null> {
  let data: Uint8Array = new Uint8Array(0);
  const buffer = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return null;
    data = concatBytes([data, buffer.subarray(0, n)]);
    const end = indexOfHeadEnd(data);
    if (end >= 0) {
      return {
        head: parseRequestHead(decoder.decode(data.subarray(0, end))),
        raw: data.subarray(0, end + 4),
        rest: data.slice(end + 4),
      };
    }
    if (data.length > MAX_HEAD_BYTES) throw new Error("Cannot read request: head too large");
  }
}

/** Parses "GET /path HTTP/1.1" and the "Name: value" lines after it (repeated names joined). */
export function parseRequestHead(text: string): RequestHead {
  const [requestLine, ...lines] = text.split("\r\n");
  const [method = "", target = "", version = ""] = requestLine.split(" ");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { method, target, version, headers };
}

/** A complete HTTP/1.1 response; answers other than 101 carry a text body and close. */
export function httpAnswer(
  status: number,
  body = "",
  headers: Record<string, string> = {},
): Uint8Array {
  const lines = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Status"}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (status !== 101) {
    const bytes = encoder.encode(body);
    lines.push("Content-Type: text/plain", `Content-Length: ${bytes.length}`, "Connection: close");
  }
  return encoder.encode(`${lines.join("\r\n")}\r\n\r\n${status === 101 ? "" : body}`);
}

function indexOfHeadEnd(data: Uint8Array): number {
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) return i;
  }
  return -1;
}
