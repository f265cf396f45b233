/**
 * The one place where errors become exit codes and stderr lines: a line with the cause and a
 * line with the fix.
 *
 * @example
 * ```ts
 * const code = reportError(error, (line) => console.error(line));
 * ```
 * @module
 */

import { type ErrorKind, SsmsshError } from "../errors.ts";

/** Stable exit codes (documented in the README). */
export const ExitCode: Record<ErrorKind | "ok", number> = {
  ok: 0,
  internal: 1,
  usage: 2,
  credentials: 3,
  "access-denied": 4,
  target: 5,
  connection: 6,
  protocol: 7,
  config: 8,
};

/** Writes the two lines for `error` and returns its exit code. */
export function reportError(error: unknown, writeLine: (line: string) => void): number {
  const e = error instanceof SsmsshError ? error : new SsmsshError(
    "internal",
    `Unexpected error: ${error instanceof Error ? error.message : String(error)}`,
    "Run again with -v for details; if it persists, report it with that output",
    { cause: error },
  );
  writeLine(`ssmssh: ${e.message}`);
  writeLine(`hint: ${e.hint}`);
  return ExitCode[e.kind];
}
