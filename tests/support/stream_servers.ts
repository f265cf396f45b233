/**
 * TCP peers for transfer tests, standing where sshd would be: a sink that hashes everything one
 * connection sends, and a source that sends `size` pseudo-random bytes and closes. Streaming
 * SHA-256 (node:crypto) keeps memory flat for any size. Test infrastructure.
 * @module
 */

import { createHash } from "node:crypto";

/** What a sink received. */
export interface Received {
  bytes: number;
  sha256: string;
}

/** A listening peer. */
export interface StreamServer<T> extends AsyncDisposable {
  port: number;
  /** Resolves when the first connection has finished. */
  done: Promise<T>;
}

/** Accepts one connection and hashes everything it sends until EOF. */
export function startSink(): StreamServer<Received> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of conn.readable) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { bytes, sha256: hash.digest("hex") };
  })();
  return server(listener, done);
}

/** Accepts one connection, sends `size` bytes from `seed`, then closes it. */
export function startSource(size: number, seed = 1): StreamServer<Received> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    const conn = await listener.accept();
    const writer = conn.writable.getWriter();
    const hash = createHash("sha256");
    for (const chunk of pseudoRandomChunks(size, seed)) {
      hash.update(chunk);
      await writer.write(chunk);
    }
    await writer.close();
    return { bytes: size, sha256: hash.digest("hex") };
  })();
  return server(listener, done);
}

/** Deterministic pseudo-random bytes in 64 KiB chunks (xorshift32), cheap to make. */
export function* pseudoRandomChunks(size: number, seed = 1): Generator<Uint8Array> {
  let x = seed >>> 0 || 1;
  for (let sent = 0; sent < size;) {
    const chunk = new Uint8Array(Math.min(65536, size - sent));
    const words = new Uint32Array(chunk.buffer, 0, chunk.length >>> 2);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    for (let i = words.length * 4; i < chunk.length; i++) chunk[i] = i & 0xff;
    sent += chunk.length;
    yield chunk;
  }
}

function server<T>(listener: Deno.Listener, done: Promise<T>): StreamServer<T> {
  return {
    port: (listener.addr as Deno.NetAddr).port,
    done,
    [Symbol.asyncDispose]: async () => {
      listener.close();
      await done.catch(() => {});
    },
  };
}
