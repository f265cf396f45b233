/**
 * Nothing lost when the network misbehaves, through the real process (`deno run main.ts proxy`):
 * 50 MB each way with two websocket drops, reordering and duplicates injected, SHA-256 equal on
 * both ends; and a 200 MB transfer whose peak memory stays bounded (back-pressure, not buffering).
 */

import { assert, assertEquals } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { chain, duplicateEvery, reorderEvery } from "../../emulator/faults.ts";
import { productArgv } from "../support/product.ts";
import { pseudoRandomChunks, startSink, startSource } from "../support/stream_servers.ts";
import { vmHwmKiB } from "../support/peak_rss.ts";
import { createHash } from "node:crypto";

const INSTANCE = "i-0123456789abcdef0";
const MB = 1024 * 1024;

interface Run {
  code: number;
  stderr: string;
  stdoutBytes: number;
  stdoutSha256: string;
  peakKiB: number;
}

/** Runs `ssmssh proxy` with `upload` bytes on stdin, hashing stdout and sampling its memory. */
async function proxy(env: Record<string, string>, port: number, upload: number): Promise<Run> {
  const [cmd, ...args] = productArgv();
  const child = new Deno.Command(cmd, {
    args: [...args, "proxy", INSTANCE, "--port", String(port), "--no-push-key"],
    env: { DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peakKiB = 0;
  const sampler = setInterval(async () => {
    peakKiB = Math.max(peakKiB, await vmHwmKiB(child.pid));
  }, 50);
  const hash = createHash("sha256");
  let stdoutBytes = 0;
  const drain = (async () => {
    for await (const chunk of child.stdout) {
      hash.update(chunk);
      stdoutBytes += chunk.length;
    }
  })();
  const feed = (async () => {
    const writer = child.stdin.getWriter();
    for (const chunk of pseudoRandomChunks(upload, 7)) await writer.write(chunk);
    // Like ssh, keep stdin open while a download runs: stdin EOF ends the session.
    if (upload === 0) await drain;
    await writer.close().catch(() => {});
  })();
  const stderr = new Response(child.stderr).text();
  const [status] = await Promise.all([child.status, feed, drain]);
  clearInterval(sampler);
  return {
    code: status.code,
    stderr: await stderr,
    stdoutBytes,
    stdoutSha256: hash.digest("hex"),
    peakKiB,
  };
}

function sha256Of(size: number, seed: number): string {
  const hash = createHash("sha256");
  for (const chunk of pseudoRandomChunks(size, seed)) hash.update(chunk);
  return hash.digest("hex");
}

const faults = () => chain(reorderEvery(9), duplicateEvery(13));

Deno.test("50 MB up survives two socket drops, reordering and duplicates", async () => {
  await using emulator = await startEmulator({
    faults: { toClient: faults(), fromClient: faults(), dropSocketAfterFrames: [8_000, 30_000] },
  });
  await using sink = startSink();
  const run = await proxy(emulator.env, sink.port, 50 * MB);
  assertEquals(run.code, 0, run.stderr);
  const received = await sink.done;
  assertEquals(received.bytes, 50 * MB);
  assertEquals(received.sha256, sha256Of(50 * MB, 7));
  const session = [...emulator.sessions.values()][0];
  assertEquals(session.agent.connections, 3, "two drops, two reconnects");
  assert(session.agent.channel.stats.duplicates > 0 && session.agent.channel.stats.reordered > 0);
});

Deno.test("50 MB down survives two socket drops, reordering and duplicates", async () => {
  await using emulator = await startEmulator({
    faults: { toClient: faults(), fromClient: faults(), dropSocketAfterFrames: [10_000, 35_000] },
  });
  await using source = startSource(50 * MB, 3);
  const run = await proxy(emulator.env, source.port, 0);
  assertEquals(run.code, 0, run.stderr);
  const sent = await source.done;
  assertEquals(run.stdoutBytes, sent.bytes);
  assertEquals(run.stdoutSha256, sent.sha256);
  assertEquals([...emulator.sessions.values()][0].agent.connections, 3);
});

Deno.test("200 MB each way with peak memory under 150 MB", async () => {
  await using emulator = await startEmulator();
  await using sink = startSink();
  const up = await proxy(emulator.env, sink.port, 200 * MB);
  assertEquals(up.code, 0, up.stderr);
  assertEquals((await sink.done).bytes, 200 * MB);
  await using source = startSource(200 * MB, 5);
  const down = await proxy(emulator.env, source.port, 0);
  assertEquals(down.code, 0, down.stderr);
  assertEquals(down.stdoutSha256, (await source.done).sha256);
  console.log(
    `peak RSS: up ${Math.round(up.peakKiB / 1024)} MB, down ${Math.round(down.peakKiB / 1024)} MB`,
  );
  assert(up.peakKiB > 0 && down.peakKiB > 0, "memory was sampled");
  assert(up.peakKiB < 150 * 1024, `up peak ${up.peakKiB} KiB`);
  assert(down.peakKiB < 150 * 1024, `down peak ${down.peakKiB} KiB`);
});
