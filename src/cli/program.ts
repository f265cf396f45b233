/**
 * The command line as commander reads it: the command tree, each command built by its own
 * module. Only the command being run is imported and built; the whole tree is built for what
 * lists the commands: `--help`, `completions`, a typo to suggest for.
 *
 * @example
 * ```ts
 * const code = await runProgram(["list", "--json"], deps);
 * ```
 * @module
 */

import { Command, CommanderError } from "commander";
import { ExitCode, reportError } from "./report.ts";
import { type CliDeps, type CommandBuilder, commandContext } from "./context.ts";
import { proxyCommand } from "./proxy_command.ts";
import { CLIENT_VERSION } from "../session/handshake.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The version line printed by `--version`. */
export const VERSION_LINE =
  `ssmssh ${denoJson.version} (Session Manager client version ${CLIENT_VERSION})`;

/** Every subcommand, in the order `--help` lists them, and how to load its builder. */
export const COMMANDS: ReadonlyArray<{ name: string; load(): Promise<CommandBuilder> }> = [
  { name: "proxy", load: () => Promise.resolve(proxyCommand) },
  { name: "config", load: async () => (await import("./config_command.ts")).configCommand },
  { name: "ssh", load: async () => (await import("./ssh_command.ts")).sshCommand },
  { name: "list", load: async () => (await import("./list_command.ts")).listCommand },
  { name: "doctor", load: async () => (await import("./doctor_command.ts")).doctorCommand },
  { name: "keys", load: async () => (await import("./keys_command.ts")).keysCommand },
  {
    name: "completions",
    load: async () => (await import("./completions_command.ts")).completionsCommand,
  },
];

/**
 * The command tree for `args`: the command `args` names, alone, since nothing else can then be
 * printed or run; else the whole tree (also what shell completions are generated from).
 */
export async function buildProgram(
  deps: CliDeps,
  setExitCode: (code: number) => void,
  args?: string[],
): Promise<Command> {
  const named = COMMANDS.find((command) => command.name === args?.[0]);
  const wanted = named && named.name !== "completions" ? [named] : COMMANDS;
  const builders = await Promise.all(wanted.map((command) => command.load()));
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
  for (const build of builders) program.addCommand(inherit(build(ctx), program));
  return program;
}

/** Subcommands built on their own get the root's exit override and output, recursively. */
function inherit(command: Command, parent: Command): Command {
  command.copyInheritedSettings(parent);
  for (const sub of command.commands) inherit(sub, command);
  return command;
}

/** Runs the command line `args` with commander and resolves the exit code. */
export async function runProgram(args: string[], deps: CliDeps): Promise<number> {
  let exitCode = 0;
  const program = await buildProgram(deps, (code) => (exitCode = code), args);
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
