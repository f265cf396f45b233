/**
 * The websocket client (src/transport/websocket_client.ts) against real peers on loopback:
 * Deno.serve's websocket server, a hand-written raw server that misbehaves on purpose, HTTP
 * CONNECT proxies, and TLS with a private CA from AWS_CA_BUNDLE.
 * @module
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "../support/assert.ts";
import {
  WebSocketClient,
  type WebSocketClientOptions,
} from "../../src/transport/websocket_client.ts";
import { FrameParser } from "../../src/transport/websocket_frame.ts";
import { startConnectProxy } from "../support/connect_proxy.ts";
import { makeTestCertificates, type TestCertificates } from "../support/tls_cert.ts";
import {
  acceptFor,
  closeCode,
  delay,
  envOf,
  Opcode,
  type RawPeer,
  startEchoServer,
  startRawServer,
  untext,
  waitFor,
} from "./ws_peers.ts";

/** A connected client plus everything its callbacks saw. */
interface Recorded {
  client: WebSocketClient;
  messages: Array<string | Uint8Array>;
  closes: string[];
}

async function open(
  url: string,
  vars: Record<string, string> = {},
  options: Partial<WebSocketClientOptions> = {},
): Promise<Recorded> {
  const messages: Array<string | Uint8Array> = [];
  const closes: string[] = [];
  const client = await WebSocketClient.connect(url, {
    env: envOf(vars),
    onMessage: (data) => messages.push(data),
    onClose: (reason) => closes.push(reason),
    ...options,
  });
  return { client, messages, closes };
}

