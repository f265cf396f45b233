/**
 * The results of `ssmssh doctor`: one line per check (ok, warn, fail, skip) with a hint under
 * warnings and failures, the same as JSON for scripts, and the exit code they add up to.
 *
 * @example
 * ```ts
 * const results = [ok("region", "eu-west-1 (from AWS_REGION)")];
 * formatText(results); // "ok   region  eu-west-1 (from AWS_REGION)\n"
 * doctorExitCode(results); // 0
 * ```
 * @module
 */

import { type ErrorKind, SsmsshError } from "../errors.ts";
import { ExitCode } from "./report.ts";

/** The checks, in the order they run and print. */
export type CheckName =
  | "credentials"
  | "region"
  | "target"
  | "agent"
  | "platform"
  | "key-push"
  | "session";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** The outcome of one check; `kind` (fail only) decides the exit code. */
export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  detail: string;
  hint?: string;
  kind?: ErrorKind;
}

/** 0 when nothing failed (warnings included); else the exit code of the first failure's kind. */
export function doctorExitCode(results: CheckResult[]): number {
  const first = results.find((r) => r.status === "fail");
  return first ? ExitCode[first.kind ?? "internal"] : ExitCode.ok;
}

/** One line per check (`ok   region       us-east-1 (from AWS_REGION)`), a hint line after. */
export function formatText(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  return results.map((r) => {
    const line = `${r.status.padEnd(4)} ${r.check.padEnd(width)}  ${r.detail}\n`;
    return r.hint ? `${line}     hint: ${r.hint}\n` : line;
  }).join("");
}

/** `--json`: an array of {check, status, detail, hint}; hint is null when there is none. */
export function formatJson(results: CheckResult[]): string {
  const rows = results.map(({ check, status, detail, hint }) => ({
    check,
    status,
    detail,
    hint: hint ?? null,
  }));
  return JSON.stringify(rows, null, 2) + "\n";
}

/** What a probe gave: its value, or its failure as an SsmsshError. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; error: SsmsshError };

/** Runs a probe; any error becomes an SsmsshError (unknown ones of kind internal). */
export async function attempt<T>(fn: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    const e = error instanceof SsmsshError ? error : new SsmsshError(
      "internal",
      `Unexpected error: ${error instanceof Error ? error.message : String(error)}`,
      "Run again with -v for details; if it persists, report it with that output",
      { cause: error },
    );
    return { ok: false, error: e };
  }
}

/** An ok line. */
export function ok(check: CheckName, detail: string): CheckResult {
  return { check, status: "ok", detail };
}

/** A warning with its hint. */
export function warn(check: CheckName, detail: string, hint: string): CheckResult {
  return { check, status: "warn", detail, hint };
}

/** A check not run, and why. */
export function skip(check: CheckName, detail: string): CheckResult {
  return { check, status: "skip", detail };
}

/** A failure from an error: its message, its hint (or `hint`), its kind for the exit code. */
export function failed(check: CheckName, error: SsmsshError, hint = error.hint): CheckResult {
  return { check, status: "fail", kind: error.kind, detail: error.message, hint };
}
