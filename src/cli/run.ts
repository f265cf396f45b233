/**
 * The command line: runs a command and returns its exit code; never exits the process itself.
 * The lines ssh runs for every connection (`proxy <target> --port 22 …`) are read by
 * {@linkcode parseProxyArgs} without loading commander; everything else goes to commander
 * (program.ts).
 *
 * @example
 * ```ts
 * Deno.exit(await run(Deno.args, processDeps()));
 * ```
 * @module
 */

import { reportError } from "./report.ts";
import { type CliDeps, commandContext } from "./context.ts";
import { parseProxyArgs, runProxyArgs } from "./proxy_args.ts";

export type { CliDeps } from "./context.ts";

/** Runs the command line `args` and resolves the exit code. */
export async function run(args: string[], deps: CliDeps): Promise<number> {
  const proxy = args[0] === "proxy" ? parseProxyArgs(args.slice(1)) : undefined;
  if (!proxy) return await (await import("./program.ts")).runProgram(args, deps);
  try {
    return await runProxyArgs(proxy, commandContext(deps, () => {}));
  } catch (error) {
    return reportError(error, (line) => deps.writeErr(`${line}\n`));
  }
}
