/**
 * The small set of typed errors. Each carries a one-line message (the cause) and a hint
 * (what to do). The CLI maps them to exit codes and stderr lines in one place (cli/report.ts).
 *
 * @example
 * ```ts
 * throw new SsmsshError("credentials", "No AWS credentials found", "Run `aws configure`");
 * ```
 * @module
 */

/** What went wrong, coarse enough to be a stable exit code. */
export type ErrorKind =
  | "usage"
  | "credentials"
  | "access-denied"
  | "target"
  | "connection"
  | "protocol"
  | "config"
  | "internal";

/** An error a user can act on. */
export class SsmsshError extends Error {
  override name = "SsmsshError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
