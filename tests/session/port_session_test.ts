/**
 * PortSession with a fake send and output (spec §7, §9.2): the handshake, stdin only after
 * HandshakeComplete, ≤ 1024-byte chunks with no LF→CR rewriting, Output written in order before
 * it is acknowledged, CustomerMessage to the logger, and refusal of non-Port sessions.
 * @module
 */

import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { macrotask } from "../support/fake_clock.ts";
import { PortSession } from "../../src/session/port_session.ts";
import { PayloadType, PayloadTypeFlag } from "../../src/protocol/message_type.ts";
import { encodeFlag, encodeJson } from "../../src/protocol/payloads.ts";
import { SsmsshError } from "../../src/errors.ts";
import type { Logger } from "../../src/log/logger.ts";

const text = (s: string) => new TextEncoder().encode(s);
const untext = (b: Uint8Array) => new TextDecoder().decode(b);

interface Sent {
  type: number;
  payload: Uint8Array;
}

/** A PortSession wired to recording fakes. */
function setup(options: { sendGate?: () => Promise<void> } = {}) {
  const sent: Sent[] = [];
  const written: Uint8Array[] = [];
  const logs: Array<[string, string]> = [];
  const logger: Logger = {
    debug: (m) => logs.push(["debug", m]),
    info: (m) => logs.push(["info", m]),
    warn: (m) => logs.push(["warn", m]),
    error: (m) => logs.push(["error", m]),
  };
  let writeGate: Promise<void> | undefined;
  const port = new PortSession({
    send: async (type, payload) => {
      sent.push({ type, payload: payload.slice() });
      await options.sendGate?.();
    },
    output: {
      write: async (bytes) => {
        await writeGate;
        written.push(bytes.slice());
      },
    },
    logger,
  });
  return {
    port,
    sent,
    written,
    logs,
    /** Makes output writes wait until the returned function is called. */
    holdWrites(): () => void {
      const gate = Promise.withResolvers<void>();
      writeGate = gate.promise;
      return () => {
        writeGate = undefined;
        gate.resolve();
      };
    },
    data: () => sent.filter((s) => s.type === PayloadType.Output),
  };
}

function handshakeRequest(sessionType = "Port", agentVersion = "3.3.987.0") {
  return encodeJson({
    AgentVersion: agentVersion,
    RequestedClientActions: [{
      ActionType: "SessionType",
      ActionParameters: { SessionType: sessionType, Properties: { portNumber: "22" } },
    }],
  });
}

function handshakeComplete(customerMessage = "") {
  return encodeJson({ HandshakeTimeToComplete: 1_000_000, CustomerMessage: customerMessage });
}

async function handshake(port: PortSession, customerMessage = ""): Promise<void> {
  await port.onMessage(PayloadType.HandshakeRequest, handshakeRequest());
  await port.onMessage(PayloadType.HandshakeComplete, handshakeComplete(customerMessage));
  await port.handshakeComplete;
}

/** A stream that yields `chunks` and then ends. */
function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

Deno.test("port session: a HandshakeRequest is answered with one type 6 message", async () => {
  const h = setup();
  assertEquals(h.port.state, "handshaking");
  await h.port.onMessage(PayloadType.HandshakeRequest, handshakeRequest("Port", "3.1.1732.0"));
  assertEquals(h.sent.map((s) => s.type), [PayloadType.HandshakeResponse]);
  assertEquals(PayloadType.HandshakeResponse, 6);
  assertEquals(
    untext(h.sent[0].payload),
    `{"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType",` +
      `"ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}`,
  );
  assertEquals(h.port.agentVersion, "3.1.1732.0");
  assertEquals(h.port.state, "handshaking", "ready only after HandshakeComplete");
  await h.port.onMessage(PayloadType.HandshakeComplete, handshakeComplete());
  assertEquals(h.port.state, "ready");
  await h.port.handshakeComplete;
});

