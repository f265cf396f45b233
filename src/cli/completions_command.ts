/**
 * `ssmssh completions bash|zsh|fish|powershell`: prints a completion script for the shell.
 * @module
 */

import { Argument, Command } from "commander";
import type { CommandContext } from "./context.ts";
import { commandSpecs, completionScript, type Shell, SHELLS } from "./completions.ts";

/** `ssmssh completions <shell>`. */
export function completionsCommand(ctx: CommandContext): Command {
  return new Command("completions")
    .description("print a shell completion script (bash, zsh, fish, powershell)")
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .action((shell: Shell, _opts, command: Command) => {
      ctx.deps.writeOut(completionScript(shell, commandSpecs(command.parent!)));
    });
}
