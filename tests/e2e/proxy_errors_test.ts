/**
 * `ssmssh proxy` run as a real process on bad input and failures: exit code, one line with the
 * cause and one with the fix on stderr, nothing on stdout, and never a hang.
 */

import { assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import {
  denoDir,
  NO_ENV_CREDENTIALS,
  productArgv,
  type Result,
  runCommand,
  runSsmssh,
} from "../support/product.ts";

const INSTANCE = "i-0123456789abcdef0";

function proxy(args: string[], env: Record<string, string>): Promise<Result> {
  return runSsmssh(env, ["proxy", "--no-push-key", ...args]);
}

/** Asserts the failure shape: exit code, empty stdout, exactly a cause line and a hint line. */
function assertFailure(r: Result, code: number, cause: string, hint: string): void {
  assertEquals(r.stdout, "", "stdout carries SSH bytes only");
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 2, r.stderr);
  assertEquals(lines[0].startsWith("ssmssh: ") && lines[1].startsWith("hint: "), true, r.stderr);
  assertStringIncludes(lines[0], cause);
  assertStringIncludes(lines[1], hint);
  assertEquals(r.code, code, r.stderr);
}

Deno.test("a malformed instance id is a usage error (exit 2) before any AWS call", async () => {
  await using emulator = await startEmulator();
  const r = await proxy(["web-1;rm -rf /"], emulator.env);
  assertFailure(r, 2, `"web-1;rm -rf /" is not an instance id`, "i-0123456789abcdef0");
  assertEquals(emulator.calls.length, 0);
});

Deno.test("a bad port is a usage error (exit 2)", async () => {
  await using emulator = await startEmulator();
  assertFailure(
    await proxy([INSTANCE, "--port", "99999"], emulator.env),
    2,
    "not a port",
    "--port",
  );
});

Deno.test("missing credentials: exit 3 and how to sign in", async () => {
  const home = await Deno.makeTempDir();
  try {
    await using emulator = await startEmulator();
    const env: Record<string, string> = {
      HOME: home,
      DENO_DIR: await denoDir(),
      AWS_ENDPOINT_URL_SSM: emulator.env.AWS_ENDPOINT_URL_SSM,
      AWS_REGION: "us-east-1",
      AWS_CONFIG_FILE: `${home}/none`,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/none`,
      ...NO_ENV_CREDENTIALS,
    };
    const r = await proxy([INSTANCE], env);
    assertFailure(r, 3, "No AWS credentials found", "aws configure");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("AccessDenied names the IAM action and resources to allow (exit 4)", async () => {
  await using emulator = await startEmulator({ denied: ["AmazonSSM.StartSession"] });
  const r = await proxy([INSTANCE], emulator.env);
  assertFailure(
    r,
    4,
    "Access denied: you are not allowed ssm:StartSession",
    `arn:aws:ec2:REGION:ACCOUNT:instance/${INSTANCE} and on arn:aws:ssm:REGION::document/AWS-StartSSHSession`,
  );
});

Deno.test("TargetNotConnected (exit 5) says how to get the agent online", async () => {
  await using emulator = await startEmulator({ onlineInstances: [] });
  const r = await proxy([INSTANCE], emulator.env);
  assertFailure(r, 5, `${INSTANCE} is not connected to Session Manager`, "SSM Agent");
});

Deno.test("an unknown document (exit 2) suggests AWS-StartSSHSession", async () => {
  await using emulator = await startEmulator();
  const r = await proxy([INSTANCE, "--document", "My-Shell"], emulator.env);
  assertFailure(r, 2, "Session document My-Shell cannot be used", "AWS-StartSSHSession");
});

Deno.test("a dead stream URL fails with exit 6 instead of hanging", async () => {
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (dead.addr as Deno.NetAddr).port;
  dead.close();
  await using emulator = await startEmulator({ streamUrlBase: `ws://127.0.0.1:${deadPort}` });
  const started = performance.now();
  const r = await proxy([INSTANCE], emulator.env);
  assertFailure(r, 6, "Cannot open the Session Manager data channel", "HTTPS_PROXY");
  assertEquals(emulator.calls.filter((c) => c.operation === "AmazonSSM.ResumeSession").length, 5);
  console.log(`dead URL gave up after ${Math.round(performance.now() - started)} ms`);
});

Deno.test("the agent cannot reach the port: exit 5 with the agent's reason", async () => {
  await using emulator = await startEmulator();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const r = await proxy([INSTANCE, "--port", String(closedPort)], emulator.env);
  assertFailure(r, 5, "ended the session: Unable to connect to specified port", "sshd listens");
});

Deno.test("stdin EOF: bounded drain, TerminateSession flag, exit 0", async () => {
  await using emulator = await startEmulator();
  const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = (async () => {
    const conn = await sink.accept();
    return new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
  })();
  const [cmd, ...rest] = productArgv();
  const payload = "x".repeat(5000) + "\nend of stdin\n";
  const r = await runCommand(
    cmd,
    [
      ...rest,
      "proxy",
      "--no-push-key",
      INSTANCE,
      "--port",
      String((sink.addr as Deno.NetAddr).port),
    ],
    emulator.env,
    { stdin: new TextEncoder().encode(payload) },
  );
  assertEquals(r, { code: 0, stdout: "", stderr: "" });
  assertEquals(await received, payload, "everything written before EOF arrived");
  sink.close();
  const session = [...emulator.sessions.values()][0];
  assertEquals(session.terminated, true, "the TerminateSession flag ended the agent session");
});
