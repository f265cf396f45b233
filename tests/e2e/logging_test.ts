/**
 * Diagnostics: `-v` and SSMSSH_LOG=debug write to stderr, SSMSSH_LOG_FILE to a file; neither
 * ever contains the session token, AWS secrets or private key material, and stdout stays clean.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { startSshd } from "../../emulator/sshd.ts";
import { runCommand, sshVia } from "../support/product.ts";

const INSTANCE = "i-0123456789abcdef0";

Deno.test("debug logs on stderr and in SSMSSH_LOG_FILE hold no secrets", async () => {
  await using sshd = await startSshd({ authorizeClientKey: true });
  await using emulator = await startEmulator({
    instanceConnect: { keysDir: sshd.instanceConnectDir },
  });
  const dir = await Deno.makeTempDir();
  try {
    const logFile = `${dir}/ssmssh.log`;
    const env = { ...emulator.env, SSMSSH_LOG: "debug", SSMSSH_LOG_FILE: logFile };
    const keyDir = `${dir}/keys`;
    const r = await sshVia(sshd, env, INSTANCE, ["echo", "logged"], {
      extra: ["-o", `IdentityFile=${keyDir}/%r@%h`],
      proxyArgs: ["--user", "%r", "--key-dir", keyDir, "-v"],
    });
    assertEquals(r.stdout, "logged\n", r.stderr);
    assertStringIncludes(r.stderr, "] started session");
    const file = await Deno.readTextFile(logFile);
    assertStringIncludes(file, "] started session");
    assertEquals((await Deno.stat(logFile)).mode! & 0o777, 0o600);
    const key = await Deno.readTextFile(`${keyDir}/${sshd.user}@${INSTANCE}`);
    const secrets = [
      ...[...emulator.sessions.values()].flatMap((s) => [...s.tokens]),
      emulator.env.AWS_SECRET_ACCESS_KEY,
      "PRIVATE KEY",
      key.split("\n")[1],
    ];
    assert(secrets.length >= 4);
    for (const secret of secrets) {
      assert(!r.stderr.includes(secret), `stderr leaks ${secret.slice(0, 8)}…`);
      assert(!file.includes(secret), `log file leaks ${secret.slice(0, 8)}…`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unwritable SSMSSH_LOG_FILE is a clear configuration error (exit 8)", async () => {
  await using emulator = await startEmulator();
  const { productArgv } = await import("../support/product.ts");
  const [cmd, ...args] = productArgv();
  const r = await runCommand(cmd, [...args, "proxy", INSTANCE, "--no-push-key"], {
    ...emulator.env,
    SSMSSH_LOG_FILE: "/nonexistent-dir/x.log",
  });
  assertEquals(r.code, 8, r.stderr);
  assertStringIncludes(r.stderr, "ssmssh: Cannot write the log file /nonexistent-dir/x.log");
  assertEquals(r.stdout, "");
});
