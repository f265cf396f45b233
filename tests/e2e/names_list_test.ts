/**
 * Issue 5 end to end: instances by name. The real product (`deno run main.ts`, as a process)
 * against the emulator's instance registry: `ssmssh list` (table, JSON, without tag access),
 * real `ssh` through `ssmssh proxy web-1` / `tag:Env=prod` / `--pick first` to a real sshd, the
 * errors for unknown and ambiguous names, the lookup cache across processes, and plain
 * `ssh ec2-user@web-1` after `ssmssh config 'web-*'` with a key pushed to the resolved id.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import type { EmulatorInstance } from "../../emulator/inventory.ts";
import { type SshdInfo, startSshd } from "../../emulator/sshd.ts";
import {
  denoDir,
  newUserSshOptions,
  type Result,
  runCommand,
  runSsmssh,
  sshVia,
} from "../support/product.ts";

const WEB_1 = "i-0123456789abcdef0";
const WEB_A = "i-0aaaaaaaaaaaaaaa1";
const WEB_B = "i-0bbbbbbbbbbbbbbb2";
const WEB_C = "i-0ccccccccccccccc3";
const DB_1 = "i-0ddddddddddddddd4";
const NO_NAME = "i-0eeeeeeeeeeeeeee5";
const LAB = "mi-0123456789abcdef0";

const INSTANCES: EmulatorInstance[] = [
  { id: WEB_1, name: "web-1", tags: { Env: "prod" } },
  { id: WEB_C, name: "web", pingStatus: "Online" },
  { id: WEB_A, name: "web", pingStatus: "ConnectionLost" },
  { id: WEB_B, name: "web", pingStatus: "Online" },
  {
    id: DB_1,
    name: "db-1",
    tags: { Env: "dev" },
    platformType: "Windows",
    agentVersion: "3.3.1142.0",
  },
  { id: NO_NAME, computerName: "build-box.internal" },
  { id: LAB, name: "lab-pi", platformName: "Ubuntu", platformVersion: "22.04" },
];

interface World {
  emulator: Emulator;
  /** The emulator's environment with a private lookup cache. */
  env: Record<string, string>;
  cacheDir: string;
  /** Inputs of the calls of one operation the emulator received, in order. */
  inputs(operation: string): Array<Record<string, unknown>>;
}

