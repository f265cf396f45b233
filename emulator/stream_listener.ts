/**
 * The emulator's data-channel endpoint (ssmmessages, in AWS a host of its own): a TCP listener,
 * or TLS when given a certificate, that reads the first request head of each connection and
 * hands it to the websocket code (ws_server.ts). Test/demo infrastructure only.
 *
 * @example
 * ```ts
 * const listener = openStreamListener({ onConnection: (conn, read) => serve(conn, read) });
 * // … StreamUrl is ws://127.0.0.1:${listener.port}/v1/data-channel/<session> …
 * await listener.close();
 * ```
 * @module
 */

import { type ReadHead, readRequestHead } from "./http_head.ts";

/** Options of {@linkcode openStreamListener}. */
export interface StreamListenerOptions {
  /** Serve TLS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Serves one connection, its request head already read; resolves when it is done with. */
  onConnection(conn: Deno.Conn, read: ReadHead): Promise<void>;
}

/** A listening data-channel endpoint. */
export interface StreamListener {
  port: number;
  /** Stops listening, closes every connection still open and waits for their handlers. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 and a random port. */
export function openStreamListener(options: StreamListenerOptions): StreamListener {
  const address = { hostname: "127.0.0.1", port: 0 };
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({ ...address, ...options.tls })
    : Deno.listen(address);
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      // TLS sockets cannot set TCP_NODELAY in Deno; plain ones must, or small frames wait.
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
      conns.add(conn);
      const handler = serveConnection(conn, options).catch(() => {}).finally(() => {
        conns.delete(conn);
        closeQuietly(conn);
        handlers.delete(handler);
      });
      handlers.add(handler);
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      closeQuietly(listener);
      await accepting.catch(() => {});
      for (const conn of conns) closeQuietly(conn);
      await Promise.allSettled([...handlers]);
    },
  };
}

async function serveConnection(conn: Deno.Conn, options: StreamListenerOptions): Promise<void> {
  let read: ReadHead | null;
  try {
    read = await readRequestHead(conn);
  } catch {
    return; // a TLS handshake that failed, a reset, or a head too large
  }
  if (read) await options.onConnection(conn, read);
}

function closeQuietly(closable: { close(): void }): void {
  try {
    closable.close();
  } catch {
    // already closed
  }
}
