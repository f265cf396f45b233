/**
 * The module graph is closed: `deno bundle` makes one JS file, which runs from an empty directory
 * with remote and npm imports forbidden, and real ssh/scp work through it end to end.
 * (`deno compile` needs to download its runtime, which our machines cannot; this is the closest
 * offline proof that the compiled binary would contain everything.)
 */

import { assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { startSshd } from "../../emulator/sshd.ts";
import {
  MAIN_TS,
  randomBytes,
  runCommand,
  scpVia,
  sha256File,
  sshVia,
} from "../support/product.ts";

const INSTANCE = "i-0123456789abcdef0";

Deno.test("the bundled single file runs ssh and scp end to end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-bundle-" });
  try {
    const bundle = `${dir}/ssmssh.js`;
    const built = await runCommand(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--output",
      bundle,
      MAIN_TS,
    ]);
    assertEquals(built.code, 0, built.stderr);
    const source = await Deno.readTextFile(bundle);
    assertEquals(/from\s+["'](npm|jsr|https?):/.test(source), false, "no external imports left");

    // Wrap the bundle so it runs with npm and remote modules forbidden, away from deno.json.
    const version = await runCommand(Deno.execPath(), [
      "run",
      "--no-config",
      "--no-remote",
      "--no-npm",
      "--allow-all",
      bundle,
      "--version",
    ]);
    assertEquals(version.code, 0, version.stderr);
    assertStringIncludes(version.stdout, "Session Manager client version 1.2.677.0");

    await using emulator = await startEmulator();
    await using sshd = await startSshd();
    const r = await sshVia(sshd, emulator.env, INSTANCE, ["echo", "bundled"], { entry: bundle });
    assertEquals(r, { code: 0, stdout: "bundled\n", stderr: "" });
    await Deno.writeFile(`${dir}/up.bin`, randomBytes(2 * 1024 * 1024));
    const up = await scpVia(sshd, emulator.env, `${dir}/up.bin`, `${INSTANCE}:${dir}/remote.bin`, {
      entry: bundle,
    });
    assertEquals(up.code, 0, up.stderr);
    assertEquals(await sha256File(`${dir}/remote.bin`), await sha256File(`${dir}/up.bin`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