/** An emulator with {@linkcode INSTANCES} and a temporary cache directory. */
async function withWorld(
  fn: (world: World) => Promise<void>,
  options: EmulatorOptions = {},
): Promise<void> {
  const cacheDir = await Deno.makeTempDir({ prefix: "ssmssh-names-" });
  try {
    await using emulator = await startEmulator({ instances: INSTANCES, ...options });
    await fn({
      emulator,
      env: { ...emulator.env, SSMSSH_CACHE_DIR: cacheDir },
      cacheDir,
      inputs: (operation) =>
        emulator.calls.filter((c) => c.operation === operation).map((c) => c.input),
    });
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
}

function ssmssh(env: Record<string, string>, ...args: string[]): Promise<Result> {
  return runSsmssh(env, args);
}

/** Real ssh to `host` with `ssmssh proxy %h --port %p --no-push-key <proxyArgs>`. */
function sshTo(
  sshd: SshdInfo,
  env: Record<string, string>,
  host: string,
  command: string[],
  proxyArgs: string[] = [],
): Promise<Result> {
  return sshVia(sshd, env, host, command, { proxyArgs: ["--no-push-key", ...proxyArgs] });
}

/** Exit code, empty stdout, and exactly a cause line and a hint line on stderr. */
function assertFailure(r: Result, code: number, cause: string, hint: string): void {
  assertEquals(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 2, r.stderr);
  assertEquals(lines[0], `ssmssh: ${cause}`);
  assert(lines[1].startsWith("hint: "), r.stderr);
  assertStringIncludes(lines[1], hint);
  assertEquals(r.code, code, r.stderr);
}

Deno.test("ssmssh list: an aligned table of names, ids, platforms, agents and ping status", async () => {
  await withWorld(async ({ env, emulator }) => {
    const r = await ssmssh(env, "list");
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(
      r.stdout,
      [
        "NAME    INSTANCE ID           PLATFORM                                             AGENT       PING",
        "db-1    i-0ddddddddddddddd4   Microsoft Windows Server 2022 Datacenter 10.0.20348  3.3.1142.0  Online",
        "lab-pi  mi-0123456789abcdef0  Ubuntu 22.04                                         3.3.987.0   Online",
        "web     i-0aaaaaaaaaaaaaaa1   Amazon Linux 2023                                    3.3.987.0   ConnectionLost",
        "web     i-0bbbbbbbbbbbbbbb2   Amazon Linux 2023                                    3.3.987.0   Online",
        "web     i-0ccccccccccccccc3   Amazon Linux 2023                                    3.3.987.0   Online",
        "web-1   i-0123456789abcdef0   Amazon Linux 2023                                    3.3.987.0   Online",
        "-       i-0eeeeeeeeeeeeeee5   Amazon Linux 2023                                    3.3.987.0   Online",
        "",
      ].join("\n"),
    );
    assertEquals(emulator.calls.map((c) => c.operation).sort(), [
      "AmazonSSM.DescribeInstanceInformation",
      "ResourceGroupsTaggingAPI_20170126.GetResources",
    ]);
  });
});

Deno.test("ssmssh list --json: one object per instance for scripts", async () => {
  await withWorld(async ({ env }) => {
    const r = await ssmssh(env, "list", "--json", "--region", "us-east-1");
    assertEquals([r.code, r.stderr], [0, ""]);
    const rows = JSON.parse(r.stdout);
    assertEquals(rows.length, INSTANCES.length);
    assertEquals(rows[0], {
      name: "db-1",
      id: DB_1,
      platform: "Windows",
      platformName: "Microsoft Windows Server 2022 Datacenter",
      platformVersion: "10.0.20348",
      agentVersion: "3.3.1142.0",
      pingStatus: "Online",
      computerName: "ip-10-0-221-212.ec2.internal",
      resourceType: "EC2Instance",
    });
    assertEquals(rows[1].resourceType, "ManagedInstance");
    assertEquals(rows.at(-1).name, null);
    assertEquals(rows.at(-1).computerName, "build-box.internal");
  });
});

Deno.test("tag:GetResources denied: list still works with computer names and one warning", async () => {
  await withWorld(async ({ env, inputs }) => {
    const r = await ssmssh(env, "list");
    assertEquals(r.code, 0, r.stderr);
    const warnings = r.stderr.trimEnd().split("\n");
    assertEquals(warnings.length, 1, r.stderr);
    assert(warnings[0].startsWith("ssmssh: warn: "), r.stderr);
    assertStringIncludes(warnings[0], "tag:GetResources");
    const lines = r.stdout.trimEnd().split("\n");
    assertEquals(lines.length, 1 + INSTANCES.length);
    const names = Object.fromEntries(
      lines.slice(1).map((l) => l.split(/ +/).slice(0, 2).reverse()),
    );
    assertEquals(names[LAB], "lab-pi", "managed nodes keep their own name");
    assertEquals(names[NO_NAME], "build-box.internal");
    assertEquals(names[WEB_1], "ip-10-0-222-240.ec2.internal", "computer name, no Name tag");
    assertEquals(inputs("ResourceGroupsTaggingAPI_20170126.GetResources").length, 1);
  }, { denied: ["ResourceGroupsTaggingAPI_20170126.GetResources"] });
});

Deno.test("ssh reaches an instance by Name tag and by tag:Env=prod through ssmssh proxy", async () => {
  await withWorld(async ({ env, inputs }) => {
    await using sshd = await startSshd();
    const byName = await sshTo(sshd, env, "web-1", ["echo", "by-name"]);
    assertEquals(byName, { code: 0, stdout: "by-name\n", stderr: "" });
    const byTag = await sshTo(sshd, env, "tag:Env=prod", ["echo", "by-tag"]);
    assertEquals(byTag, { code: 0, stdout: "by-tag\n", stderr: "" });
    assertEquals(inputs("AmazonSSM.DescribeInstanceInformation"), [
      { Filters: [{ Key: "tag:Name", Values: ["web-1"] }], MaxResults: 50 },
      { Filters: [{ Key: "tag:Env", Values: ["prod"] }], MaxResults: 50 },
    ]);
    assertEquals(inputs("AmazonSSM.StartSession").map((i) => i.Target), [WEB_1, WEB_1]);
  });
});

Deno.test("an ambiguous name fails with exit 5, the matches and the way out", async () => {
  await withWorld(async ({ env, inputs }) => {
    const r = await ssmssh(env, "proxy", "--no-push-key", "web");
    assertFailure(
      r,
      5,
      `"web" matches 3 instances: ${WEB_A} (ConnectionLost), ${WEB_B} (Online), ${WEB_C} (Online)`,
      "--pick first",
    );
    assertEquals(inputs("AmazonSSM.StartSession"), []);
  });
});

Deno.test("an unknown name fails with exit 5 and points at ssmssh list", async () => {
  await withWorld(async ({ env, inputs }) => {
    const r = await ssmssh(env, "proxy", "--no-push-key", "web-9");
    assertFailure(r, 5, `No SSM-managed instance in us-east-1 is named "web-9"`, "ssmssh list");
    assertEquals(inputs("AmazonSSM.StartSession"), []);
  });
});

Deno.test("a denied lookup fails with exit 4 and names ssm:DescribeInstanceInformation", async () => {
  await withWorld(async ({ env, inputs }) => {
    const r = await ssmssh(env, "proxy", "--no-push-key", "web-1");
    assertEquals(r.code, 4, r.stderr);
    assertStringIncludes(r.stderr, "not allowed ssm:DescribeInstanceInformation");
    assertStringIncludes(r.stderr, "hint: Allow ssm:DescribeInstanceInformation");
    assertEquals(inputs("AmazonSSM.StartSession"), []);
  }, { denied: ["AmazonSSM.DescribeInstanceInformation"] });
});

Deno.test("--pick first connects to the first online instance of an ambiguous name", async () => {
  await withWorld(async ({ env, inputs }) => {
    await using sshd = await startSshd();
    const r = await sshTo(sshd, env, "web", ["echo", "picked"], ["--pick", "first"]);
    assertEquals(r, { code: 0, stdout: "picked\n", stderr: "" });
    assertEquals(inputs("AmazonSSM.StartSession").map((i) => i.Target), [WEB_B]);
  });
});

Deno.test("ten ssh runs to one name cost one lookup, thanks to the cache", async () => {
  await withWorld(async ({ env, cacheDir, inputs }) => {
    await using sshd = await startSshd();
    for (let i = 0; i < 10; i++) {
      const r = await sshTo(sshd, env, "web-1", ["echo", `run-${i}`]);
      assertEquals(r, { code: 0, stdout: `run-${i}\n`, stderr: "" }, `run ${i}`);
    }
    assertEquals(inputs("AmazonSSM.DescribeInstanceInformation").length, 1);
    assertEquals(inputs("AmazonSSM.StartSession").length, 10);
    assertEquals((await Deno.stat(`${cacheDir}/targets.json`)).mode! & 0o777, 0o600);

    // A damaged cache file costs one lookup, not an error.
    await Deno.writeTextFile(`${cacheDir}/targets.json`, "{ damaged");
    const r = await sshTo(sshd, env, "web-1", ["echo", "after-damage"]);
    assertEquals(r, { code: 0, stdout: "after-damage\n", stderr: "" });
    assertEquals(inputs("AmazonSSM.DescribeInstanceInformation").length, 2);
    assertEquals(JSON.parse(await Deno.readTextFile(`${cacheDir}/targets.json`)).version, 1);
  });
});

Deno.test("ssmssh config 'web-*', then plain ssh ec2-user@web-1 with a key pushed to its id", async () => {
  const account = await runCommand("id", ["ec2-user"]);
  if (account.code !== 0) {
    throw new Error(
      "This test logs in as ec2-user, which does not exist here. As root: " +
        "useradd -m -s /bin/bash ec2-user && usermod -p '*' ec2-user (.ci/run does this)",
    );
  }
  const home = await Deno.makeTempDir({ prefix: "ssmssh-home-" });
  try {
    await using sshd = await startSshd({ authorizeClientKey: false });
    await using emulator = await startEmulator({
      instances: INSTANCES,
      instanceConnect: { keysDir: sshd.instanceConnectDir, windowMs: 10_000 },
    });
    const env = {
      ...emulator.env,
      HOME: home,
      DENO_DIR: await denoDir(),
      XDG_CACHE_HOME: "",
      SSMSSH_CACHE_DIR: "",
      SSMSSH_PUSH_VALIDITY_SECONDS: "10",
    };
    const configured = await ssmssh(env, "config", "--file", `${home}/.ssh/config`, "web-*");
    assertEquals(configured.code, 0, configured.stderr);
    const r = await runCommand("ssh", [
      "-F",
      `${home}/.ssh/config`,
      "-p",
      String(sshd.port),
      ...newUserSshOptions(`${home}/known_hosts`),
      "ec2-user@web-1",
      "echo ok; id -un",
    ], env);
    assertEquals(r, { code: 0, stdout: "ok\nec2-user\n", stderr: "" });
    const pushes = emulator.instanceConnect!.pushes.map((p) => [p.instanceId, p.osUser]);
    assertEquals(pushes, [[WEB_1, "ec2-user"]]);
    const key = await Deno.stat(`${home}/.ssh/ssmssh/keys/ec2-user@web-1`);
    assertEquals(key.mode! & 0o777, 0o600, "the key is named after ssh's %h");
    assertEquals((await Deno.stat(`${home}/.cache/ssmssh`)).mode! & 0o777, 0o700);
    assertEquals((await Deno.stat(`${home}/.cache/ssmssh/targets.json`)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
