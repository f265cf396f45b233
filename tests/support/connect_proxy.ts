/**
 * A tiny HTTP CONNECT proxy on loopback, standing in for a corporate proxy: it records every
 * tunnel it opens and relays bytes both ways. Test infrastructure.
 * @module
 */

/** A running proxy. */
export interface ConnectProxy extends AsyncDisposable {
  url: string;
  /** `host:port` of every CONNECT request, in order. */
  tunnels: string[];
  stop(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1 and a random port. */
export function startConnectProxy(): ConnectProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tunnels: string[] = [];
  const open = new Set<Deno.Conn>();
  const relays: Promise<void>[] = [];
  const serve = (async () => {
    for await (const client of listener) {
      open.add(client);
      relays.push(relay(client, tunnels, open).finally(() => open.delete(client)));
    }
  })();
  const stop = async () => {
    listener.close();
    await serve.catch(() => {});
    for (const conn of open) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await Promise.allSettled(relays);
  };
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    tunnels,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

async function relay(client: Deno.Conn, tunnels: string[], open: Set<Deno.Conn>): Promise<void> {
  const buffer = new Uint8Array(8192);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await client.read(buffer).catch(() => null);
    if (n === null) return client.close();
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  const m = /^CONNECT ([^ ]+):(\d+) HTTP\/1\.[01]\r\n/.exec(head);
  if (!m) {
    await client.write(new TextEncoder().encode("HTTP/1.1 405 Method Not Allowed\r\n\r\n"));
    return client.close();
  }
  tunnels.push(`${m[1]}:${m[2]}`);
  let upstream: Deno.Conn;
  try {
    upstream = await Deno.connect({ hostname: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) });
  } catch {
    await client.write(new TextEncoder().encode("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    return client.close();
  }
  open.add(upstream);
  await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
  await Promise.allSettled([
    client.readable.pipeTo(upstream.writable),
    upstream.readable.pipeTo(client.writable),
  ]);
  open.delete(upstream);
}
