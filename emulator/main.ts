/**
 * Runs the emulator on its own: `deno run -A emulator/main.ts` prints the environment to point
 * ssmssh at it and serves until interrupted. Test/demo infrastructure only.
 * @module
 */

import { startEmulator } from "./server.ts";

if (import.meta.main) {
  const emulator = await startEmulator();
  console.log("# Session Manager emulator running; in another shell:");
  for (const [name, value] of Object.entries(emulator.env)) console.log(`export ${name}=${value}`);
  console.log("# Sessions forward to 127.0.0.1:<portNumber>. Ctrl-C to stop.");
  Deno.addSignalListener("SIGINT", async () => {
    await emulator.stop();
    Deno.exit(0);
  });
}
