/**
 * End to end: signing in like the AWS CLI, with a temp HOME and real config files. Real `ssh`
 * runs ssmssh as its ProxyCommand under a pseudo-terminal (`script`), so the MFA prompt meets a
 * real /dev/tty while stdin/stdout carry SSH; the emulator plays STS and checks that SSM calls are
 * signed with the role's credentials.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { startEmulator } from "../../emulator/server.ts";
import { sshClientArgs, startSshd } from "../../emulator/sshd.ts";
import {
  denoDir,
  NO_ENV_CREDENTIALS,
  productArgv,
  proxyCommand,
  type Result,
  runCommand,
  shellQuote,
} from "../support/product.ts";

const INSTANCE = "i-0123456789abcdef0";
const ROLE = "arn:aws:iam::123456789012:role/admin";
const SERIAL = "arn:aws:iam::123456789012:mfa/alice";
const CODE = "908172";
const PROMPT = `MFA code for ${SERIAL}: `;

/** A temp HOME with ~/.aws/config and the environment of a user who signs in with it. */
async function signInHome(emulatorUrl: string, config: string) {
  const home = await Deno.makeTempDir({ prefix: "ssmssh-sign-in-" });
  await Deno.mkdir(`${home}/.aws/sso/cache`, { recursive: true });
  await Deno.writeTextFile(`${home}/.aws/config`, config);
  const env: Record<string, string> = {
    HOME: home,
    DENO_DIR: await denoDir(), // kept when HOME moves
    XDG_CACHE_HOME: "",
    SSMSSH_CACHE_DIR: "", // so the default, ~/.cache/ssmssh/credentials, is used
    AWS_CONFIG_FILE: `${home}/.aws/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${home}/.aws/credentials`,
    AWS_ENDPOINT_URL_SSM: emulatorUrl,
    AWS_ENDPOINT_URL_EC2_INSTANCE_CONNECT: emulatorUrl,
    AWS_ENDPOINT_URL_STS: emulatorUrl,
    AWS_ENDPOINT_URL_SSO: emulatorUrl,
    AWS_REGION: "us-east-1",
    ...NO_ENV_CREDENTIALS,
  };
  return {
    home,
    env,
    cacheDir: `${home}/.cache/ssmssh/credentials`,
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }),
  };
}

const MFA_CONFIG = `[profile base]
aws_access_key_id = AKIABASE
aws_secret_access_key = base-secret

[profile mfa]
role_arn = ${ROLE}
source_profile = base
mfa_serial = ${SERIAL}
`;

/**
 * Runs `commandLine` (sh) under a pseudo-terminal; when the terminal shows `prompt`, types
 * `answer` and Enter. Resolves the exit code and everything the terminal showed.
 */
async function underTerminal(
  dir: string,
  commandLine: string,
  env: Record<string, string>,
  answer?: string,
): Promise<{ code: number; terminal: string }> {
  const script = `${dir}/run-${crypto.randomUUID().slice(0, 8)}.sh`;
  await Deno.writeTextFile(script, `${commandLine}\n`);
  const child = new Deno.Command("script", {
    args: ["-qec", `sh ${shellQuote(script)}`, "/dev/null"],
    env: { DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const keys = child.stdin.getWriter();
  let terminal = "";
  let answered = false;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of child.stdout) {
      terminal += decoder.decode(chunk, { stream: true });
      if (answer !== undefined && !answered && terminal.includes("MFA code for")) {
        answered = true;
        await keys.write(new TextEncoder().encode(`${answer}\n`));
      }
    }
    return { code: (await child.status).code, terminal };
  } finally {
    clearTimeout(timer);
    await keys.close().catch(() => {});
  }
}

/** `ssh … > out 2> err` through `ssmssh proxy --profile <profile>`, as a shell line. */
function sshLine(
  sshd: { port: number } & Parameters<typeof sshClientArgs>[0],
  profile: string,
  dir: string,
  remote: string,
): string {
  const args = [
    "ssh",
    "-o",
    `ProxyCommand=${proxyCommand(undefined, ["--no-push-key", "--profile", profile])}`,
    "-p",
    String(sshd.port),
    ...sshClientArgs(sshd, INSTANCE),
    INSTANCE,
    remote,
  ];
  return `${args.map(shellQuote).join(" ")} > ${dir}/out 2> ${dir}/err`;
}

/** `ssmssh proxy --no-push-key <instance> …` as argv. */
function proxyArgv(...args: string[]): string[] {
  return [...productArgv(), "proxy", "--no-push-key", INSTANCE, ...args];
}

/** Exit code, empty stdout, and exactly a cause line and a hint line on stderr. */
function assertFailure(r: Result, code: number, cause: string, hint: string): void {
  assertEquals(r.stdout, "", "stdout carries SSH bytes only");
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 2, r.stderr);
  assertEquals(lines[0], `ssmssh: ${cause}`);
  assertStringIncludes(lines[1], `hint: `);
  assertStringIncludes(lines[1], hint);
  assertEquals(r.code, code, r.stderr);
}

