/**
 * What every command gets: the process dependencies, a way to set the exit code, and a logger
 * at the level the user asked for (`-v`, SSMSSH_LOG).
 * @module
 */

import type { Command } from "commander";
import { fileLogger, type Logger, type LogLevel, stderrLogger, teeLogger } from "../log/logger.ts";
import { SsmsshError } from "../errors.ts";
import type { ProxyDeps } from "./proxy.ts";

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
  /**
   * The logger: stderr at debug with `verbose`, else SSMSSH_LOG, else info; plus every debug line
   * appended to SSMSSH_LOG_FILE when that is set.
   */
  logger(verbose?: boolean): Logger;
}

/** Builds one subcommand. */
export type CommandBuilder = (ctx: CommandContext) => Command;

/** Makes the context for one run. */
export function commandContext(deps: CliDeps, setExitCode: (code: number) => void): CommandContext {
  return {
    deps,
    setExitCode,
    logger: (verbose) => {
      const stderr = stderrLogger(logLevel(verbose, deps), deps.writeErr);
      const path = deps.env("SSMSSH_LOG_FILE");
      if (!path) return stderr;
      try {
        return teeLogger(stderr, fileLogger(path));
      } catch (error) {
        throw new SsmsshError(
          "config",
          `Cannot write the log file ${path}: ${(error as Error).message}`,
          "Point SSMSSH_LOG_FILE at a writable file, or unset it",
        );
      }
    },
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
