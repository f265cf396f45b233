/**
 * The `proxy` command line without commander: the fast parser gives exactly what commander gives
 * for every line it accepts (checked against commander itself on the lines ssh runs and on many
 * random ones), leaves everything else to commander, and errors read the same either way.
 */

import { assert, assertEquals, assertThrows } from "../support/assert.ts";
import {
  parseProxyArgs,
  type ProxyArgs,
  proxyOptions,
  type ProxyOptionValues,
} from "../../src/cli/proxy_args.ts";
import { proxyCommand } from "../../src/cli/proxy_command.ts";
import { targetCacheSettings } from "../../src/cli/resolve_target.ts";
import { keyDirFor } from "../../src/cli/key_dir.ts";
import { defaultSshDir } from "../../src/config/ssh_config_file.ts";
import type { CommandContext } from "../../src/cli/context.ts";
import { type CliDeps, run } from "../../src/cli/run.ts";
import { SsmsshError } from "../../src/errors.ts";

const ID = "i-0123456789abcdef0";

/** What commander makes of `args` (after `proxy`): the action's arguments, or "error". */
function commanderParse(args: string[]): ProxyArgs | "error" {
  let parsed: ProxyArgs | undefined;
  const command = proxyCommand({} as CommandContext)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .action((target: string, values: ProxyOptionValues) => {
      parsed = { target, values: { ...values } };
    });
  try {
    command.parse(args, { from: "user" });
  } catch {
    return "error";
  }
  return parsed ?? "error";
}

function assertSameAsCommander(args: string[]): ProxyArgs | undefined {
  const fast = parseProxyArgs(args);
  const commander = commanderParse(args);
  if (fast) assertEquals(fast, commander, `proxy ${args.join(" ")}`);
  else if (commander === "error") assert(true);
  return fast;
}

Deno.test("the lines ssh runs are parsed without commander, as commander parses them", () => {
  const lines = [
    [ID],
    [ID, "--port", "22"],
    ["web-1", "--port", "22", "--user", "ubuntu"],
    [ID, "--port", "2222", "--user", "%r", "--key-dir", "/home/me/.ssh/ssmssh/keys"],
    [ID, "-p", "22", "--no-push-key", "--region", "eu-west-1", "--profile", "dev"],
    ["tag:Env=prod", "--pick", "first", "--document", "Team-SSH", "--reason", "ticket 42"],
    ["--port", "22", ID, "-v"],
    [ID, "--port=22", "--user=ec2-user", "--verbose", "--pick=first"],
    [ID, "--port", "22", "--port", "23"],
    [ID, "--reason", "-not-an-option", "--user", "--port"],
    [ID, "--reason="],
    ["-", "--port", "22"],
  ];
  for (const line of lines) assert(assertSameAsCommander(line), `fast: proxy ${line.join(" ")}`);
});

Deno.test("anything unusual is left to commander", () => {
  const lines = [
    [],
    ["--help"],
    [ID, "-h"],
    [ID, "--version"],
    [ID, "extra"],
    [ID, "--bogus"],
    [ID, "--port"],
    [ID, "-p22"],
    [ID, "-vp", "22"],
    [ID, "--pick", "second"],
    [ID, "--pick=second"],
    [ID, "--no-push-key=yes"],
    [ID, "--push-key"],
    ["--", ID],
    ["-5"],
  ];
  for (const line of lines) {
    assertEquals(parseProxyArgs(line), undefined, `proxy ${line.join(" ")}`);
  }
});

Deno.test("random command lines: whatever the fast parser accepts, commander reads the same", () => {
  const pool = [
    ID,
    "web-1",
    "tag:Env=prod",
    "-",
    "-5",
    "--",
    "22",
    "%p",
    "first",
    "second",
    "",
    "-p",
    "--port",
    "--port=22",
    "--user",
    "--user=",
    "--no-push-key",
    "--push-key",
    "--key-dir",
    "--region",
    "--profile",
    "--document",
    "--reason",
    "--pick",
    "--pick=first",
    "-v",
    "--verbose",
    "-vp",
    "-p22",
    "-h",
    "--help",
    "-V",
    "--bogus",
    "--no-push-key=1",
  ];
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const line = Array.from({ length: random(7) }, () => pool[random(pool.length)]);
    if (assertSameAsCommander(line)) accepted++;
  }
  assert(accepted > 100, `only ${accepted} random lines were accepted`);
});

Deno.test("proxyOptions: commander's values become the run's options", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const args = parseProxyArgs([ID, "--port", "2222", "--user", "ubuntu", "--reason", "audit"])!;
  const home = env({ HOME: "/home/me", AWS_CA_BUNDLE: "/ca.pem" });
  assertEquals(
    proxyOptions(args, home),
    {
      target: ID,
      port: 2222,
      user: "ubuntu",
      pushKey: true,
      keyDir: keyDirFor(defaultSshDir()), // the process's own home, as before
      keyValidityMs: undefined,
      region: undefined,
      profile: undefined,
      caBundle: "/ca.pem",
      document: "AWS-StartSSHSession",
      reason: "audit",
      pick: undefined,
      targetCache: targetCacheSettings(home),
    },
  );
  const other = parseProxyArgs(["web-1", "--no-push-key", "--key-dir", "/k", "--pick", "first"])!;
  const options = proxyOptions(other, env({ SSMSSH_PUSH_VALIDITY_SECONDS: "5" }));
  assertEquals(
    [options.pushKey, options.keyDir, options.pick, options.keyValidityMs],
    [false, "/k", "first", 5000],
  );
  const bad = parseProxyArgs([ID, "--port", "99999"])!;
  assertThrows(() => proxyOptions(bad, env({ HOME: "/h" })), SsmsshError, "is not a port number");
});

Deno.test("run: errors read the same on the fast path and through commander", async () => {
  const runWith = async (args: string[]) => {
    let stderr = "";
    const deps = {
      env: (name: string) => ({ HOME: "/nonexistent-home" } as Record<string, string>)[name],
      writeOut: () => {},
      writeErr: (text: string) => (stderr += text),
    } as unknown as CliDeps;
    return { code: await run(args, deps), stderr };
  };
  const fast = await runWith(["proxy", ID, "--port", "0"]);
  // `-p0` is left to commander, which gives the action the same value.
  const commander = await runWith(["proxy", ID, "-p0"]);
  assertEquals(fast, commander);
  assertEquals(fast.code, 2);
  assertEquals(
    fast.stderr,
    'ssmssh: "0" is not a port number\nhint: Use --port 1-65535 (default 22)\n',
  );
});
