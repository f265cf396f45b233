/**
 * `deno task demo`: the main job on a fresh machine, step by step. Starts the built-in Session
 * Manager emulator and a throwaway sshd on loopback that trusts no key at all, runs
 * `ssmssh config` on a scratch ssh config, then uses plain `ssh` and `scp`: ssmssh pushes an
 * ephemeral key with (emulated) EC2 Instance Connect and tunnels through Session Manager.
 * @module
 */

import { startEmulator } from "../emulator/server.ts";
import { findSshd, startSshd } from "../emulator/sshd.ts";
import {
  newUserSshOptions,
  productArgv,
  randomBytes,
  runCommand,
  sha256File,
} from "../tests/support/product.ts";

const INSTANCE = "i-0123456789abcdef0";
const tty = Deno.stdout.isTerminal();
const bold = (s: string) => tty ? `\x1b[1m${s}\x1b[0m` : s;
const step = (n: number, text: string) => console.log(`\n${bold(`${n}. ${text}`)}`);
const indent = (text: string, prefix = "   ") =>
  text.trimEnd().split("\n").map((l) => `${prefix}${l}`).join("\n");

async function which(cmd: string): Promise<boolean> {
  const r = await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
    .output().catch(() => ({ success: false }));
  return r.success;
}

if (!(await findSshd()) || !(await which("ssh")) || !(await which("scp"))) {
  console.error("ssmssh demo: OpenSSH (sshd, ssh, scp) is not installed on this machine");
  console.error(
    "hint: install it with `sudo apt-get install openssh-server openssh-client` " +
      "(Debian/Ubuntu), `sudo dnf install openssh-server openssh-clients` (Fedora), " +
      "or use macOS's built-in OpenSSH",
  );
  Deno.exit(1);
}

const scratch = await Deno.makeTempDir({ prefix: "ssmssh-demo-" });
try {
  step(1, "Start a real sshd on a random loopback port: the instance. It trusts no key yet.");
  await using sshd = await startSshd({ authorizeClientKey: false });
  console.log(`   sshd on 127.0.0.1:${sshd.port}`);

  step(2, "Start the local Session Manager emulator (SSM + EC2 Instance Connect + agent)");
  await using emulator = await startEmulator({
    instanceConnect: { keysDir: sshd.instanceConnectDir },
  });
  for (const [k, v] of Object.entries(emulator.env)) {
    if (k.startsWith("AWS_ENDPOINT")) console.log(`   ${k}=${v}`);
  }

  const config = `${scratch}/.ssh/config`;
  const [deno, ...runArgs] = productArgv();
  step(3, "ssmssh config  (here on a scratch file; for real: `ssmssh config`)");
  const configured = await runCommand(deno, [...runArgs, "config", "--file", config], emulator.env);
  if (configured.code !== 0) fail("ssmssh config", configured.stderr);
  console.log(indent(configured.stdout));
  console.log(indent(await Deno.readTextFile(`${scratch}/.ssh/ssmssh.config`), "   | "));

  const destination = `${sshd.user}@${INSTANCE}`;
  const sshOptions = [
    "-F",
    config,
    "-p",
    String(sshd.port),
    ...newUserSshOptions(`${scratch}/known_hosts`),
  ];
  step(4, `ssh ${destination}  (plain ssh: no key, no ProxyCommand on the command line)`);
  let started = performance.now();
  const hello = await runCommand("ssh", [
    ...sshOptions,
    destination,
    "echo hello from $(hostname) && uname -sr",
  ], emulator.env);
  if (hello.code !== 0) fail("ssh", hello.stderr);
  console.log(indent(hello.stdout, "   > "));
  console.log(`   key pushed, session started, command run, disconnected: ${ms(started)}`);
  const push = emulator.instanceConnect!.pushes[0];
  console.log(`   EC2 Instance Connect got ${push.publicKey.slice(0, 40)}… for ${push.osUser}`);

  step(5, "scp 10 MB up and back through the same config, compare SHA-256");
  await Deno.writeFile(`${scratch}/up.bin`, randomBytes(10 * 1024 * 1024));
  await Deno.chmod(scratch, 0o755);
  const scpOptions = sshOptions.map((o) => o === "-p" ? "-P" : o);
  started = performance.now();
  const up = await runCommand("scp", [
    ...scpOptions,
    "-q",
    `${scratch}/up.bin`,
    `${destination}:${scratch}/on-instance.bin`,
  ], emulator.env);
  if (up.code !== 0) fail("scp up", up.stderr);
  console.log(`   up:   10 MB in ${ms(started)}`);
  started = performance.now();
  const down = await runCommand("scp", [
    ...scpOptions,
    "-q",
    `${destination}:${scratch}/on-instance.bin`,
    `${scratch}/down.bin`,
  ], emulator.env);
  if (down.code !== 0) fail("scp down", down.stderr);
  console.log(`   down: 10 MB in ${ms(started)}`);
  const [a, b] = [await sha256File(`${scratch}/up.bin`), await sha256File(`${scratch}/down.bin`)];
  console.log(`   sha256 ${a.slice(0, 16)}… ${a === b ? "== (intact)" : `!= ${b.slice(0, 16)}…`}`);
  if (a !== b) fail("scp", "the file changed in transit");

  step(6, "When something is wrong, one line says what and one says how to fix it");
  await using offline = await startEmulator({ onlineInstances: [] });
  const bad = await runCommand("ssh", [...sshOptions, destination, "true"], offline.env);
  console.log(
    indent(
      bad.stderr.split("\n").filter((l) => l.startsWith("ssmssh") || l.startsWith("hint")).join(
        "\n",
      ),
    ),
  );
} finally {
  await Deno.remove(scratch, { recursive: true });
}
console.log(
  `\n${bold("Done.")} Real OpenSSH through ssmssh all the way; servers stopped, files removed.`,
);

function ms(since: number): string {
  return `${Math.round(performance.now() - since)} ms`;
}

function fail(what: string, stderr: string): never {
  console.error(`ssmssh demo: ${what} failed:\n${stderr}`);
  Deno.exit(1);
}
