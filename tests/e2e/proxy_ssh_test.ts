/**
 * End to end: real `ssh` and `scp` (OpenSSH) → `deno run main.ts proxy` (a real process, as
 * ProxyCommand) → real websocket → the emulator's agent → a real sshd on loopback.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { chain, corruptEvery, duplicateEvery, reorderEvery } from "../../emulator/faults.ts";
import { startSshd } from "../../emulator/sshd.ts";
import { randomBytes, scpVia, sha256File, sshVia } from "../support/product.ts";

const INSTANCE = "i-0123456789abcdef0";
const MB = 1024 * 1024;

Deno.test("ssh runs a remote command through ssmssh proxy", async () => {
  await using emulator = await startEmulator();
  await using sshd = await startSshd();
  const r = await sshVia(sshd, emulator.env, INSTANCE, ["echo ok; id -un"]);
  assertEquals(r, { code: 0, stdout: `ok\n${sshd.user}\n`, stderr: "" });
  const calls = emulator.calls.map((c) => c.operation);
  assertEquals(calls, ["AmazonSSM.StartSession"]);
  assertEquals(emulator.calls[0].input, {
    Target: INSTANCE,
    DocumentName: "AWS-StartSSHSession",
    Parameters: { portNumber: [String(sshd.port)] },
  });
  const session = [...emulator.sessions.values()][0];
  assertEquals(session.agent.clientVersion, "1.2.677.0");
});

Deno.test("scp moves 20 MB up and down intact through ssmssh proxy", async () => {
  await using emulator = await startEmulator();
  await using sshd = await startSshd();
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-e2e-" });
  try {
    await Deno.writeFile(`${dir}/up.bin`, randomBytes(20 * MB));
    const up = await scpVia(sshd, emulator.env, `${dir}/up.bin`, `${INSTANCE}:${dir}/remote.bin`);
    assertEquals(up, { code: 0, stdout: "", stderr: "" });
    assertEquals(await sha256File(`${dir}/remote.bin`), await sha256File(`${dir}/up.bin`));

    await Deno.writeFile(`${dir}/remote-down.bin`, randomBytes(20 * MB));
    const down = await scpVia(
      sshd,
      emulator.env,
      `${INSTANCE}:${dir}/remote-down.bin`,
      `${dir}/down.bin`,
    );
    assertEquals(down, { code: 0, stdout: "", stderr: "" });
    assertEquals(await sha256File(`${dir}/down.bin`), await sha256File(`${dir}/remote-down.bin`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("binary data survives reordered, duplicated and corrupted frames in both directions", async () => {
  const faults = chain(reorderEvery(7), duplicateEvery(5), corruptEvery(11));
  await using emulator = await startEmulator({ faults: { toClient: faults, fromClient: faults } });
  await using sshd = await startSshd();
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-e2e-" });
  try {
    await Deno.writeFile(`${dir}/up.bin`, randomBytes(3 * MB));
    const up = await scpVia(sshd, emulator.env, `${dir}/up.bin`, `${INSTANCE}:${dir}/remote.bin`);
    assertEquals(up.code, 0, up.stderr);
    assertEquals(await sha256File(`${dir}/remote.bin`), await sha256File(`${dir}/up.bin`));
    const down = await scpVia(
      sshd,
      emulator.env,
      `${INSTANCE}:${dir}/remote.bin`,
      `${dir}/down.bin`,
    );
    assertEquals(down.code, 0, down.stderr);
    assertEquals(await sha256File(`${dir}/down.bin`), await sha256File(`${dir}/up.bin`));
    const agent = [...emulator.sessions.values()][1].agent;
    assert(agent.channel.stats.duplicates > 0, "the agent saw duplicates");
    assert(agent.channel.stats.dropped > 0, "the agent dropped corrupted frames");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("legacy scp (-O) and a lone LF pass unchanged", async () => {
  await using emulator = await startEmulator();
  await using sshd = await startSshd();
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-e2e-" });
  try {
    await Deno.writeTextFile(`${dir}/lf.txt`, "\n");
    const r = await scpVia(
      sshd,
      emulator.env,
      `${dir}/lf.txt`,
      `${INSTANCE}:${dir}/lf-remote.txt`,
      {
        extra: ["-O"],
      },
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/lf-remote.txt`), "\n");
    const cat = await sshVia(sshd, emulator.env, INSTANCE, ["printf", "'a\\nb\\r\\n'"]);
    assertEquals(cat.stdout, "a\nb\r\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ssh reports a clear error when the instance is not connected", async () => {
  await using emulator = await startEmulator({ onlineInstances: [] });
  await using sshd = await startSshd();
  const r = await sshVia(sshd, emulator.env, INSTANCE, ["true"]);
  assertEquals(r.code, 255);
  assertEquals(r.stdout, "");
  assertStringIncludes(r.stderr, `ssmssh: ${INSTANCE} is not connected to Session Manager`);
  assertStringIncludes(r.stderr, "hint: ");
});
