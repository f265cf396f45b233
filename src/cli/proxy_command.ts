/**
 * `ssmssh proxy <target>` for commander: the command with the options of
 * {@linkcode PROXY_OPTIONS}, for `--help` and for the command lines the fast parser leaves to
 * commander. The run itself is proxy.ts.
 *
 * @example
 * ```ts
 * program.addCommand(proxyCommand(ctx));
 * ```
 * @module
 */

import { Command, Option } from "commander";
import type { CommandContext } from "./context.ts";
import { PROXY_OPTIONS, type ProxyOptionValues, runProxyArgs } from "./proxy_args.ts";

/** `ssmssh proxy <target>`. */
export function proxyCommand(ctx: CommandContext): Command {
  const command = new Command("proxy")
    .description("act as an OpenSSH ProxyCommand: ssmssh proxy %h --port %p --user %r")
    .argument("<target>", "instance id (i-…, mi-…), Name tag (web-1) or tag:Key=Value");
  for (const spec of PROXY_OPTIONS) {
    const option = new Option(spec.flags, spec.description);
    if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
    if (spec.choices) option.choices(spec.choices);
    command.addOption(option);
  }
  return command.action(async (target: string, values: ProxyOptionValues) => {
    ctx.setExitCode(await runProxyArgs({ target, values }, ctx));
  });
}
