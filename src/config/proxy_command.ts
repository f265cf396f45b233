/**
 * Building the `ProxyCommand` value that `ssmssh config` writes.
 *
 * How OpenSSH runs a ProxyCommand decides the quoting rules:
 *
 * 1. The value is taken verbatim from the config line, then `%` tokens are
 *    expanded (`%h`, `%p`, `%r`, `%n`, `%k`, and `%%` for a literal `%`).
 * 2. Unix: the result is run as `$SHELL -c "exec <value>"`, so it must be
 *    valid for `/bin/sh` (and for the usual login shells: bash, zsh, fish).
 *    Windows (Win32-OpenSSH): there is no shell; the value is passed to
 *    `CreateProcessW` as a command line, so it must follow the
 *    `CommandLineToArgvW` rules, and the program path must be absolute or
 *    Win32-OpenSSH looks for it next to `ssh.exe`.
 *
 * Each argument is therefore left bare when it only has harmless characters,
 * and otherwise wrapped in double quotes (valid for both targets). Characters
 * that cannot be written safely for the target are rejected with a
 * {@link ProxyCommandError} rather than guessed at.
 *
 * @module
 */

/** Which command-line dialect the ProxyCommand is written for. */
export type ProxyPlatform = "posix" | "windows";

/**
 * The ssh `%` tokens that `buildProxyCommand` passes through unescaped when
 * an argv element is exactly one of them. Any other `%` is doubled.
 */
export const PROXY_COMMAND_TOKENS: readonly string[] = ["%h", "%n", "%p", "%r", "%k"];

/**
 * Tokens whose expansion comes from what the user (or a program such as git)
 * typed as host or user name. They are quoted so that a hostile name cannot
 * inject shell syntax (OpenSSH >= 9.6 also rejects such names itself).
 * `%p` is always a number and stays bare.
 */
const NAME_TOKENS = new Set(["%h", "%n", "%r", "%k"]);

/** Thrown when an argument cannot be represented safely in a ProxyCommand. */
export class ProxyCommandError extends Error {
  /** @param message explanation, including the offending argument */
  constructor(message: string) {
    super(message);
    this.name = "ProxyCommandError";
  }
}

