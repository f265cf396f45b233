/**
 * The command line: parses arguments with commander and dispatches to the commands. Returns an
 * exit code; never exits the process itself.
 *
 * @example
 * ```ts
 * Deno.exit(await run(Deno.args, processDeps()));
 * ```
 * @module
 */

import { Command, CommanderError, Option } from "commander";
import { type LogLevel, stderrLogger } from "../log/logger.ts";
import { ExitCode, reportError } from "./report.ts";
import { type ProxyDeps, runProxy } from "./proxy_command.ts";
import { parsePort } from "./target.ts";
import { CLIENT_VERSION } from "../session/handshake.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** Process-level dependencies of every command. */
export interface CliDeps extends Omit<ProxyDeps, "logger"> {
  env(name: string): string | undefined;
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** The version line printed by `--version`. */
export const VERSION_LINE =
  `ssmssh ${denoJson.version} (Session Manager client version ${CLIENT_VERSION})`;

/** Runs the command line `args` and resolves the exit code. */
export async function run(args: string[], deps: CliDeps): Promise<number> {
  let exitCode = 0;
  const program = new Command("ssmssh")
    .description("SSH to AWS instances through Session Manager, with no plugin and no keys")
    .version(VERSION_LINE, "-V, --version")
    .exitOverride()
    .configureOutput({ writeOut: deps.writeOut, writeErr: deps.writeErr })
    .showHelpAfterError("(run `ssmssh --help` for usage)");

  program.command("proxy")
    .description("act as an OpenSSH ProxyCommand: ProxyCommand ssmssh proxy %h --port %p")
    .argument("<target>", "instance id (i-…) or managed node id (mi-…)")
    .option("-p, --port <port>", "port sshd listens on, on the instance", "22")
    .option("--region <region>", "AWS region (default: AWS_REGION or the profile's)")
    .option("--profile <profile>", "AWS profile (default: AWS_PROFILE or default)")
    .option("--document <name>", "Session document", "AWS-StartSSHSession")
    .option("--reason <text>", "reason recorded with the session, for audit trails")
    .addOption(new Option("-v, --verbose", "write diagnostics to stderr"))
    .action(async (target: string, opts) => {
      const logger = stderrLogger(logLevel(opts.verbose, deps), deps.writeErr);
      exitCode = await runProxy({
        target,
        port: parsePort(opts.port),
        region: opts.region,
        profile: opts.profile,
        document: opts.document,
        reason: opts.reason,
      }, { ...deps, logger });
    });

  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return reportError(error, (line) => deps.writeErr(`${line}\n`));
  }
}

function logLevel(verbose: boolean | undefined, deps: CliDeps): LogLevel {
  if (verbose) return "debug";
  const fromEnv = deps.env("SSMSSH_LOG");
  if (fromEnv && ["debug", "info", "warn", "error", "silent"].includes(fromEnv)) {
    return fromEnv as LogLevel;
  }
  return "info";
}
