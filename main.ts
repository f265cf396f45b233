/**
 * ssmssh: SSH to AWS instances through Session Manager. Builds the real dependencies, runs the
 * command line and exits with its code.
 * @module
 */

import { run } from "./src/cli/run.ts";
import { processDeps } from "./src/cli/process_deps.ts";

if (import.meta.main) {
  const { deps, dispose } = processDeps();
  const code = await run(Deno.args, deps);
  await dispose();
  Deno.exit(code);
}