/** Characters that never need quoting (POSIX sh and Windows alike). */
const SAFE_BARE = /^[A-Za-z0-9_\-.\/:@+,%]+$/;
/** Characters that are special inside sh double quotes, or to csh history. */
const SH_DQUOTE_SPECIAL = /["$`\\!]/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** The platform of the running process, as a {@link ProxyPlatform}. */
export function currentProxyPlatform(): ProxyPlatform {
  return Deno.build.os === "windows" ? "windows" : "posix";
}

/** Doubles `%` so that ssh's token expansion yields a literal `%`. */
function escapePercent(s: string): string {
  return s.replaceAll("%", "%%");
}

function describe(arg: string): string {
  return JSON.stringify(arg);
}

/**
 * Quotes one literal argument for a ProxyCommand value.
 *
 * - `%` is always doubled to `%%` (ssh would otherwise expand it).
 * - Arguments made only of `[A-Za-z0-9_-./:@+,%]` stay bare.
 * - Otherwise the argument is double-quoted.
 * - POSIX: if it contains `"`, `$`, `` ` ``, `\` or `!` it is single-quoted
 *   instead; if it also contains `'` or `\` it is rejected.
 * - Windows: `"` is rejected (no portable escape); trailing backslashes are
 *   doubled so they do not escape the closing quote.
 * - Control characters (newline, tab, ...) are always rejected.
 *
 * @param arg the literal argument (never interpreted as an ssh token)
 * @param platform target dialect, default: the running OS
 * @returns the quoted text to put in the ProxyCommand line
 * @throws {ProxyCommandError} if the argument cannot be written safely
 */
export function quoteForSshConfig(
  arg: string,
  platform: ProxyPlatform = currentProxyPlatform(),
): string {
  if (CONTROL.test(arg)) {
    throw new ProxyCommandError(
      `Cannot use ${describe(arg)} in an ssh ProxyCommand: it contains a control character ` +
        `(newline, tab, ...).`,
    );
  }
  if (arg !== "" && SAFE_BARE.test(arg)) return escapePercent(arg);
  if (platform === "windows") return quoteWindows(arg);
  if (!SH_DQUOTE_SPECIAL.test(arg)) return `"${escapePercent(arg)}"`;
  if (!/['\\]/.test(arg)) return `'${escapePercent(arg)}'`;
  throw new ProxyCommandError(
    `Cannot use ${describe(arg)} in an ssh ProxyCommand: it mixes characters that need ` +
      `double quotes ($, \`, ", !) with ones that rule out single quotes (' or \\). ` +
      `Move or rename it (e.g. install ssmssh in a plain directory) and try again.`,
  );
}

/** Double-quotes for CommandLineToArgvW; `"` itself is not supported. */
function quoteWindows(arg: string): string {
  if (arg.includes('"')) {
    throw new ProxyCommandError(
      `Cannot use ${describe(arg)} in an ssh ProxyCommand on Windows: it contains a double ` +
        `quote, which cannot be passed through reliably.`,
    );
  }
  // Backslashes are literal unless they precede a quote: double the trailing run.
  const trailing = /\\*$/.exec(arg)?.[0].length ?? 0;
  return `"${escapePercent(arg)}${"\\".repeat(trailing)}"`;
}

/** Whether a path is absolute in Windows terms (`C:\x`, `C:/x`, `\\server\share`). */
export function isWindowsAbsolutePath(path: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(path) || /^[\\/]{2}[^\\/]/.test(path);
}

/**
 * Builds a ProxyCommand value from an argument vector.
 *
 * Elements equal to one of {@link PROXY_COMMAND_TOKENS} are ssh tokens and are
 * kept for ssh to expand (`%h`, `%n`, `%r`, `%k` are quoted; `%p` stays bare).
 * A token must be its own element: `"--port=%p"` is a literal and becomes
 * `--port=%%p`. Every other element is quoted with {@link quoteForSshConfig}.
 *
 * @example
 * ```ts
 * buildProxyCommand(["/opt/my tools/ssmssh", "proxy", "%h", "--port", "%p"], "posix");
 * // => `"/opt/my tools/ssmssh" proxy '%h' --port %p`
 * ```
 * @param argv program path followed by its arguments
 * @param platform target dialect, default: the running OS
 * @returns the value to write after `ProxyCommand `
 * @throws {ProxyCommandError} for an empty argv, a non-absolute program path on
 *   Windows, or an argument that cannot be represented
 */
export function buildProxyCommand(
  argv: string[],
  platform: ProxyPlatform = currentProxyPlatform(),
): string {
  if (argv.length === 0 || argv[0] === "") {
    throw new ProxyCommandError("Cannot build a ProxyCommand: the program path is empty.");
  }
  if (PROXY_COMMAND_TOKENS.includes(argv[0])) {
    throw new ProxyCommandError(
      `Cannot build a ProxyCommand: the program path is the ssh token ${argv[0]}.`,
    );
  }
  if (platform === "windows" && !isWindowsAbsolutePath(argv[0])) {
    throw new ProxyCommandError(
      `Cannot build a ProxyCommand from ${describe(argv[0])}: on Windows the program path ` +
        `must be absolute (e.g. C:\\Tools\\ssmssh.exe), otherwise OpenSSH looks for it next ` +
        `to ssh.exe.`,
    );
  }
  return argv.map((arg) => quoteArg(arg, platform)).join(" ");
}

function quoteArg(arg: string, platform: ProxyPlatform): string {
  if (!PROXY_COMMAND_TOKENS.includes(arg)) return quoteForSshConfig(arg, platform);
  if (!NAME_TOKENS.has(arg)) return arg;
  return platform === "windows" ? `"${arg}"` : `'${arg}'`;
}