async function cacheFiles(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
      .filter((name) => name.endsWith(".json"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

Deno.test("MFA: asked on the terminal, not in the SSH stream; the next ssh asks nothing", async () => {
  await using emulator = await startEmulator({
    sts: { mfaCode: CODE, requireIssuedCredentials: true },
  });
  await using sshd = await startSshd();
  await using user = await signInHome(emulator.url, MFA_CONFIG);
  const line = sshLine(sshd, "mfa", user.home, "echo ok");

  const first = await underTerminal(user.home, line, user.env, CODE);
  const err = await Deno.readTextFile(`${user.home}/err`);
  assertEquals(first.code, 0, `${first.terminal}\n${err}`);
  assertEquals(first.terminal.split(PROMPT).length - 1, 1, "asked once, on the terminal");
  assertEquals(await Deno.readTextFile(`${user.home}/out`), "ok\n", "ssh's stdout: output only");
  assertEquals(err, "", "nothing on stderr, and never the code");
  const assumed = emulator.calls.filter((c) => c.operation === "STS.AssumeRole");
  assertEquals(assumed.length, 1);
  assertEquals(assumed[0].input.TokenCode, CODE, "STS got the code typed on the terminal");
  assertEquals(assumed[0].input.SerialNumber, SERIAL);
  const started = emulator.calls.filter((c) => c.operation === "AmazonSSM.StartSession");
  assert(emulator.sts.issued.has(started[0].accessKeyId!), "StartSession signed by the role");

  const [file] = await cacheFiles(user.cacheDir);
  assertEquals((await Deno.stat(`${user.cacheDir}/${file}`)).mode! & 0o777, 0o600);
  assertEquals((await Deno.stat(user.cacheDir)).mode! & 0o777, 0o700);
  assert(!(await Deno.readTextFile(`${user.cacheDir}/${file}`)).includes(CODE));

  const second = await underTerminal(user.home, line, user.env);
  assertEquals(second.code, 0, second.terminal);
  assert(!second.terminal.includes("MFA code"), second.terminal);
  assertEquals(await Deno.readTextFile(`${user.home}/out`), "ok\n");
  assertEquals(emulator.calls.filter((c) => c.operation === "STS.AssumeRole").length, 1);
  assertEquals(emulator.calls.filter((c) => c.operation === "AmazonSSM.StartSession").length, 2);
});

Deno.test("MFA without a terminal (CI): exit 3, what is missing and what to do instead", async () => {
  await using emulator = await startEmulator({ sts: { mfaCode: CODE } });
  await using user = await signInHome(emulator.url, MFA_CONFIG);
  // setsid: a new session has no controlling terminal, so /dev/tty cannot be opened.
  const r = await runCommand("setsid", ["-w", ...proxyArgv("--profile", "mfa")], user.env);
  assertFailure(
    r,
    3,
    "profile mfa needs an MFA code but there is no terminal to ask for it",
    "aws configure export-credentials --profile mfa",
  );
  assertStringIncludes(r.stderr, "OIDC");
  assertEquals(emulator.calls.filter((c) => c.operation.startsWith("STS.")), []);
});

Deno.test("a wrong MFA code: exit 3, STS's refusal named with the profile and device", async () => {
  await using emulator = await startEmulator({ sts: { mfaCode: CODE } });
  await using user = await signInHome(emulator.url, MFA_CONFIG);
  const line = `${proxyArgv("--profile", "mfa").map(shellQuote).join(" ")} < /dev/null ` +
    `> ${user.home}/out 2> ${user.home}/err`;
  const r = await underTerminal(user.home, line, user.env, "000000");
  assertFailure(
    {
      code: r.code,
      stdout: await Deno.readTextFile(`${user.home}/out`),
      stderr: await Deno.readTextFile(`${user.home}/err`),
    },
    3,
    `Cannot sign in with profile mfa: AWS STS rejected the MFA code for ${SERIAL}`,
    "code your device shows now",
  );
  assertEquals(
    emulator.calls.find((c) => c.operation === "STS.AssumeRole")?.input.TokenCode,
    "000000",
  );
  assertEquals(await cacheFiles(user.cacheDir), []);
});

Deno.test("an expired SSO session: exit 3 naming the profile and the exact `aws sso login`", async () => {
  await using emulator = await startEmulator();
  const startUrl = "https://legacy.awsapps.com/start";
  await using user = await signInHome(
    emulator.url,
    `[profile legacy]
sso_start_url = ${startUrl}
sso_region = eu-west-1
sso_account_id = 123456789012
sso_role_name = Admin

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Developer
`,
  );
  // The SDK's token cache: ~/.aws/sso/cache/<sha1 of the start URL or sso-session name>.json.
  const expired = { accessToken: "expired-token", expiresAt: "2020-01-01T00:00:00Z" };
  for (const id of [startUrl, "corp"]) {
    await Deno.writeTextFile(
      `${user.home}/.aws/sso/cache/${await sha1(id)}.json`,
      JSON.stringify({ ...expired, startUrl, region: "eu-west-1" }),
    );
  }
  const legacy = await runCommand(
    Deno.execPath(),
    proxyArgv("--profile", "legacy").slice(1),
    user.env,
  );
  assertFailure(
    legacy,
    3,
    "Cannot sign in with profile legacy: its AWS SSO session has expired or was not started",
    "Run `aws sso login --profile legacy` and try again",
  );
  const dev = await runCommand(Deno.execPath(), proxyArgv("--profile", "dev").slice(1), user.env);
  assertFailure(
    dev,
    3,
    "Cannot sign in with profile dev: its AWS SSO session has expired or was not started",
    "Run `aws sso login --sso-session corp` and try again",
  );
  assertEquals(emulator.calls, []);
});

Deno.test("credential_process: its keys sign the calls, and it runs every time (never cached)", async () => {
  await using emulator = await startEmulator();
  await using user = await signInHome(emulator.url, "");
  const expires = new Date(Date.now() + 3600_000).toISOString();
  await Deno.writeTextFile(
    `${user.home}/creds.sh`,
    `echo run >> ${shellQuote(`${user.home}/runs`)}\n` +
      `printf '%s' '{"Version":1,"AccessKeyId":"AKIAPROCESS","SecretAccessKey":"s",` +
      `"SessionToken":"t","Expiration":"${expires}"}'\n`,
  );
  await Deno.writeTextFile(
    `${user.home}/.aws/config`,
    `[profile tool]\ncredential_process = sh ${user.home}/creds.sh\n`,
  );
  for (let run = 0; run < 2; run++) {
    assertEquals(await connectOnce("tool", user.env), { code: 0, stdout: "", stderr: "" });
  }
  const started = emulator.calls.filter((c) => c.operation === "AmazonSSM.StartSession");
  assertEquals(started.map((c) => c.accessKeyId), ["AKIAPROCESS", "AKIAPROCESS"]);
  assertEquals((await Deno.readTextFile(`${user.home}/runs`)).trim().split("\n").length, 2);
  assertEquals(await cacheFiles(user.cacheDir), []);
});

Deno.test("SSO: role credentials come from the portal with the SSO token once, then from the cache", async () => {
  await using emulator = await startEmulator({
    sts: { ssoAccessToken: "valid-sso-token", requireIssuedCredentials: true },
  });
  await using user = await signInHome(
    emulator.url,
    `[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Developer
`,
  );
  await Deno.writeTextFile(
    `${user.home}/.aws/sso/cache/${await sha1("corp")}.json`,
    JSON.stringify({
      accessToken: "valid-sso-token",
      expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString(),
      startUrl: "https://corp.awsapps.com/start",
      region: "eu-west-1",
    }),
  );
  for (let run = 0; run < 2; run++) {
    assertEquals(await connectOnce("dev", user.env), { code: 0, stdout: "", stderr: "" });
  }
  const portal = emulator.calls.filter((c) => c.operation === "SSO.GetRoleCredentials");
  assertEquals(portal.map((c) => c.input), [{ accountId: "123456789012", roleName: "Developer" }]);
  const started = emulator.calls.filter((c) => c.operation === "AmazonSSM.StartSession");
  assertEquals(started.length, 2);
  for (const call of started) assert(emulator.sts.issued.has(call.accessKeyId!));
  assertEquals((await cacheFiles(user.cacheDir)).length, 1);
});

/** One `ssmssh proxy --profile <profile>` session to a local port that takes and drops bytes. */
async function connectOnce(profile: string, env: Record<string, string>): Promise<Result> {
  const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of sink) conn.readable.cancel().catch(() => {});
  })();
  try {
    const port = String((sink.addr as Deno.NetAddr).port);
    const [cmd, ...args] = proxyArgv("--profile", profile, "--port", port);
    return await runCommand(cmd, args, env);
  } finally {
    sink.close();
    await accepting.catch(() => {});
  }
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
