/**
 * `ssmssh doctor` as a real process (`deno run main.ts`, and once the bundled file) against the
 * emulator: every check ok with the test session terminated and no key left on disk; an offline
 * target, an old agent, a denied key push, a denied StartSession and missing credentials, each
 * with its line, hint and exit code; a name resolved; `--json` for scripts.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../emulator/server.ts";
import type { EmulatorInstance } from "../../emulator/inventory.ts";
import {
  denoDir,
  MAIN_TS,
  NO_ENV_CREDENTIALS,
  type Result,
  runCommand,
  runSsmssh,
} from "../support/product.ts";

const WEB_1 = "i-0123456789abcdef0";
const OFFLINE = "i-0aaaaaaaaaaaaaaa1";
const OLD = "i-0bbbbbbbbbbbbbbb2";
const ARN = "arn:aws:iam::123456789012:user/emulated";

const INSTANCES: EmulatorInstance[] = [
  { id: WEB_1, name: "web-1" },
  { id: OFFLINE, name: "web-2", pingStatus: "ConnectionLost" },
  { id: OLD, name: "legacy", agentVersion: "2.3.700.0" },
];

/** An emulator with {@linkcode INSTANCES} and a private HOME (DENO_DIR kept). */
async function withWorld(
  fn: (emulator: Emulator, env: Record<string, string>, home: string) => Promise<void>,
  options: EmulatorOptions = {},
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "ssmssh-doctor-" });
  try {
    await using emulator = await startEmulator({ instances: INSTANCES, ...options });
    await fn(emulator, {
      ...emulator.env,
      HOME: home,
      DENO_DIR: await denoDir(),
      SSMSSH_CACHE_DIR: `${home}/cache`,
      AWS_CONFIG_FILE: `${home}/none`,
      AWS_SHARED_CREDENTIALS_FILE: `${home}/none`,
    }, home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

function doctor(env: Record<string, string>, args: string[], entry = MAIN_TS): Promise<Result> {
  return runSsmssh(env, ["doctor", ...args], entry);
}

/** The lines of the text output as "status check detail", and the hint lines apart. */
function parse(r: Result): { lines: string[]; hints: string[] } {
  const all = r.stdout.trimEnd().split("\n");
  return {
    lines: all.filter((l) => !l.startsWith("     hint: ")).map((l) => l.replace(/ +/g, " ")),
    hints: all.filter((l) => l.startsWith("     hint: ")).map((l) => l.slice(11)),
  };
}

function statuses(r: Result): string[] {
  return parse(r).lines.map((l) => l.split(" ").slice(0, 2).join(" "));
}

Deno.test("all ok: exit 0, every line ok, the test session terminated, no key on disk", async () => {
  await withWorld(async (emulator, env, home) => {
    const r = await doctor(env, [WEB_1]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(statuses(r), [
      "ok credentials",
      "ok region",
      "ok target",
      "ok agent",
      "ok platform",
      "ok key-push",
      "ok session",
    ]);
    const { lines, hints } = parse(r);
    assertEquals(hints, []);
    assertEquals(lines[0], `ok credentials ${ARN} (account 123456789012)`);
    assertEquals(lines[1], "ok region us-east-1 (from AWS_REGION)");
    assertEquals(lines[2], `ok target ${WEB_1}, ping status Online`);

    const sessions = [...emulator.sessions.values()];
    assertEquals(sessions.length, 1);
    assertEquals(sessions[0].target, WEB_1);
    assertEquals(sessions[0].documentName, "AWS-StartSSHSession");
    assertEquals(sessions[0].terminated, true);
    assertStringIncludes(
      lines[6],
      `test session ${sessions[0].sessionId} was started and terminated`,
    );
    assertStringIncludes(lines[6], "audit trails show it");

    const operations = emulator.calls.map((c) => c.operation);
    assertEquals(operations, [
      "STS.GetCallerIdentity",
      "AmazonSSM.DescribeInstanceInformation",
      "AWSEC2InstanceConnectService.SendSSHPublicKey",
      "AmazonSSM.StartSession",
      "AmazonSSM.TerminateSession",
    ]);
    const terminate = emulator.calls.find((c) => c.operation === "AmazonSSM.TerminateSession")!;
    assertEquals(terminate.input.SessionId, sessions[0].sessionId);
    const push = emulator.calls.find((c) => c.operation.endsWith("SendSSHPublicKey"))!;
    assertEquals(push.input.InstanceOSUser, "ec2-user");
    assert(String(push.input.SSHPublicKey).startsWith("ssh-ed25519 "));
    // The private half of the throwaway key was never written: no ~/.ssh at all.
    assertEquals(await exists(`${home}/.ssh`), false);
    assert(!r.stdout.includes(env.AWS_SECRET_ACCESS_KEY), "no secret printed");
  });
});

Deno.test("a name is resolved like proxy does and shown with its id", async () => {
  await withWorld(async (emulator, env) => {
    const r = await doctor(env, ["web-1", "--no-session-test", "--user", "ubuntu"]);
    assertEquals([r.code, r.stderr], [0, ""]);
    assertEquals(parse(r).lines[2], `ok target web-1 is ${WEB_1}, ping status Online`);
    assertEquals(statuses(r).slice(-2), ["ok key-push", "skip session"]);
    const push = emulator.calls.find((c) => c.operation.endsWith("SendSSHPublicKey"))!;
    assertEquals([push.input.InstanceId, push.input.InstanceOSUser], [WEB_1, "ubuntu"]);
    assertEquals(emulator.sessions.size, 0, "--no-session-test starts no session");
  });
});

Deno.test("an offline target: fail, exit 5, the hint about the agent; no session tried", async () => {
  await withWorld(async (emulator, env) => {
    const r = await doctor(env, ["web-2"]);
    assertEquals(r.code, 5, r.stdout + r.stderr);
    assertEquals(statuses(r).slice(2), [
      "fail target",
      "ok agent",
      "ok platform",
      "skip key-push",
      "skip session",
    ]);
    assertStringIncludes(parse(r).lines[2], "ping status ConnectionLost");
    const hint = parse(r).hints[0];
    for (const words of ["SSM Agent", "AmazonSSMManagedInstanceCore", "outbound 443"]) {
      assertStringIncludes(hint, words);
    }
    assertEquals(emulator.sessions.size, 0);
  });
});

Deno.test("an old agent: a warning with the reason, exit 0", async () => {
  await withWorld(async (_emulator, env) => {
    const r = await doctor(env, [OLD]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertEquals(statuses(r)[3], "warn agent");
    assertStringIncludes(
      parse(r).lines[3],
      "SSM Agent 2.3.700.0 ignores the TerminateSession flag",
    );
    assertStringIncludes(parse(r).hints[0], "AWS-UpdateSSMAgent");
  });
});

Deno.test("SendSSHPublicKey denied: fail, exit 4, the hint names the action and ec2:osuser", async () => {
  await withWorld(async (_emulator, env) => {
    const r = await doctor(env, [WEB_1]);
    assertEquals(r.code, 4, r.stdout + r.stderr);
    assertEquals(statuses(r).slice(5), ["fail key-push", "ok session"]);
    const hint = parse(r).hints[0];
    assertStringIncludes(hint, "ec2-instance-connect:SendSSHPublicKey");
    assertStringIncludes(hint, `arn:aws:ec2:us-east-1:123456789012:instance/${WEB_1}`);
    assertStringIncludes(hint, `"ec2:osuser":"ec2-user"`);
  }, { denied: ["AWSEC2InstanceConnectService.SendSSHPublicKey"] });
});

Deno.test("StartSession denied: fail, exit 4, the statement with both resources", async () => {
  await withWorld(async (emulator, env) => {
    const r = await doctor(env, [WEB_1]);
    assertEquals(r.code, 4, r.stdout + r.stderr);
    assertEquals(statuses(r).slice(-1), ["fail session"]);
    assertStringIncludes(parse(r).lines[6], "not allowed ssm:StartSession");
    const hint = parse(r).hints[0];
    assertStringIncludes(hint, `arn:aws:ec2:us-east-1:123456789012:instance/${WEB_1}`);
    assertStringIncludes(hint, "arn:aws:ssm:us-east-1::document/AWS-StartSSHSession");
    assertStringIncludes(hint, "ssm:TerminateSession");
    assertEquals(emulator.sessions.size, 0);
  }, { denied: ["AmazonSSM.StartSession"] });
});

Deno.test("no credentials: fail, exit 3, how to sign in; nothing else is called", async () => {
  await withWorld(async (emulator, env) => {
    const bare: Record<string, string> = {
      HOME: env.HOME,
      DENO_DIR: env.DENO_DIR,
      AWS_ENDPOINT_URL_SSM: env.AWS_ENDPOINT_URL_SSM,
      AWS_ENDPOINT_URL_STS: env.AWS_ENDPOINT_URL_STS,
      AWS_REGION: "us-east-1",
      AWS_CONFIG_FILE: env.AWS_CONFIG_FILE,
      AWS_SHARED_CREDENTIALS_FILE: env.AWS_SHARED_CREDENTIALS_FILE,
      ...NO_ENV_CREDENTIALS,
    };
    const r = await doctor(bare, [WEB_1]);
    assertEquals(r.code, 3, r.stdout + r.stderr);
    assertEquals(statuses(r), [
      "fail credentials",
      "ok region",
      "skip target",
      "skip agent",
      "skip platform",
      "skip key-push",
      "skip session",
    ]);
    assertStringIncludes(parse(r).lines[0], "No AWS credentials found");
    assertStringIncludes(parse(r).hints[0], "aws configure");
    assertEquals(emulator.calls, []);
  });
});

Deno.test("--json: an array of {check, status, detail, hint}, the same exit code", async () => {
  await withWorld(async (_emulator, env) => {
    const r = await doctor(env, ["web-2", "--json"]);
    assertEquals([r.code, r.stderr], [5, ""]);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assertEquals(
      rows.map((row) => Object.keys(row)),
      rows.map(() => [
        "check",
        "status",
        "detail",
        "hint",
      ]),
    );
    assertEquals(rows.map((row) => row.check), [
      "credentials",
      "region",
      "target",
      "agent",
      "platform",
      "key-push",
      "session",
    ]);
    assertEquals(rows[0].hint, null);
    assertEquals(rows[2].status, "fail");
    assertStringIncludes(String(rows[2].hint), "AmazonSSMManagedInstanceCore");
  });
});

Deno.test("the bundled single file runs doctor, STS client included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-doctor-bundle-" });
  try {
    const bundle = `${dir}/ssmssh.js`;
    const built = await runCommand(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--output",
      bundle,
      MAIN_TS,
    ]);
    assertEquals(built.code, 0, built.stderr);
    await withWorld(async (emulator, env) => {
      const r = await doctor(env, [WEB_1, "--json"], bundle);
      assertEquals([r.code, r.stderr], [0, ""]);
      assertEquals(JSON.parse(r.stdout)[0].detail, `${ARN} (account 123456789012)`);
      assertEquals(emulator.calls[0].operation, "STS.GetCallerIdentity");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
