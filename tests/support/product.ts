/**
 * How tests run the real product: `deno run … main.ts` (the source) or the file `deno bundle`
 * made, as a process, exactly as OpenSSH would start it. Also small helpers shared by e2e tests.
 * @module
 */

import { sshClientArgs, type SshdInfo } from "../../emulator/sshd.ts";
import { PERMISSIONS, V8_FLAGS } from "../../scripts/targets.ts";

/** The entry point of the source tree. */
export const MAIN_TS = new URL("../../main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Quotes one argument for /bin/sh (ssh runs ProxyCommand with the user's shell). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** argv that runs the product with the compiled binary's permissions: source or bundle. */
export function productArgv(entry = MAIN_TS): string[] {
  // A bundle must stand alone: no deno.json, no npm or remote modules.
  const closed = entry === MAIN_TS ? [] : ["--no-config", "--no-remote", "--no-npm"];
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    ...closed,
    V8_FLAGS,
    ...PERMISSIONS,
    entry,
  ];
}

/**
 * A ProxyCommand line for ssh that runs `ssmssh proxy %h --port %p`. Without `extra`, no key is
 * pushed (these tests bring their own key and must not write to the real ~/.ssh).
 */
export function proxyCommand(entry = MAIN_TS, extra: string[] = ["--no-push-key"]): string {
  return [...productArgv(entry), "proxy", "%h", "--port", "%p", ...extra].map(shellQuote).join(" ");
}

/** Runs the product (`ssmssh args…`) from `entry` to completion. */
export function runSsmssh(
  env: Record<string, string>,
  args: string[],
  entry = MAIN_TS,
): Promise<Result> {
  const [cmd, ...rest] = productArgv(entry);
  return runCommand(cmd, [...rest, ...args], env);
}

let cachedDenoDir: string | undefined;

/** Deno's cache dir, to keep in the environment of a test that moves HOME. */
export async function denoDir(): Promise<string> {
  cachedDenoDir ??= JSON.parse((await runCommand(Deno.execPath(), ["info", "--json"])).stdout)
    .denoDir;
  return cachedDenoDir!;
}

/**
 * OpenSSH options for plain `ssh`/`scp` run as a new user would: its own known_hosts, trust on
 * first use, never a prompt, errors only.
 */
export function newUserSshOptions(knownHosts: string): string[] {
  return [
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "StrictHostKeyChecking=accept-new",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
  ];
}

/** Output of a finished process. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with `env` added to the environment. */
export async function runCommand(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  options: { clearEnv?: boolean; stdin?: Uint8Array } = {},
): Promise<Result> {
  const child = new Deno.Command(cmd, {
    args,
    // No background "new Deno version" check: it would dial dl.deno.land from the tests.
    env: { DENO_NO_UPDATE_CHECK: "1", ...env },
    clearEnv: options.clearEnv,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs real `ssh` to `host` through ssmssh; `extra` options go first (ssh keeps the first). */
export function sshVia(
  sshd: SshdInfo,
  env: Record<string, string>,
  host: string,
  command: string[],
  options: { entry?: string; extra?: string[]; proxyArgs?: string[] } = {},
): Promise<Result> {
  return runCommand("ssh", [
    ...(options.extra ?? []),
    "-o",
    `ProxyCommand=${proxyCommand(options.entry, options.proxyArgs)}`,
    "-p",
    String(sshd.port),
    ...sshClientArgs(sshd, host),
    host,
    ...command,
  ], env);
}

/** Runs real `scp` through ssmssh (SFTP mode unless `-O` is in extra). */
export function scpVia(
  sshd: SshdInfo,
  env: Record<string, string>,
  from: string,
  to: string,
  options: { entry?: string; extra?: string[] } = {},
): Promise<Result> {
  return runCommand("scp", [
    ...(options.extra ?? []),
    "-q",
    "-o",
    `ProxyCommand=${proxyCommand(options.entry)}`,
    "-P",
    String(sshd.port),
    ...sshClientArgs(sshd, "i-0123456789abcdef0"),
    from,
    to,
  ], env);
}

/** SHA-256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `n` random bytes. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

/** Blanks every credential source the SDK looks at in the environment (spread it into an env). */
export const NO_ENV_CREDENTIALS: Record<string, string> = {
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_ACCESS_KEY_ID: "",
  AWS_SECRET_ACCESS_KEY: "",
  AWS_SESSION_TOKEN: "",
  AWS_PROFILE: "",
  AWS_WEB_IDENTITY_TOKEN_FILE: "",
  AWS_CONTAINER_CREDENTIALS_FULL_URI: "",
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "",
};
