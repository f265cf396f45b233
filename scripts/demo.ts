/**
 * `deno task demo`: the main job on a fresh machine, step by step. Starts the built-in Session
 * Manager emulator and a throwaway sshd on loopback, then connects with the real `ssh` and `scp`
 * through `ssmssh proxy`, exactly as a user's ~/.ssh/config would.
 * @module
 */

import { startEmulator } from "../emulator/server.ts";
import { findSshd, sshClientArgs, startSshd } from "../emulator/sshd.ts";
import { proxyCommand, randomBytes, runCommand, sha256File } from "../tests/support/product.ts";

const INSTANCE = "i-0123456789abcdef0";
const bold = (s: string) => Deno.stdout.isTerminal() ? `\x1b[1m${s}\x1b[0m` : s;
const step = (n: number, text: string) => console.log(`\n${bold(`${n}. ${text}`)}`);

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

step(1, "Start the local Session Manager emulator (SSM API + data-channel websocket + agent)");
await using emulator = await startEmulator();
for (const [k, v] of Object.entries(emulator.env)) {
  if (k.startsWith("AWS_ENDPOINT")) console.log(`   ${k}=${v}`);
}

step(2, "Start a real sshd on a random loopback port, playing the instance's sshd");
await using sshd = await startSshd();
console.log(`   sshd on 127.0.0.1:${sshd.port}, logging in as ${sshd.user}`);

const proxy = proxyCommand();
const sshArgs = [
  "-o",
  `ProxyCommand=${proxy}`,
  "-p",
  String(sshd.port),
  ...sshClientArgs(sshd, INSTANCE),
];
step(3, `ssh ${INSTANCE} through ssmssh proxy`);
console.log(`   ProxyCommand ${proxy.replace(/\S*\/deno /, "deno ")}`);
let started = performance.now();
const hello = await runCommand("ssh", [
  ...sshArgs,
  INSTANCE,
  "echo hello from $(hostname) && uname -sr",
], emulator.env);
console.log(hello.stdout.trimEnd().split("\n").map((l) => `   > ${l}`).join("\n"));
if (hello.code !== 0) fail("ssh", hello.stderr);
console.log(`   connected, ran the command and disconnected in ${ms(started)}`);

step(4, "scp 10 MB up and back, compare SHA-256");
const dir = await Deno.makeTempDir({ prefix: "ssmssh-demo-" });
try {
  await Deno.writeFile(`${dir}/up.bin`, randomBytes(10 * 1024 * 1024));
  const scpArgs = [
    "-q",
    "-o",
    `ProxyCommand=${proxy}`,
    "-P",
    String(sshd.port),
    ...sshClientArgs(sshd, INSTANCE),
  ];
  started = performance.now();
  const up = await runCommand("scp", [
    ...scpArgs,
    `${dir}/up.bin`,
    `${INSTANCE}:${dir}/on-instance.bin`,
  ], emulator.env);
  if (up.code !== 0) fail("scp up", up.stderr);
  console.log(`   up:   10 MB in ${ms(started)}`);
  started = performance.now();
  const down = await runCommand("scp", [
    ...scpArgs,
    `${INSTANCE}:${dir}/on-instance.bin`,
    `${dir}/down.bin`,
  ], emulator.env);
  if (down.code !== 0) fail("scp down", down.stderr);
  console.log(`   down: 10 MB in ${ms(started)}`);
  const [a, b] = [await sha256File(`${dir}/up.bin`), await sha256File(`${dir}/down.bin`)];
  console.log(`   sha256 ${a.slice(0, 16)}… ${a === b ? "== (intact)" : `!= ${b.slice(0, 16)}…`}`);
  if (a !== b) fail("scp", "the file changed in transit");
} finally {
  await Deno.remove(dir, { recursive: true });
}

step(5, "When something is wrong, one line says what and one says how to fix it");
const offline = await startEmulator({ onlineInstances: [] });
const bad = await runCommand("ssh", [...sshArgs, INSTANCE, "true"], offline.env);
await offline.stop();
console.log(bad.stderr.trimEnd().split("\n").map((l) => `   ${l}`).join("\n"));

console.log(
  `\n${bold("Done.")} Everything above ran real OpenSSH through ssmssh; nothing left running.`,
);

function ms(since: number): string {
  return `${Math.round(performance.now() - since)} ms`;
}

function fail(what: string, stderr: string): never {
  console.error(`ssmssh demo: ${what} failed:\n${stderr}`);
  Deno.exit(1);
}