Deno.test("port session: pumpInput sends nothing before HandshakeComplete", async () => {
  const h = setup();
  const pump = h.port.pumpInput(streamOf(text("early bytes")));
  for (let i = 0; i < 5; i++) await macrotask();
  assertEquals(h.sent, [], "input is not even read before the handshake");

  await h.port.onMessage(PayloadType.HandshakeRequest, handshakeRequest());
  for (let i = 0; i < 5; i++) await macrotask();
  assertEquals(h.sent.map((s) => s.type), [PayloadType.HandshakeResponse]);

  await h.port.onMessage(PayloadType.HandshakeComplete, handshakeComplete());
  await pump;
  assertEquals(h.sent.map((s) => s.type), [PayloadType.HandshakeResponse, PayloadType.Output]);
  assertEquals(untext(h.sent[1].payload), "early bytes");
  assertEquals(h.port.bytesIn, 11);
});

Deno.test("port session: stdin is split into chunks of at most 1024 bytes (3000 → 1024+1024+952)", async () => {
  const h = setup();
  await handshake(h.port);
  const input = pattern(3000);
  await h.port.pumpInput(streamOf(input));
  assertEquals(h.data().map((s) => s.payload.length), [1024, 1024, 952]);
  assertEquals(concat(h.data().map((s) => s.payload)), input);
  assertEquals(h.port.bytesIn, 3000);
});

Deno.test("port session: chunk boundaries follow the reads; exact 1024 and 1025, empty reads skipped", async () => {
  const h = setup();
  await handshake(h.port);
  const reads = [pattern(1024), new Uint8Array(0), pattern(1025), pattern(1), pattern(2048)];
  await h.port.pumpInput(streamOf(...reads));
  assertEquals(h.data().map((s) => s.payload.length), [1024, 1024, 1, 1, 1024, 1024]);
  assert(h.data().every((s) => s.payload.length > 0), "never an empty stream payload (§11.5)");
  assertEquals(concat(h.data().map((s) => s.payload)), concat(reads));
});

Deno.test("port session: a lone LF goes out unchanged (no LF→CR rewriting, §9.2)", async () => {
  const h = setup();
  await handshake(h.port);
  await h.port.pumpInput(streamOf(text("\n"), text("\r"), text("\n")));
  assertEquals(h.data().map((s) => [...s.payload]), [[0x0a], [0x0d], [0x0a]]);
});

Deno.test("port session: one send at a time; the pump waits for each send (back-pressure)", async () => {
  let release: (() => void) | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const h = setup({
    sendGate: async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const gate = Promise.withResolvers<void>();
      release = gate.resolve;
      await gate.promise;
      inFlight--;
    },
  });
  const handshaking = h.port.onMessage(PayloadType.HandshakeRequest, handshakeRequest());
  release!();
  await handshaking;
  await h.port.onMessage(PayloadType.HandshakeComplete, handshakeComplete());
  let done = false;
  const pump = h.port.pumpInput(streamOf(pattern(4096))).then(() => done = true);
  for (let n = 2; n <= 5; n++) {
    for (let i = 0; i < 3; i++) await macrotask();
    assertEquals(h.sent.length, n, "the next chunk waits for the previous send");
    assertEquals(done, false);
    release!();
  }
  await pump;
  assertEquals(maxInFlight, 1);
  assertEquals(h.data().map((s) => s.payload.length), [1024, 1024, 1024, 1024]);
});

Deno.test("port session: an abort signal stops the pump", async () => {
  const h = setup();
  await handshake(h.port);
  const controller = new AbortController();
  let cancelled = false;
  const input = new ReadableStream<Uint8Array>({
    // Like real stdin, each read waits for the event loop.
    pull: async (c) => {
      await macrotask();
      c.enqueue(text("x"));
    },
    cancel: () => {
      cancelled = true;
    },
  });
  const pump = h.port.pumpInput(input, controller.signal);
  while (h.data().length < 3) await macrotask();
  controller.abort();
  await pump;
  const count = h.data().length;
  for (let i = 0; i < 3; i++) await macrotask();
  assertEquals(h.data().length, count, "nothing more is sent after the abort");
  assert(cancelled, "the input was cancelled");
});

