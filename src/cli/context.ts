/**
 * What every command gets: the process dependencies, a way to set the exit code, and a logger
 * at the level the user asked for (`-v`, SSMSSH_LOG).
 * @module
 */

import type { Command } from "commander";
import { type Logger, type LogLevel, stderrLogger } from "../log/logger.ts";
import type { ProxyDeps } from "./proxy_command.ts";

/** Process-level dependencies of every command. */
export interface CliDeps extends Omit<ProxyDeps, "logger"> {
  env(name: string): string | undefined;
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** Runs the system ssh with stdio inherited; resolves its exit code. */
  runSsh(args: string[]): Promise<number>;
  sleep(ms: number): Promise<void>;
}

/** Handed to each command's builder. */
export interface CommandContext {
  deps: CliDeps;
  setExitCode(code: number): void;
  /** The stderr logger: debug with `verbose`, else SSMSSH_LOG, else info. */
  logger(verbose?: boolean): Logger;
}

/** Builds one subcommand. */
export type CommandBuilder = (ctx: CommandContext) => Command;

/** Makes the context for one run. */
export function commandContext(deps: CliDeps, setExitCode: (code: number) => void): CommandContext {
  return {
    deps,
    setExitCode,
    logger: (verbose) => stderrLogger(logLevel(verbose, deps), deps.writeErr),
  };
}

function logLevel(verbose: boolean | undefined, deps: CliDeps): LogLevel {
  if (verbose) return "debug";
  const fromEnv = deps.env("SSMSSH_LOG");
  if (fromEnv && ["debug", "info", "warn", "error", "silent"].includes(fromEnv)) {
    return fromEnv as LogLevel;
  }
  return "info";
}
