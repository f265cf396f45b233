/**
 * The command line: parses arguments with commander and dispatches to the commands, each
 * built by its own module. Returns an exit code; never exits the process itself.
 *
 * @example
 * ```ts
 * Deno.exit(await run(Deno.args, processDeps()));
 * ```
 * @module
 */

import { Command, CommanderError } from "commander";
import { ExitCode, reportError } from "./report.ts";
import { type CliDeps, type CommandBuilder, commandContext } from "./context.ts";
import { proxyCommand } from "./proxy_command.ts";
import { configCommand } from "./config_command.ts";
import { sshCommand } from "./ssh_command.ts";
import { keysCommand } from "./keys_command.ts";
import { listCommand } from "./list_command.ts";
import { doctorCommand } from "./doctor_command.ts";
import { completionsCommand } from "./completions_command.ts";
import { CLIENT_VERSION } from "../session/handshake.ts";
import denoJson from "../../deno.json" with { type: "json" };

export type { CliDeps } from "./context.ts";

/** The version line printed by `--version`. */
export const VERSION_LINE =
  `ssmssh ${denoJson.version} (Session Manager client version ${CLIENT_VERSION})`;

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: CommandBuilder[] = [
  proxyCommand,
  configCommand,
  sshCommand,
  listCommand,
  doctorCommand,
  keysCommand,
  completionsCommand,
];

/** The whole command tree for one run (also used to generate shell completions). */
export function buildProgram(deps: CliDeps, setExitCode: (code: number) => void): Command {
  const ctx = commandContext(deps, setExitCode);
  const program = new Command("ssmssh")
    .description("SSH to AWS instances through Session Manager, with no plugin and no keys")
    .version(VERSION_LINE, "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: deps.writeOut,
      writeErr: deps.writeErr,
      outputError: (text, write) => write(`ssmssh: ${text.replace(/^error: /, "")}`),
    })
    .showHelpAfterError("hint: run `ssmssh --help` (or `ssmssh <command> --help`) for usage");
  for (const build of COMMANDS) program.addCommand(inherit(build(ctx), program));
  return program;
}

/** Subcommands built on their own get the root's exit override and output, recursively. */
function inherit(command: Command, parent: Command): Command {
  command.copyInheritedSettings(parent);
  for (const sub of command.commands) inherit(sub, command);
  return command;
}

/** Runs the command line `args` and resolves the exit code. */
export async function run(args: string[], deps: CliDeps): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(deps, (code) => (exitCode = code));
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
