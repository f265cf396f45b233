/**
 * Issue 3 end to end, as a new user: a fresh HOME with no keys, `ssmssh config`, then plain
 * `ssh ec2-user@i-…` and `scp`; ephemeral keys pushed through the emulator's EC2 Instance
 * Connect, which authorizes them on the real sshd for a short window only.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { type Emulator, startEmulator } from "../../emulator/server.ts";
import { type Sshd, startSshd } from "../../emulator/sshd.ts";
import {
  denoDir,
  newUserSshOptions,
  productArgv,
  type Result,
  runCommand,
  runSsmssh,
  sha256File,
} from "../support/product.ts";

const INSTANCE = "i-0123456789abcdef0";
const WINDOW_SECONDS = 4;
/** Ten deno processes starting at once on two cores take a few seconds: a longer window. */
const PARALLEL_WINDOW_SECONDS = 12;

interface World {
  home: string;
  config: string;
  keyDir: string;
  knownHosts: string;
  env: Record<string, string>;
  sshd: Sshd;
  emulator: Emulator;
}

async function withWorld(
  fn: (world: World) => Promise<void>,
  windowSeconds = WINDOW_SECONDS,
): Promise<void> {
  const account = await runCommand("id", ["ec2-user"]);
  if (account.code !== 0) {
    throw new Error(
      "These tests log in as ec2-user, which does not exist here. As root: " +
        "useradd -m -s /bin/bash ec2-user && usermod -p '*' ec2-user (.ci/run does this)",
    );
  }
  const home = await Deno.makeTempDir({ prefix: "ssmssh-home-" });
  await using sshd = await startSshd({ authorizeClientKey: false });
  await using emulator = await startEmulator({
    instanceConnect: { keysDir: sshd.instanceConnectDir, windowMs: windowSeconds * 1000 },
  });
  try {
    const env = {
      ...emulator.env,
      HOME: home,
      DENO_DIR: await denoDir(),
      SSMSSH_PUSH_VALIDITY_SECONDS: String(windowSeconds),
    };
    await fn({
      home,
      config: `${home}/.ssh/config`,
      keyDir: `${home}/.ssh/ssmssh/keys`,
      knownHosts: `${home}/known_hosts`,
      env,
      sshd,
      emulator,
    });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

function ssmssh(world: World, ...args: string[]): Promise<Result> {
  return runSsmssh(world.env, args);
}

/** Plain ssh with only the patched config: no -i, no ProxyCommand on the command line. */
function plainSsh(world: World, extra: string[], ...rest: string[]): Promise<Result> {
  return runCommand("ssh", [
    "-F",
    world.config,
    "-p",
    String(world.sshd.port),
    ...newUserSshOptions(world.knownHosts),
    ...extra,
    ...rest,
  ], world.env);
}

Deno.test("fresh HOME: ssmssh config, then plain ssh and scp work with a pushed key", async () => {
  await withWorld(async (world) => {
    const configured = await ssmssh(world, "config", "--file", world.config);
    assertEquals(configured.code, 0, configured.stderr);
    assertStringIncludes(configured.stdout, `Wrote ${world.home}/.ssh/ssmssh.config`);

    const r = await plainSsh(world, [], `ec2-user@${INSTANCE}`, "echo ok; id -un");
    assertEquals(r, { code: 0, stdout: "ok\nec2-user\n", stderr: "" });

    // Host keys are recorded under the instance id, and checking stays on.
    const known = await Deno.readTextFile(world.knownHosts);
    assert(known.startsWith(`[${INSTANCE}]:${world.sshd.port} ssh-ed25519 `), known);
    const strict = await plainSsh(
      world,
      ["-o", "StrictHostKeyChecking=yes"],
      `ec2-user@${INSTANCE}`,
      "true",
    );
    assertEquals(strict.code, 0, strict.stderr);

    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/a.txt`, "scp through ssmssh\n");
      await Deno.chmod(dir, 0o755);
      const scp = await runCommand("scp", [
        "-F",
        world.config,
        "-P",
        String(world.sshd.port),
        "-q",
        "-o",
        `UserKnownHostsFile=${world.knownHosts}`,
        "-o",
        "BatchMode=yes",
        `${dir}/a.txt`,
        `ec2-user@${INSTANCE}:/tmp/ssmssh-scp-${world.sshd.port}.txt`,
      ], world.env);
      assertEquals(scp.code, 0, scp.stderr);
      assertEquals(
        await sha256File(`/tmp/ssmssh-scp-${world.sshd.port}.txt`),
        await sha256File(`${dir}/a.txt`),
      );
      await Deno.remove(`/tmp/ssmssh-scp-${world.sshd.port}.txt`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }

    const keyDir = await Deno.stat(world.keyDir);
    assertEquals(keyDir.mode! & 0o777, 0o700);
    const key = await Deno.stat(`${world.keyDir}/ec2-user@${INSTANCE}`);
    assertEquals(key.mode! & 0o777, 0o600);
  });
});

Deno.test("ten parallel ssh runs all succeed, share pushes, and leave no key after expiry", async () => {
  await withWorld(async (world) => {
    assertEquals((await ssmssh(world, "config", "--file", world.config)).code, 0);
    const second = "i-0fedcba9876543210";
    const runs = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => plainSsh(world, [], `ec2-user@${i % 2 ? second : INSTANCE}`, `echo run-${i}`),
      ),
    );
    runs.forEach((r, i) =>
      assertEquals(r, { code: 0, stdout: `run-${i}\n`, stderr: "" }, `run ${i}`)
    );
    const pushed = world.emulator.instanceConnect!.pushes.map((p) => p.instanceId);
    assert(pushed.includes(INSTANCE) && pushed.includes(second), "both instances got a key");
    assert(pushed.length < 10, `keys inside their window are reused (${pushed.length} pushes)`);
    for (const name of [`ec2-user@${INSTANCE}`, `ec2-user@${second}`]) {
      assertEquals((await Deno.stat(`${world.keyDir}/${name}`)).mode! & 0o777, 0o600);
    }
    assertEquals((await Deno.stat(world.keyDir)).mode! & 0o777, 0o700);

    // Once the pushes expire, the detached reaper deletes the private keys.
    const deadline = Date.now() + (PARALLEL_WINDOW_SECONDS + 10) * 1000;
    let left: string[] = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = (await Array.fromAsync(Deno.readDir(world.keyDir)))
        .map((e) => e.name).filter((n) => !n.endsWith(".lock"));
    } while (left.length > 0 && Date.now() < deadline);
    assertEquals(left, [], "no key or key metadata remains after expiry");
  }, PARALLEL_WINDOW_SECONDS);
});

Deno.test("a key pushed longer ago than the window no longer authenticates", async () => {
  await withWorld(async (world) => {
    assertEquals((await ssmssh(world, "config", "--file", world.config)).code, 0);
    assertEquals((await plainSsh(world, [], `ec2-user@${INSTANCE}`, "true")).code, 0);
    const copy = `${world.home}/old-key`;
    await Deno.copyFile(`${world.keyDir}/ec2-user@${INSTANCE}`, copy);
    await Deno.chmod(copy, 0o600);
    const noPush = [
      "-o",
      `ProxyCommand=${productArgv().join(" ")} proxy %h --port %p --no-push-key`,
      "-o",
      `IdentityFile=${copy}`,
      "-o",
      "IdentitiesOnly=yes",
    ];
    const inWindow = await plainSsh(world, noPush, `ec2-user@${INSTANCE}`, "echo still-valid");
    assertEquals(inWindow.stdout, "still-valid\n", inWindow.stderr);
    await new Promise((resolve) => setTimeout(resolve, (WINDOW_SECONDS + 0.5) * 1000));
    const late = await plainSsh(world, noPush, `ec2-user@${INSTANCE}`, "echo should-fail");
    assertEquals(late.code, 255);
    assertStringIncludes(late.stderr, "Permission denied (publickey)");
  });
});

Deno.test("ssmssh config is idempotent, shows a dry-run diff, and --remove restores CRLF bytes", async () => {
  await withWorld(async (world) => {
    await Deno.mkdir(`${world.home}/.ssh`, { mode: 0o700 });
    const original = "# my hosts\r\nHost bastion\r\n    User alice\r\n";
    await Deno.writeTextFile(world.config, original);
    await Deno.chmod(world.config, 0o644);

    const dry = await ssmssh(world, "config", "--file", world.config, "--dry-run");
    assertEquals(dry.code, 0, dry.stderr);
    assertStringIncludes(dry.stdout, `+++ ${world.config}`);
    assertStringIncludes(dry.stdout, "(dry run: nothing was written)");
    assertEquals(await Deno.readTextFile(world.config), original);

    assertEquals((await ssmssh(world, "config", "--file", world.config)).code, 0);
    const patched = await Deno.readFile(world.config);
    assertStringIncludes(new TextDecoder().decode(patched), "Include ");
    assertEquals((await Deno.stat(world.config)).mode! & 0o777, 0o644, "permissions kept");
    assertEquals(await Deno.readTextFile(`${world.config}.ssmssh.bak`), original);

    const again = await ssmssh(world, "config", "--file", world.config);
    assertStringIncludes(again.stdout, "nothing changed");
    assertEquals(await Deno.readFile(world.config), patched);

    const removed = await ssmssh(world, "config", "--file", world.config, "--remove");
    assertEquals(removed.code, 0, removed.stderr);
    assertEquals(await Deno.readTextFile(world.config), original, "byte for byte");
  });
});

Deno.test("a damaged managed block is refused with a hint, file untouched", async () => {
  await withWorld(async (world) => {
    await Deno.mkdir(`${world.home}/.ssh`, { mode: 0o700 });
    const damaged = "# >>> ssmssh managed block: do not edit >>>\nHost x\n";
    await Deno.writeTextFile(world.config, damaged);
    const r = await ssmssh(world, "config", "--file", world.config);
    assertEquals(r.code, 8, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assertEquals(lines.length, 2, r.stderr);
    assertStringIncludes(lines[0], `ssmssh: Cannot update ${world.config}`);
    assertStringIncludes(lines[1], "hint: ");
    assertEquals(await Deno.readTextFile(world.config), damaged);
  });
});

Deno.test("ssmssh ssh runs the system ssh with the proxy and a pushed key, no config needed", async () => {
  await withWorld(async (world) => {
    const r = await ssmssh(
      world,
      "ssh",
      "--key-dir",
      world.keyDir,
      `ec2-user@${INSTANCE}`,
      "--",
      "-p",
      String(world.sshd.port),
      ...newUserSshOptions(world.knownHosts),
      "echo",
      "via-ssmssh-ssh",
    );
    assertEquals(r, { code: 0, stdout: "via-ssmssh-ssh\n", stderr: "" });
  });
});

Deno.test("managed nodes (mi-) get no push and a clear note; own keys still work", async () => {
  await withWorld(async (world) => {
    await world.sshd.addAuthorizedKey(world.sshd.clientPublicKey);
    const r = await runCommand("ssh", [
      "-F",
      "/dev/null",
      "-p",
      String(world.sshd.port),
      "-o",
      `ProxyCommand=${
        productArgv().join(" ")
      } proxy %h --port %p --user %r --key-dir ${world.keyDir}`,
      "-o",
      `UserKnownHostsFile=${world.sshd.knownHostsFile}`,
      "-o",
      "BatchMode=yes",
      "-o",
      `IdentityFile=${world.sshd.clientKeyFile}`,
      "-o",
      "IdentitiesOnly=yes",
      `${world.sshd.user}@mi-0123456789abcdef0`,
      "echo managed",
    ], world.env);
    assertEquals(r.stdout, "managed\n", r.stderr);
    assertStringIncludes(
      r.stderr,
      "mi-0123456789abcdef0 is a managed node without EC2 Instance Connect",
    );
  });
});
