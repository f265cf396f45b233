/**
 * The real process dependencies: stdio as binary streams, the SDK, the websocket transport and
 * signals that end a session cleanly.
 * @module
 */

import { createAwsContext } from "../aws/aws_context.ts";
import { openWebSocketTransport } from "../transport/websocket_transport.ts";
import type { CliDeps } from "./run.ts";

const encoder = new TextEncoder();

/** Builds the dependencies of a real run, and a function that releases them. */
export function processDeps(): { deps: CliDeps; dispose: () => Promise<void> } {
  const abort = new AbortController();
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM", "SIGHUP"];
  const onSignal = () => abort.abort();
  for (const signal of signals) {
    try {
      Deno.addSignalListener(signal, onSignal);
    } catch {
      // Not every signal exists on every platform.
    }
  }
  const stdout = Deno.stdout.writable.getWriter();
  const deps: CliDeps = {
    aws: createAwsContext,
    connect: openWebSocketTransport,
    stdin: Deno.stdin.readable,
    stdout: { write: (bytes) => stdout.write(bytes) },
    signal: abort.signal,
    env: (name) => Deno.env.get(name),
    writeOut: (text) => writeAllSync(Deno.stdout, text),
    writeErr: (text) => writeAllSync(Deno.stderr, text),
  };
  const dispose = async () => {
    for (const signal of signals) {
      try {
        Deno.removeSignalListener(signal, onSignal);
      } catch {
        // See above.
      }
    }
    await stdout.ready.catch(() => {});
  };
  return { deps, dispose };
}

function writeAllSync(file: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
}
