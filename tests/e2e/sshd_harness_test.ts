/**
 * End-to-end checks of the real-sshd harness (emulator/sshd.ts) with the real ssh/scp clients,
 * connecting through a plain TCP ProxyCommand (tests/support/tcp_pipe.ts), no ssmssh involved.
 */
import assert from "node:assert/strict";
import { sshClientArgs, type Sshd, startSshd } from "../../emulator/sshd.ts";

const INSTANCE = "i-0123456789abcdef0";
const PIPE = new URL("../support/tcp_pipe.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A ProxyCommand that pipes ssh's stream straight to the harness sshd. */
function proxyCommand(sshd: Sshd): string {
  const deno = shellQuote(Deno.execPath());
  return `${deno} run --no-config --allow-net ${shellQuote(PIPE)} 127.0.0.1 ${sshd.port}`;
}

async function run(cmd: string, args: string[]): Promise<Result> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs ssh; `extra` goes first because ssh keeps the first value it sees for an option. */
function ssh(sshd: Sshd, host: string, extra: string[], ...command: string[]): Promise<Result> {
  const args = [...extra, ...sshClientArgs(sshd, host), "-o", `ProxyCommand=${proxyCommand(sshd)}`];
  return run("ssh", [...args, host, ...command]);
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("ssh through a ProxyCommand runs a command, for any host name", async () => {
  await using sshd = await startSshd();
  assert.match(sshd.logs(), /Server listening on 127\.0\.0\.1 port \d+/);
  for (const host of [INSTANCE, "mi-0123456789abcdef0", "some.other.name"]) {
    const r = await ssh(sshd, host, [], "echo", "ok");
    assert.deepEqual(r, { code: 0, stdout: "ok\n", stderr: "" }, `host ${host}`);
  }
  const who = await ssh(sshd, INSTANCE, [], "id", "-un");
  assert.deepEqual(who.stdout.trim(), sshd.user);
  assert.match(sshd.logs(), /Accepted publickey for \S+ from 127\.0\.0\.1/);
});

for (const mode of ["sftp", "legacy -O"]) {
  Deno.test(`scp (${mode}) copies 1 MB up and back unchanged`, async () => {
    await using sshd = await startSshd({ logLevel: "VERBOSE" });
    const local = await Deno.makeTempDir({ prefix: "ssmssh-scp-test-" });
    try {
      await Deno.writeFile(`${local}/up.bin`, randomBytes(1 << 20));
      const args = [
        ...sshClientArgs(sshd, INSTANCE),
        "-o",
        `ProxyCommand=${proxyCommand(sshd)}`,
        ...(mode === "sftp" ? [] : ["-O"]),
        "-q",
      ];
      const remote = `${INSTANCE}:${sshd.dir}/remote.bin`;
      const up = await run("scp", [...args, `${local}/up.bin`, remote]);
      assert.deepEqual(up, { code: 0, stdout: "", stderr: "" });
      const down = await run("scp", [...args, remote, `${local}/down.bin`]);
      assert.deepEqual(down, { code: 0, stdout: "", stderr: "" });
      const want = await sha256(`${local}/up.bin`);
      assert.deepEqual(await sha256(`${sshd.dir}/remote.bin`), want);
      assert.deepEqual(await sha256(`${local}/down.bin`), want);
      // Prove which protocol ran: the sftp-server subsystem, or a plain `scp -t/-f` command.
      const session = mode === "sftp" ? /subsystem 'sftp'/ : /Starting session: command/;
      assert.match(sshd.logs(), session);
      if (mode !== "sftp") assert.doesNotMatch(sshd.logs(), /subsystem 'sftp'/);
    } finally {
      await Deno.remove(local, { recursive: true });
    }
  });
}

Deno.test("a wrong or unknown host key is refused (StrictHostKeyChecking)", async () => {
  await using sshd = await startSshd();
  const other = await Deno.makeTempDir({ prefix: "ssmssh-hostkey-test-" });
  try {
    const keygen = ["-q", "-t", "ed25519", "-N", "", "-f", `${other}/key`];
    assert.deepEqual((await run("ssh-keygen", keygen)).code, 0);
    const pub = (await Deno.readTextFile(`${other}/key.pub`)).split(" ").slice(0, 2).join(" ");
    await Deno.writeTextFile(`${other}/wrong`, `* ${pub}\n`);
    await Deno.writeTextFile(`${other}/empty`, "");
    for (const file of ["wrong", "empty"]) {
      const r = await ssh(sshd, INSTANCE, ["-o", `UserKnownHostsFile=${other}/${file}`], "true");
      assert.deepEqual(r.code, 255, `${file}: ${r.stderr}`);
      assert.match(r.stderr, /Host key verification failed/, file);
    }
    assert.doesNotMatch(sshd.logs(), /Accepted publickey/);
  } finally {
    await Deno.remove(other, { recursive: true });
  }
});

Deno.test("authorized keys can be removed and added while sshd runs", async () => {
  await using sshd = await startSshd({ authorizeClientKey: false });
  const denied = await ssh(sshd, INSTANCE, [], "true");
  assert.deepEqual(denied.code, 255);
  assert.match(denied.stderr, /Permission denied \(publickey\)/);
  await sshd.addAuthorizedKey(sshd.clientPublicKey);
  assert.deepEqual((await ssh(sshd, INSTANCE, [], "echo", "in")).stdout, "in\n");
  await sshd.removeAuthorizedKey(sshd.clientPublicKey);
  assert.deepEqual(await Deno.readTextFile(sshd.authorizedKeysFile), "");
  assert.deepEqual((await ssh(sshd, INSTANCE, [], "true")).code, 255);
});

Deno.test("stop() is idempotent, frees the port and removes the temp dir", async () => {
  const sshd = await startSshd();
  await Promise.all([sshd.stop(), sshd.stop()]);
  await sshd.stop();
  await assert.rejects(() => Deno.stat(sshd.dir), Deno.errors.NotFound);
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: sshd.port }));
});

Deno.test("startSshd reports sshd's own error when it cannot start", async () => {
  await assert.rejects(
    () => startSshd({ logLevel: "NO-SUCH-LEVEL" }),
    /exited early[^]*NO-SUCH-LEVEL/,
  );
});
