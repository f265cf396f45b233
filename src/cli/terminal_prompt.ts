/**
 * Asking the user for an MFA code on the terminal itself. As a ProxyCommand, ssmssh's stdin and
 * stdout belong to ssh (they carry SSH bytes), so the prompt uses the controlling terminal
 * directly: `/dev/tty` on Unix, `CONIN$`/`CONOUT$` on Windows. The code is never logged.
 *
 * Deno lets a program read /dev/tty with --allow-read but write to it only with --allow-all, so
 * on Unix a short-lived `/bin/sh` (--allow-run, which ssmssh has for credential_process) writes
 * the prompt and reads the answer. That child is also what Ctrl-C or the abort signal ends, so
 * ssmssh itself never blocks on the terminal.
 *
 * @example
 * ```ts
 * const code = await askMfaCode({ profile: "admin", serial: "arn:aws:iam::123456789012:mfa/me" });
 * ```
 * @module
 */

import { SsmsshError } from "../errors.ts";

/** A line-based conversation with the user. */
export interface Terminal extends Disposable {
  write(text: string): Promise<void>;
  /** The next line without its line end; undefined at end of input. */
  readLine(): Promise<string | undefined>;
}

/** Which code to ask for. */
export interface MfaRequest {
  /** The profile being signed in (named in errors). */
  profile: string;
  /** The MFA device (`mfa_serial`), named in the prompt. */
  serial: string;
}

/** How {@linkcode askMfaCode} reaches the user. */
export interface AskMfaOptions {
  /** Opens the terminal; undefined when there is none (default {@linkcode openTerminal}). */
  open?: (signal?: AbortSignal) => Promise<Terminal | undefined> | Terminal | undefined;
  /** Ends the prompt (Ctrl-C, ssh going away). */
  signal?: AbortSignal;
  /** How many answers are read before giving up (default 3). */
  attempts?: number;
}

const CODE = /^\d{6}$/;

/** Prompts `MFA code for <serial>: ` on the terminal and returns a 6-digit code. */
export async function askMfaCode(
  request: MfaRequest,
  options: AskMfaOptions = {},
): Promise<string> {
  const attempts = options.attempts ?? 3;
  using terminal = await (options.open ?? openTerminal)(options.signal) ??
    noTerminal(request.profile);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await terminal.write(`MFA code for ${request.serial}: `);
    const line = await abortable(terminal.readLine(), options.signal, request.profile);
    if (line === undefined) {
      await terminal.write("\n");
      throw new SsmsshError(
        "credentials",
        `Cannot sign in with profile ${request.profile}: no MFA code was entered`,
        `Enter the 6-digit code your MFA device (${request.serial}) shows`,
      );
    }
    const code = line.trim();
    if (CODE.test(code)) return code;
    if (attempt < attempts) await terminal.write("An MFA code is 6 digits; try again.\n");
  }
  throw new SsmsshError(
    "credentials",
    `Cannot sign in with profile ${request.profile}: no valid MFA code after ${attempts} tries`,
    `Enter the 6-digit code your MFA device (${request.serial}) shows`,
  );
}

/** The controlling terminal, or undefined when the process has none (CI, services). */
export async function openTerminal(signal?: AbortSignal): Promise<Terminal | undefined> {
  if (Deno.build.os !== "windows") return await shellTerminal(signal);
  try {
    const input = Deno.openSync("CONIN$", { read: true, write: true });
    try {
      return fileTerminal(input, Deno.openSync("CONOUT$", { read: true, write: true }));
    } catch {
      input.close();
    }
  } catch {
    // no console
  }
  return undefined;
}

/** /dev/tty through `/bin/sh` children; undefined when the process has no controlling tty. */
export async function shellTerminal(
  signal?: AbortSignal,
  shell = "/bin/sh",
): Promise<Terminal | undefined> {
  const sh = async (script: string, ...args: string[]) => {
    const out = await new Deno.Command(shell, {
      args: ["-c", script, "sh", ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal,
    }).output();
    return { ok: out.success, stdout: new TextDecoder().decode(out.stdout) };
  };
  // Opening fails (ENXIO) without a controlling terminal: setsid, CI runners, services.
  if (!(await sh(": < /dev/tty").catch(() => ({ ok: false }))).ok) return undefined;
  return {
    async write(text) {
      await sh('printf "%s" "$1" > /dev/tty', text);
    },
    async readLine() {
      const r = await sh('IFS= read -r line < /dev/tty || exit 1; printf "%s\\n" "$line"');
      return r.ok ? r.stdout.replace(/\r?\n$/, "") : undefined;
    },
    [Symbol.dispose]() {},
  };
}

/** A Terminal over two files (the same one on Unix). */
export function fileTerminal(input: Deno.FsFile, output: Deno.FsFile): Terminal {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let pending = "";
  let ended = false;
  return {
    async write(text) {
      const bytes = encoder.encode(text);
      for (let offset = 0; offset < bytes.length;) {
        offset += await output.write(bytes.subarray(offset));
      }
    },
    async readLine() {
      const buffer = new Uint8Array(256);
      while (!pending.includes("\n") && !ended) {
        const n = await input.read(buffer);
        if (n === null || n === 0) ended = true;
        else pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      }
      const end = pending.indexOf("\n");
      if (end === -1) {
        const rest = pending;
        pending = "";
        return rest === "" ? undefined : rest;
      }
      const line = pending.slice(0, end).replace(/\r$/, "");
      pending = pending.slice(end + 1);
      return line;
    },
    [Symbol.dispose]() {
      for (const file of new Set([input, output])) {
        try {
          file.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

function noTerminal(profile: string): never {
  throw new SsmsshError(
    "credentials",
    `profile ${profile} needs an MFA code but there is no terminal to ask for it`,
    `Connect once from a terminal (the credentials are then cached), export temporary ` +
      `credentials (\`aws configure export-credentials --profile ${profile} --format env\` or ` +
      "`aws sts get-session-token`), or in CI use a role without MFA (OIDC)",
  );
}

function abortable<T>(
  read: Promise<T>,
  signal: AbortSignal | undefined,
  profile: string,
): Promise<T> {
  if (!signal) return read;
  return new Promise((resolve, reject) => {
    const onAbort = () =>
      reject(
        new SsmsshError(
          "credentials",
          `Cannot sign in with profile ${profile}: interrupted while waiting for the MFA code`,
          "Run the command again and enter the code",
        ),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    read.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