/** Closes the client (if still open) and waits until its socket is gone. */
async function closeClient(client: WebSocketClient): Promise<void> {
  client.close();
  await waitFor(() => client.state === "closed", "the client to shut down");
  await delay(10); // the read loop's cancelled read settles
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// --- Deno.serve peer --------------------------------------------------------------------------

Deno.test("echo server: text and binary round trips, request headers", async () => {
  await using server = startEchoServer();
  const { client, messages, closes } = await open(server.url);
  client.send("hello, websocket");
  client.send(new Uint8Array([0, 1, 2, 255]));
  client.send("");
  client.send(new Uint8Array(0));
  client.send("ünïcødé ✓");
  await waitFor(() => messages.length === 5, "five echoes");
  assertEquals(messages, [
    "hello, websocket",
    new Uint8Array([0, 1, 2, 255]),
    "",
    new Uint8Array(0),
    "ünïcødé ✓",
  ]);
  const headers = server.requests[0];
  assertEquals(headers.get("host"), `127.0.0.1:${server.port}`);
  assertEquals(headers.get("user-agent"), "ssmssh");
  assertEquals(headers.get("sec-websocket-version"), "13");
  assertEquals(headers.get("sec-websocket-protocol"), null);
  assertEquals(headers.get("sec-websocket-extensions"), null, "no compression");
  await closeClient(client);
  assertEquals(closes, []);
});

Deno.test("echo server: a 1 MiB binary message both ways", async () => {
  await using server = startEchoServer();
  const { client, messages } = await open(server.url);
  const big = bytes(1024 * 1024, 42);
  client.send(big);
  await waitFor(() => messages.length === 1, "the 1 MiB echo");
  assert(messages[0] instanceof Uint8Array);
  assertEquals(messages[0].length, big.length);
  assertEquals(messages[0], big);
  await waitFor(() => client.bufferedAmount === 0, "the write queue to drain");
  await closeClient(client);
});

Deno.test("echo server: 2000 small messages arrive complete and in order", async () => {
  await using server = startEchoServer();
  const { client, messages } = await open(server.url);
  const count = 2000;
  for (let i = 0; i < count; i++) {
    client.send(i % 2 === 0 ? `message ${i}` : new Uint8Array([i >> 8, i & 0xff]));
  }
  await waitFor(() => messages.length === count, `${count} echoes`);
  for (let i = 0; i < count; i++) {
    const expected = i % 2 === 0 ? `message ${i}` : new Uint8Array([i >> 8, i & 0xff]);
    assertEquals(messages[i], expected, `message ${i}`);
  }
  await closeClient(client);
});

Deno.test("echo server: the initial ping is answered (pongs >= 1)", async () => {
  await using server = startEchoServer();
  const { client, closes } = await open(server.url, {}, { pongTimeoutMs: 2000 });
  await waitFor(() => client.pongs >= 1, "a pong for the initial ping");
  client.ping();
  await waitFor(() => client.pongs >= 2, "a pong for an explicit ping");
  await closeClient(client);
  assertEquals(closes, []);
});

Deno.test("echo server: a server-initiated close reaches onClose with its code", async () => {
  await using server = startEchoServer();
  const { client, closes } = await open(server.url);
  client.send("close:4001");
  await waitFor(() => closes.length === 1, "onClose");
  assertStringIncludes(closes[0], "code 4001");
  await waitFor(() => client.state === "closed", "the client to close its socket");
  await waitFor(() => server.closeCodes.length === 1, "the server's close event");
  assertEquals(server.closeCodes, [4001]);
  await delay(30);
  assertEquals(closes.length, 1, "onClose exactly once");
  let threw = false;
  try {
    client.send("too late");
  } catch {
    threw = true;
  }
  assert(threw, "send on a closed socket throws");
  await delay(10);
});

Deno.test("echo server: close() sends Close 1000 and does not call onClose", async () => {
  await using server = startEchoServer();
  const { client, closes } = await open(server.url);
  client.send("before close");
  await closeClient(client);
  await waitFor(() => server.closeCodes.length === 1, "the server's close event");
  assertEquals(server.closeCodes, [1000]);
  await delay(50);
  assertEquals(closes, [], "onClose is for closes the client did not ask for");
  client.close(); // idempotent
  assertEquals(client.state, "closed");
});

// --- raw server peer --------------------------------------------------------------------------

Deno.test("raw server: a text message in 3 fragments with a ping in between is delivered whole", async () => {
  const pongs: string[] = [];
  await using server = startRawServer(async (peer) => {
    await peer.acceptWebSocket();
    await peer.sendFrame(Opcode.Text, "Hel", false);
    await peer.sendFrame(Opcode.Ping, "between");
    await peer.sendFrame(Opcode.Continuation, "lo, ", false);
    await peer.sendFrame(Opcode.Continuation, "wörld", true);
    // A binary message in two fragments, with a pong (unsolicited) in between.
    await peer.sendFrame(Opcode.Binary, new Uint8Array([1, 2]), false);
    await peer.sendFrame(Opcode.Pong, "");
    await peer.sendFrame(Opcode.Continuation, new Uint8Array([3]), true);
    await peer.sendFrame(Opcode.Text, "after");
    for (let frame; (frame = await peer.readFrame());) {
      if (frame.opcode === Opcode.Pong) pongs.push(untext(frame.payload));
      if (frame.opcode === Opcode.Close) break;
    }
  });
  const { client, messages, closes } = await open(server.url);
  await waitFor(() => messages.length === 3, "three messages");
  assertEquals(messages, ["Hello, wörld", new Uint8Array([1, 2, 3]), "after"]);
  await waitFor(() => pongs.length === 1, "the pong for the server's ping");
  assertEquals(pongs, ["between"], "the server's ping is answered with its payload");
  await closeClient(client);
  await server.stop();
  assertEquals([closes, server.errors], [[], []]);
});

Deno.test("raw server: frames sent together with the 101 answer are not lost", async () => {
  await using server = startRawServer(async (peer) => {
    const first = new Uint8Array([0x81, 5, ...new TextEncoder().encode("early")]);
    await peer.acceptWebSocket({ extra: first });
    await peer.readUntil(Opcode.Close);
  });
  const { client, messages } = await open(server.url);
  await waitFor(() => messages.length === 1, "the early message");
  assertEquals(messages, ["early"]);
  await closeClient(client);
});

Deno.test("raw server: client frames are masked, the first ping carries 'keepalive'", async () => {
  let masked: boolean[] = [];
  const seen: Array<[number, string]> = [];
  await using server = startRawServer(async (peer) => {
    const head = await peer.acceptWebSocket();
    assertStringIncludes(head, "GET /raw HTTP/1.1\r\n");
    // Peek at the raw bytes: every client frame must have the mask bit set.
    const buffer = new Uint8Array(4096);
    const n = await peer.conn.read(buffer);
    if (n === null) return;
    const raw = buffer.subarray(0, n);
    masked = [];
    for (let at = 0; at < raw.length;) {
      masked.push((raw[at + 1] & 0x80) !== 0);
      at += 2 + 4 + (raw[at + 1] & 0x7f); // small frames only
    }
    for (const frame of new FrameParser().push(raw.slice())) {
      seen.push([frame.opcode, untext(frame.payload)]);
    }
    await peer.readUntil(Opcode.Close);
  });
  const { client } = await open(server.url);
  await waitFor(() => seen.length >= 1, "the first client frames");
  assertEquals(seen[0], [Opcode.Ping, "keepalive"]);
  assert(masked.length >= 1 && masked.every((m) => m), `mask bits: ${masked}`);
  await closeClient(client);
  await server.stop();
  assertEquals(server.errors, []);
});

Deno.test("raw server: pings never answered -> the pong deadline fires onClose (half-open)", async () => {
  let pings = 0;
  await using server = startRawServer(async (peer) => {
    await peer.acceptWebSocket();
    for (let frame; (frame = await peer.readFrame());) {
      if (frame.opcode === Opcode.Ping) {
        assertEquals(untext(frame.payload), "keepalive");
        pings++;
      }
    }
  });
  const started = performance.now();
  const { client, closes } = await open(server.url, {}, {
    pingIntervalMs: 40,
    pongTimeoutMs: 250,
  });
  await waitFor(() => closes.length === 1, "onClose from the pong deadline", 3000);
  const elapsed = performance.now() - started;
  assertStringIncludes(closes[0], "no pong");
  assertEquals(client.state, "closed");
  assert(elapsed >= 200 && elapsed < 2500, `closed after ${elapsed} ms`);
  // The first ping started the deadline and later pings did not push it back.
  assert(pings >= 2, `${pings} pings before the deadline`);
  await server.stop();
  assertEquals(server.errors, []);
  await delay(80);
  assertEquals(closes.length, 1, "onClose exactly once; timers stopped");
});

Deno.test("raw server: answered pings keep the connection open", async () => {
  await using server = startRawServer(async (peer) => {
    await peer.acceptWebSocket();
    for (let frame; (frame = await peer.readFrame());) {
      if (frame.opcode === Opcode.Ping) await peer.sendFrame(Opcode.Pong, frame.payload);
      if (frame.opcode === Opcode.Close) return;
    }
  });
  const { client, closes } = await open(server.url, {}, {
    pingIntervalMs: 30,
    pongTimeoutMs: 120,
  });
  await delay(400);
  assertEquals(closes, []);
  assertEquals(client.state, "open");
  assert(client.pongs >= 5, `${client.pongs} pongs`);
  await closeClient(client);
  await server.stop();
  assertEquals(server.errors, []);
});

Deno.test("raw server: a server Close is echoed with its code and reported", async () => {
  let echoed: number | undefined;
  await using server = startRawServer(async (peer) => {
    await peer.acceptWebSocket();
    await peer.sendFrame(Opcode.Close, new Uint8Array([0x0f, 0xa2, 0x62, 0x79, 0x65])); // 4002 "bye"
    const frame = await peer.readUntil(Opcode.Close);
    echoed = frame ? closeCode(frame) : undefined;
  });
  const { client, closes } = await open(server.url);
  await waitFor(() => closes.length === 1, "onClose");
  assertStringIncludes(closes[0], "code 4002");
  assertEquals(client.state, "closing", "no more sends; the echo is on its way");
  await waitFor(() => client.state === "closed", "the socket to close after the echo");
  await server.stop();
  assertEquals(server.errors, []);
  assertEquals(echoed, 4002, "the Close frame is echoed with the server's code");
});

Deno.test("raw server: a dropped TCP connection and a protocol violation reach onClose", async () => {
  await using server = startRawServer(async (peer) => {
    const head = await peer.acceptWebSocket();
    if (head.includes("GET /drop")) return; // the handler's end closes the socket
    await peer.write(new Uint8Array([0xc1, 1, 0x41])); // RSV1 without an extension
    await peer.readFrame();
  });
  const dropped = await open(`ws://127.0.0.1:${server.port}/drop`);
  await waitFor(() => dropped.closes.length === 1, "onClose after EOF");
  assertStringIncludes(dropped.closes[0], "closed the connection");

  const violated = await open(`ws://127.0.0.1:${server.port}/rsv`);
  await waitFor(() => violated.closes.length === 1, "onClose after a bad frame");
  assertStringIncludes(violated.closes[0], "protocol error: reserved bits");
  assertEquals(violated.messages, []);
  await server.stop();
  assertEquals(server.errors, []);
});

Deno.test("raw server: a wrong Sec-WebSocket-Accept makes connect reject", async () => {
  await using server = startRawServer(async (peer) => {
    await peer.acceptWebSocket({ accept: async (key) => await acceptFor(key + "x") });
    await peer.readFrame();
  });
  await assertRejects(() => open(server.url), Error, "Sec-WebSocket-Accept is wrong");
  await server.stop();
  assertEquals(server.errors, []);
});

Deno.test("raw server: a non-101 answer makes connect reject with the status", async () => {
  await using server = startRawServer(async (peer) => {
    await peer.readHead();
    await peer.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    await peer.readFrame();
  });
  await assertRejects(() => open(server.url), Error, "HTTP/1.1 403 Forbidden");
  await server.stop();
  assertEquals(server.errors, []);
});

Deno.test("raw server: a connection closed during the handshake makes connect reject", async () => {
  await using server = startRawServer(async (peer) => {
    await peer.readHead();
    await peer.write("HTTP/1.1 101 Switching");
  });
  await assertRejects(() => open(server.url), Error, "closed during the HTTP handshake");
});

Deno.test("raw server: a server that never answers -> connect rejects after timeoutMs", async () => {
  await using server = startRawServer(async (peer) => {
    await peer.readHead();
    await peer.silence(); // until the client gives up
  });
  const started = performance.now();
  await assertRejects(
    () => open(server.url, {}, { timeoutMs: 300 }),
    Error,
    "no answer within 0.3 s",
  );
  const elapsed = performance.now() - started;
  assert(elapsed >= 250 && elapsed < 3000, `rejected after ${elapsed} ms`);
  await server.stop();
  assertEquals(server.errors, []);
});

Deno.test("raw server: a TLS server that never answers -> connect rejects after timeoutMs", async () => {
  await using server = startRawServer(async (peer) => {
    await peer.silence(); // reads the ClientHello, answers nothing
  });
  const url = `wss://127.0.0.1:${server.port}/`;
  const started = performance.now();
  await assertRejects(() => open(url, {}, { timeoutMs: 300 }), Error, "no answer within 0.3 s");
  assert(performance.now() - started < 3000);
});

Deno.test("connect: a non-websocket URL and a refused port reject", async () => {
  await assertRejects(() => open("http://127.0.0.1:1/"), Error, "not a websocket URL");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await assertRejects(() => open(`ws://127.0.0.1:${port}/`), Error);
});

// --- HTTP CONNECT proxies ---------------------------------------------------------------------

Deno.test("proxy: HTTP_PROXY tunnels ws:// through CONNECT; NO_PROXY bypasses it", async () => {
  await using server = startEchoServer();
  await using proxy = startConnectProxy();
  const viaProxy = await open(server.url, { HTTP_PROXY: proxy.url });
  viaProxy.client.send("through the tunnel");
  await waitFor(() => viaProxy.messages.length === 1, "the echo through the proxy");
  assertEquals(viaProxy.messages, ["through the tunnel"]);
  assertEquals(proxy.tunnels, [`127.0.0.1:${server.port}`]);
  await closeClient(viaProxy.client);
  await waitFor(() => server.closeCodes.length === 1, "the server's close event");
  assertEquals(server.closeCodes, [1000], "Close 1000 crosses the tunnel");

  const direct = await open(server.url, { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" });
  direct.client.send("direct");
  await waitFor(() => direct.messages.length === 1, "the direct echo");
  assertEquals(proxy.tunnels.length, 1, "NO_PROXY: no new tunnel");
  await closeClient(direct.client);
  // HTTPS_PROXY is not used for ws://.
  const plain = await open(server.url, { HTTPS_PROXY: proxy.url });
  assertEquals(proxy.tunnels.length, 1);
  await closeClient(plain.client);
});

/**
 * A proxy that is also the websocket server: it answers CONNECT itself (status chosen per test)
 * and then, on success, speaks websocket over the same connection. Records every CONNECT head.
 */
function startScriptedProxy(status: (head: string) => string) {
  const heads: string[] = [];
  const server = startRawServer(async (peer: RawPeer) => {
    const head = await peer.readHead();
    if (head === null) return;
    heads.push(head);
    const line = status(head);
    if (line === "") {
      await peer.silence(); // never answer
      return;
    }
    await peer.write(`${line}\r\nContent-Length: 0\r\n\r\n`);
    if (!line.includes(" 200 ")) return;
    await peer.acceptWebSocket();
    for (let frame; (frame = await peer.readFrame());) {
      if (frame.opcode === Opcode.Text) await peer.sendFrame(Opcode.Text, frame.payload);
      if (frame.opcode === Opcode.Ping) await peer.sendFrame(Opcode.Pong, frame.payload);
      if (frame.opcode === Opcode.Close) return;
    }
  });
  return { server, heads, url: `http://127.0.0.1:${server.port}` };
}

Deno.test("proxy: user:pass in the proxy URL is sent as Proxy-Authorization Basic", async () => {
  // Percent-decoded, then Basic-encoded as UTF-8 (as curl and Deno's fetch do), so that any
  // password works, including characters outside Latin-1.
  const utf8 = new TextEncoder().encode("al ice:p@ss:wörd€");
  const expected = `Basic ${btoa(String.fromCharCode(...utf8))}`;
  const proxy = startScriptedProxy((head) =>
    head.split("\r\n").some((line) => {
        const colon = line.indexOf(":");
        return line.slice(0, colon).toLowerCase() === "proxy-authorization" &&
          line.slice(colon + 1).trim() === expected;
      })
      ? "HTTP/1.1 200 Connection established"
      : "HTTP/1.1 407 Proxy Authentication Required"
  );
  await using _ = proxy.server;
  const proxyUrl = `http://al%20ice:p%40ss%3Aw%C3%B6rd%E2%82%AC@127.0.0.1:${proxy.server.port}`;
  // The target "example.invalid" is never resolved by the client: the proxy decides.
  const wsUrl = "ws://example.invalid:8080/socket";
  const { client, messages } = await open(wsUrl, { HTTP_PROXY: proxyUrl });
  client.send("authenticated");
  await waitFor(() => messages.length === 1, "the echo");
  assertEquals(messages, ["authenticated"]);
  assertEquals(proxy.heads.length, 1);
  const [requestLine, ...headers] = proxy.heads[0].split("\r\n");
  assertEquals(requestLine, "CONNECT example.invalid:8080 HTTP/1.1");
  assert(headers.includes("Host: example.invalid:8080"), proxy.heads[0]);
  await closeClient(client);
  // Without credentials, this proxy refuses.
  await assertRejects(
    () => open(wsUrl, { HTTP_PROXY: proxy.url }),
    Error,
    "HTTP/1.1 407 Proxy Authentication Required",
  );
  assert(
    !proxy.heads[1].toLowerCase().includes("proxy-authorization"),
    "no credentials, no header",
  );
  await proxy.server.stop();
  assertEquals(proxy.server.errors, []);
});

Deno.test("proxy: 407 and 403 answers make connect reject with the status line", async () => {
  for (const line of ["HTTP/1.1 407 Proxy Authentication Required", "HTTP/1.0 403 Forbidden"]) {
    const proxy = startScriptedProxy(() => line);
    await using _ = proxy.server;
    const error = await assertRejects(
      () => open("ws://127.0.0.1:9/x", { HTTP_PROXY: proxy.url }),
      Error,
      line,
    );
    assertStringIncludes(error.message, "refused CONNECT 127.0.0.1:9");
    await proxy.server.stop();
    assertEquals(proxy.server.errors, []);
  }
});

Deno.test("proxy: a proxy that never answers CONNECT -> connect rejects after timeoutMs", async () => {
  const proxy = startScriptedProxy(() => "");
  await using _ = proxy.server;
  const started = performance.now();
  const attempt = open("ws://127.0.0.1:9/x", { HTTP_PROXY: proxy.url }, { timeoutMs: 300 });
  // A guard, so that a hang fails this test instead of the whole run.
  let guard: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => guard = setTimeout(() => resolve("hung"), 3000));
  const outcome = await Promise.race([attempt.then(() => "connected", (e) => e as Error), hung]);
  clearTimeout(guard);
  if (outcome === "hung") {
    await proxy.server.stop(); // unblocks the client so that sanitizers stay quiet
    await attempt.catch(() => {});
  }
  assert(outcome instanceof Error, `connect outcome: ${outcome}`);
  assertStringIncludes(outcome.message, "no answer within 0.3 s");
  const elapsed = performance.now() - started;
  assert(elapsed < 2500, `rejected after ${elapsed} ms`);
  await proxy.server.stop();
  assertEquals(proxy.server.errors, []);
});

Deno.test("proxy: wss:// through a tunnel whose far end never answers TLS -> timeout", async () => {
  await using silent = startRawServer((peer) => peer.silence());
  await using proxy = startConnectProxy();
  const url = `wss://127.0.0.1:${silent.port}/`;
  const started = performance.now();
  await assertRejects(
    () => open(url, { HTTPS_PROXY: proxy.url }, { timeoutMs: 300 }),
    Error,
    "no answer within 0.3 s",
  );
  assert(performance.now() - started < 3000);
  assertEquals(proxy.tunnels, [`127.0.0.1:${silent.port}`]);
});

Deno.test("proxy: data sent by the proxy before the tunnel opens is refused", async () => {
  await using server = startRawServer(async (peer) => {
    await peer.readHead();
    await peer.write("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n");
    await peer.readFrame();
  });
  await assertRejects(
    () => open("ws://127.0.0.1:9/x", { HTTP_PROXY: `http://127.0.0.1:${server.port}` }),
    Error,
    "sent data before the tunnel opened",
  );
});

// --- TLS --------------------------------------------------------------------------------------

/** Runs `fn` with a throwaway CA and server certificate, removed afterwards. */
async function withCerts(fn: (certs: TestCertificates) => Promise<void>): Promise<void> {
  const certs = await makeTestCertificates();
  try {
    await fn(certs);
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
}

Deno.test("wss: with AWS_CA_BUNDLE naming the private CA, the connection works", () =>
  withCerts(async ({ cert, key, caFile }) => {
    await using server = startEchoServer({ cert, key });
    assert(server.url.startsWith("wss://"));
    const { client, messages } = await open(server.url, { AWS_CA_BUNDLE: caFile });
    client.send("secure");
    client.send(bytes(100_000, 5));
    await waitFor(() => messages.length === 2, "two echoes over TLS");
    assertEquals(messages, ["secure", bytes(100_000, 5)]);
    await waitFor(() => client.pongs >= 1, "a pong over TLS");
    await closeClient(client);
    await waitFor(() => server.closeCodes.length === 1, "the server's close event");
    assertEquals(server.closeCodes, [1000]);
  }));

Deno.test("wss: without AWS_CA_BUNDLE the private CA is not trusted (certificate error)", () =>
  withCerts(async ({ cert, key }) => {
    await using server = startEchoServer({ cert, key });
    const error = await assertRejects(() => open(server.url, {}), Error);
    assert(/certificate|UnknownIssuer/i.test(error.message), error.message);
    await assertRejects(() => open(server.url, { AWS_CA_BUNDLE: "" }), Error);
    assertEquals(server.requests.length, 0, "no upgrade request reached the server");
  }));

Deno.test("wss: an unreadable AWS_CA_BUNDLE is reported by path", async () => {
  await assertRejects(
    () => open("wss://127.0.0.1:9/", { AWS_CA_BUNDLE: "/nonexistent/ca.pem" }),
    Error,
    "cannot read AWS_CA_BUNDLE /nonexistent/ca.pem",
  );
});

Deno.test("wss: through HTTPS_PROXY, TLS runs inside the CONNECT tunnel", () =>
  withCerts(async ({ cert, key, caFile }) => {
    await using server = startEchoServer({ cert, key });
    await using proxy = startConnectProxy();
    const { client, messages } = await open(server.url, {
      HTTPS_PROXY: proxy.url,
      AWS_CA_BUNDLE: caFile,
    });
    client.send("tunnelled and encrypted");
    await waitFor(() => messages.length === 1, "the echo");
    assertEquals(messages, ["tunnelled and encrypted"]);
    assertEquals(proxy.tunnels, [`127.0.0.1:${server.port}`]);
    await closeClient(client);
    await waitFor(() => server.closeCodes.length === 1, "the server's close event");
    // The same tunnel without the CA fails on the certificate.
    const error = await assertRejects(
      () => open(server.url, { HTTPS_PROXY: proxy.url }),
      Error,
    );
    assert(/certificate|UnknownIssuer/i.test(error.message), error.message);
  }));
