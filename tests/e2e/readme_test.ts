/**
 * Tested as a new user would: every `ssmssh`, `ssh` and `scp` line in the README's shell blocks
 * runs verbatim with bash, in order, against the emulator and a real sshd; then `deno task demo`.
 * Shims on PATH stand in for the installed binary (`ssmssh` runs this source) and point OpenSSH
 * at the test HOME (OpenSSH takes ~ from the passwd entry, not $HOME); the emulator maps the
 * instances' port 22 to the test sshd.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { startSshd } from "../../emulator/sshd.ts";
import {
  denoDir,
  newUserSshOptions,
  productArgv,
  runCommand,
  shellQuote,
} from "../support/product.ts";

const README = new URL("../../README.md", import.meta.url).pathname;

/** The README's shell lines that run ssmssh, ssh or scp, comments stripped, in order. */
async function documentedCommands(): Promise<string[]> {
  const text = await Deno.readTextFile(README);
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((b) => b.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => /^(ssmssh|ssh|scp) /.test(line));
}

Deno.test("every ssmssh, ssh and scp command in the README works as written", async () => {
  const commands = await documentedCommands();
  assert(commands.length >= 12, `found ${commands.length} commands`);
  const home = await Deno.makeTempDir({ prefix: "ssmssh-readme-" });
  await using sshd = await startSshd({ authorizeClientKey: false });
  await using emulator = await startEmulator({
    portMap: { 22: sshd.port },
    instanceConnect: { keysDir: sshd.instanceConnectDir },
    instances: [
      { id: "i-0123456789abcdef0", name: "app", tags: { Env: "prod" } },
      { id: "i-0fedcba9876543210", name: "web-1" },
    ],
  });
  try {
    const bin = `${home}/bin`;
    await Deno.mkdir(bin);
    const shim = async (name: string, body: string) => {
      await Deno.writeTextFile(`${bin}/${name}`, `#!/bin/sh\n${body}\n`);
      await Deno.chmod(`${bin}/${name}`, 0o755);
    };
    await shim("ssmssh", `exec ${productArgv().map(shellQuote).join(" ")} "$@"`);
    const config = `cfg="$HOME/.ssh/config"; [ -f "$cfg" ] || cfg=/dev/null`;
    const openssh = `-F "$cfg" ${newUserSshOptions('"$HOME/known_hosts"').join(" ")}`;
    await shim("ssh", `${config}\nexec /usr/bin/ssh ${openssh} "$@"`);
    await shim("scp", `${config}\nexec /usr/bin/scp ${openssh} "$@"`);
    await Deno.writeTextFile(`${home}/build.tar.gz`, "release\n");
    const env = {
      ...emulator.env,
      HOME: home,
      DENO_DIR: await denoDir(),
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      SSMSSH_CACHE_DIR: `${home}/cache`,
    };
    for (const line of commands) {
      const r = await runCommand("bash", ["-c", `cd "$HOME" && ${line} </dev/null`], env);
      assertEquals(r.code, 0, `${line}\n${r.stderr}`);
      if (line.startsWith("ssmssh ssh")) assertStringIncludes(r.stdout, "load average");
      if (line === "ssmssh list --json") assertEquals(JSON.parse(r.stdout).length, 2);
      if (line.startsWith("ssmssh proxy")) {
        const started = emulator.calls.filter((c) => c.operation === "AmazonSSM.StartSession");
        assertEquals(started.at(-1)?.input.Target, "i-0123456789abcdef0", "tag:Env=prod resolved");
      }
    }
    assertEquals(await Deno.readTextFile("/tmp/build.tar.gz").catch(() => ""), "release\n");
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove("/tmp/build.tar.gz").catch(() => {});
  }
});

Deno.test("deno task demo runs as a new user would run it", async () => {
  const root = new URL("../..", import.meta.url).pathname;
  const r = await runCommand("bash", ["-c", `cd ${shellQuote(root)} && deno task demo`]);
  assertEquals(r.code, 0, r.stderr);
  for (const step of ["ssmssh config", "hello from", "== (intact)", "is not connected", "Done."]) {
    assertStringIncludes(r.stdout, step);
  }
});