Deno.test("port session: Output payloads are written in order, before onMessage resolves", async () => {
  const h = setup();
  await handshake(h.port);
  const release = h.holdWrites();
  let first = false;
  const writing = Promise.resolve(h.port.onMessage(PayloadType.Output, text("one "))).then(() =>
    first = true
  );
  for (let i = 0; i < 3; i++) await macrotask();
  assertEquals(first, false, "the data channel must not ack before the write finished");
  release();
  await writing;
  await h.port.onMessage(PayloadType.Output, text("two "));
  await h.port.onMessage(PayloadType.Output, new Uint8Array([0x0a]));
  await h.port.onMessage(PayloadType.Output, pattern(1024));
  assertEquals(h.written.slice(0, 3).map(untext), ["one ", "two ", "\n"]);
  assertEquals(h.written[3], pattern(1024));
  assertEquals(h.port.bytesOut, 4 + 4 + 1 + 1024);
  assertEquals(h.sent.filter((s) => s.type !== PayloadType.HandshakeResponse), [], "no echo");
});

Deno.test("port session: CustomerMessage goes to the logger, never to the output", async () => {
  const h = setup();
  await handshake(h.port, "This session is encrypted using AWS KMS.");
  assertEquals(h.written, []);
  assertEquals(h.port.bytesOut, 0);
  assert(
    h.logs.some(([, m]) => m === "This session is encrypted using AWS KMS."),
    JSON.stringify(h.logs),
  );
});

Deno.test("port session: an empty CustomerMessage logs nothing at info level", async () => {
  const h = setup();
  await handshake(h.port, "");
  assertEquals(h.logs.filter(([level]) => level !== "debug"), []);
});

Deno.test("port session: a non-Port session type rejects handshakeComplete with an SsmsshError", async () => {
  for (const type of ["Standard_Stream", "InteractiveCommands", "Mystery"]) {
    const h = setup();
    await h.port.onMessage(PayloadType.HandshakeRequest, handshakeRequest(type));
    const error = await assertRejects(() => h.port.handshakeComplete, SsmsshError);
    assertEquals(error.kind, "protocol");
    assert(error.message.includes(type), error.message);
    assert(error.hint.length > 0);
    assertEquals(h.port.state, "failed");
    // The agent still gets an answer, with the failed action, so it can cancel the session.
    assertEquals(h.sent.map((s) => s.type), [PayloadType.HandshakeResponse]);
    const response = JSON.parse(untext(h.sent[0].payload));
    assertEquals(response.ProcessedClientActions[0].ActionStatus, 2);
    // A HandshakeComplete after the refusal does not make the session ready.
    await h.port.onMessage(PayloadType.HandshakeComplete, handshakeComplete());
    assertEquals(h.port.state, "failed");
    await assertRejects(() => h.port.pumpInput(streamOf(text("x"))), SsmsshError);
    assertEquals(h.data(), [], "no stream data for a refused session");
  }
});

Deno.test("port session: flags: ConnectToPortError warns; terminate() sends Flag 2", async () => {
  const h = setup();
  await handshake(h.port);
  await h.port.onMessage(PayloadType.Flag, encodeFlag(PayloadTypeFlag.ConnectToPortError));
  assert(h.logs.some(([level]) => level === "warn"), JSON.stringify(h.logs));
  assertEquals(h.written, [], "a flag is not stream data");
  await h.port.terminate();
  const last = h.sent.at(-1)!;
  assertEquals(last.type, PayloadType.Flag);
  assertEquals([...last.payload], [0, 0, 0, 2]);
});

Deno.test("port session: other payload types are ignored, not written", async () => {
  const h = setup();
  await handshake(h.port);
  await h.port.onMessage(PayloadType.StdErr, text("stderr?"));
  await h.port.onMessage(PayloadType.ExitCode, text("0"));
  assertEquals(h.written, []);
});
