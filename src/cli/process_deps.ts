/**
 * The real process dependencies: stdio as binary streams, the SDK, the websocket transport,
 * the system ssh, signals that end a session cleanly, and key reaping that outlives the process.
 * @module
 */

import { CoalescingSink } from "../session/coalescing_sink.ts";
import { createAwsContext } from "../aws/aws_context.ts";
import type { SignIn } from "../aws/credentials.ts";
import { credentialCacheDir } from "../aws/credential_cache.ts";
import { askMfaCode } from "./terminal_prompt.ts";
import { webSocketTransportFactory } from "../transport/websocket_transport.ts";
import { reapExpiredKeys } from "../keys/key_store.ts";
import { selfArgv } from "./self_command.ts";
import type { CliDeps } from "./context.ts";

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
  const reaps = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  const stdoutWriter = Deno.stdout.writable.getWriter();
  const stdout = new CoalescingSink({ write: (bytes) => stdoutWriter.write(bytes) });
  // MFA codes are asked on the terminal, never on stdio (ssh's); assumed roles are cached.
  const signIn: SignIn = {
    askMfaCode: (request) => askMfaCode(request, { signal: abort.signal }),
    cacheDir: credentialCacheDir((name) => Deno.env.get(name)),
  };
  const deps: CliDeps = {
    aws: (options) => createAwsContext(options, signIn),
    connect: webSocketTransportFactory((name) => Deno.env.get(name)),
    stdin: Deno.stdin.readable,
    stdout,
    signal: abort.signal,
    env: (name) => Deno.env.get(name),
    writeOut: (text) => writeAllSync(Deno.stdout, text),
    writeErr: (text) => writeAllSync(Deno.stderr, text),
    runSsh: async (args) => {
      const child = new Deno.Command("ssh", {
        args,
        stdin: "inherit",
        stdout: "inherit",
        stderr: "inherit",
      });
      return (await child.spawn().status).code;
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    scheduleKeyReap: (dir, at) => {
      const timer = setTimeout(() => {
        reaps.delete(dir);
        void reapExpiredKeys(dir).catch(() => {});
      }, Math.max(0, at - Date.now()) + 50);
      Deno.unrefTimer(timer as unknown as number);
      const previous = reaps.get(dir);
      if (previous) clearTimeout(previous.timer);
      reaps.set(dir, { at: Math.max(at, previous?.at ?? 0), timer });
    },
  };
  const dispose = async () => {
    for (const signal of signals) {
      try {
        Deno.removeSignalListener(signal, onSignal);
      } catch {
        // See above.
      }
    }
    // Keys still valid when we exit are deleted by a detached `ssmssh keys reap`.
    for (const [dir, { at, timer }] of reaps) {
      clearTimeout(timer);
      spawnReaper(dir, at + 50);
    }
    await stdout.flushed(); // the session's last output reaches ssh before the process exits
    await stdoutWriter.ready.catch(() => {});
  };
  return { deps, dispose };
}

function spawnReaper(dir: string, at: number): void {
  const [cmd, ...args] = selfArgv();
  try {
    new Deno.Command(cmd, {
      args: [...args, "keys", "reap", "--key-dir", dir, "--wait-until", String(at)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn().unref();
  } catch {
    // The next run's sweep deletes the expired key instead.
  }
}

function writeAllSync(file: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
}
