/**
 * Signing in through the SDK's chain against the emulator's STS, in process: the MFA prompt is
 * asked once per sign-in, assumed-role credentials are cached and shared between runs, and
 * failures name the profile and the fix.
 */

import { assert, assertEquals, assertRejects, assertStringIncludes } from "../support/assert.ts";
import { stderrLogger } from "../../src/log/logger.ts";
import { startEmulator } from "../../emulator/server.ts";
import { createAwsContext } from "../../src/aws/aws_context.ts";
import type { SignIn } from "../../src/aws/credentials.ts";
import { profileKind, signInPlan, toSignInError } from "../../src/aws/sign_in_plan.ts";
import { SsmsshError } from "../../src/errors.ts";
import { TerminateSessionCommand } from "@aws-sdk/client-ssm";

const ROLE = "arn:aws:iam::123456789012:role/admin";
const SERIAL = "arn:aws:iam::123456789012:mfa/alice";
const CONFIG = `[profile base]
aws_access_key_id = AKIABASE
aws_secret_access_key = base-secret

[profile mfa]
role_arn = ${ROLE}
source_profile = base
mfa_serial = ${SERIAL}

[profile plain-role]
role_arn = ${ROLE}
source_profile = base

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Admin

[profile via-sso]
role_arn = ${ROLE}
source_profile = sso
`;

/** A temp dir with the config file, the environment pointed at it and at `stsUrl`. */
async function withProfiles(
  stsUrl: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ssmssh-sign-in-" });
  await Deno.writeTextFile(`${dir}/config`, CONFIG);
  const vars: Record<string, string | undefined> = {
    AWS_CONFIG_FILE: `${dir}/config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
    AWS_ENDPOINT_URL_SSM: stsUrl,
    AWS_ENDPOINT_URL_STS: stsUrl,
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PROFILE: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
  };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  };
  set(vars);
  try {
    await fn(dir);
  } finally {
    set(saved);
    await Deno.remove(dir, { recursive: true });
  }
}

/** A sign-in whose MFA "user" answers `code` after `delayMs`, counting the questions. */
function answering(code: string, cacheDir: string, delayMs = 0) {
  const asked: string[] = [];
  const signIn: SignIn = {
    cacheDir,
    askMfaCode: async ({ serial }) => {
      asked.push(serial);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return code;
    },
  };
  return { signIn, asked };
}

/** One signed SSM call, as a run of ssmssh would make; resolves the key id that signed it. */
async function signedCall(profile: string, signIn: SignIn): Promise<void> {
  const aws = createAwsContext({ profile, region: "us-east-1" }, signIn);
  await Promise.all([
    aws.ssm.send(new TerminateSessionCommand({ SessionId: "s-1" })),
    aws.ssm.send(new TerminateSessionCommand({ SessionId: "s-2" })),
  ]);
}

Deno.test("an MFA profile asks once, assumes the role with the code, and signs with its keys", async () => {
  await using emulator = await startEmulator({
    sts: { mfaCode: "123456", requireIssuedCredentials: true },
  });
  await withProfiles(emulator.url, async (dir) => {
    const { signIn, asked } = answering("123456", `${dir}/cache`);
    await signedCall("mfa", signIn);
    assertEquals(asked, [SERIAL], "one question for two parallel calls");
    const assume = emulator.calls.filter((c) => c.operation === "STS.AssumeRole");
    assertEquals(assume.length, 1);
    assertEquals(assume[0].input.TokenCode, "123456");
    assertEquals(assume[0].input.SerialNumber, SERIAL);
    assertEquals(assume[0].input.RoleArn, ROLE);
    assertEquals(assume[0].accessKeyId, "AKIABASE", "the source profile signs AssumeRole");
    const ssm = emulator.calls.filter((c) => c.operation === "AmazonSSM.TerminateSession");
    assertEquals(ssm.length, 2);
    for (const call of ssm) {
      assert(emulator.sts.issued.has(call.accessKeyId!), "signed by STS keys");
    }
  });
});

Deno.test("debug logs (-v) show the sign-in but never the MFA code or a secret", async () => {
  await using emulator = await startEmulator({ sts: { mfaCode: "908172" } });
  await withProfiles(emulator.url, async (dir) => {
    const lines: string[] = [];
    const logger = stderrLogger("debug", (line) => lines.push(line));
    const { signIn } = answering("908172", `${dir}/cache`);
    await signedCall("mfa", { ...signIn, logger });
    await signedCall("mfa", { ...answering("908172", `${dir}/cache`).signIn, logger });
    const log = lines.join("");
    assertStringIncludes(log, "credentials cached in");
    assertStringIncludes(log, "credentials from cache");
    const [issued] = emulator.sts.issued.values();
    for (const secret of ["908172", "base-secret", issued.sessionToken]) {
      assert(!log.includes(secret), `the log must not contain ${secret.slice(0, 4)}…`);
    }
  });
});

Deno.test("the next runs reuse the cached role credentials: no prompt, no STS call", async () => {
  await using emulator = await startEmulator({
    sts: { mfaCode: "123456", requireIssuedCredentials: true },
  });
  await withProfiles(emulator.url, async (dir) => {
    await signedCall("mfa", answering("123456", `${dir}/cache`).signIn);
    for (let run = 0; run < 3; run++) {
      const { signIn, asked } = answering("123456", `${dir}/cache`);
      await signedCall("mfa", signIn);
      assertEquals(asked, []);
    }
    assertEquals(emulator.calls.filter((c) => c.operation === "STS.AssumeRole").length, 1);
    const files = (await Array.fromAsync(Deno.readDir(`${dir}/cache`))).map((e) => e.name);
    assertEquals(files.filter((name) => name.endsWith(".json")).length, 1);
  });
});

Deno.test("parallel runs prompt once: the others wait for the first one's credentials", async () => {
  await using emulator = await startEmulator({ sts: { mfaCode: "123456" } });
  await withProfiles(emulator.url, async (dir) => {
    const runs = Array.from({ length: 5 }, () => answering("123456", `${dir}/cache`, 150));
    await Promise.all(runs.map((run) => signedCall("mfa", run.signIn)));
    assertEquals(runs.flatMap((run) => run.asked), [SERIAL]);
    assertEquals(emulator.calls.filter((c) => c.operation === "STS.AssumeRole").length, 1);
  });
});

Deno.test("role credentials that expire within five minutes are not reused", async () => {
  await using emulator = await startEmulator({ sts: { mfaCode: "123456", durationSeconds: 200 } });
  await withProfiles(emulator.url, async (dir) => {
    const first = answering("123456", `${dir}/cache`);
    const second = answering("123456", `${dir}/cache`);
    await signedCall("mfa", first.signIn);
    await signedCall("mfa", second.signIn);
    assertEquals([first.asked.length, second.asked.length], [1, 1]);
    assertEquals(emulator.calls.filter((c) => c.operation === "STS.AssumeRole").length, 2);
  });
});

Deno.test("a wrong MFA code: a credentials error naming the profile and the device", async () => {
  await using emulator = await startEmulator({ sts: { mfaCode: "123456" } });
  await withProfiles(emulator.url, async (dir) => {
    const error = await assertRejects(
      () => signedCall("mfa", answering("000000", `${dir}/cache`).signIn),
      SsmsshError,
      `Cannot sign in with profile mfa: AWS STS rejected the MFA code for ${SERIAL}`,
    );
    assertEquals(error.kind, "credentials");
    const files = await Array.fromAsync(Deno.readDir(`${dir}/cache`));
    assertEquals(files.filter((e) => e.name.endsWith(".json")), [], "nothing cached");
  });
});

Deno.test("a role without MFA is cached too; static keys never are", async () => {
  await using emulator = await startEmulator();
  await withProfiles(emulator.url, async (dir) => {
    const cache = `${dir}/cache`;
    await signedCall("base", answering("", cache).signIn);
    const none = await Array.fromAsync(Deno.readDir(cache)).catch(() => []);
    assertEquals(none.filter((e) => e.name.endsWith(".json")), []);
    const { signIn, asked } = answering("", cache);
    await signedCall("plain-role", signIn);
    await signedCall("plain-role", answering("", cache).signIn);
    assertEquals(asked, []);
    assertEquals(emulator.calls.filter((c) => c.operation === "STS.AssumeRole").length, 1);
    const files = (await Array.fromAsync(Deno.readDir(cache))).map((e) => e.name);
    assertEquals(files.filter((name) => name.endsWith(".json")).length, 1);
    const cached = JSON.parse(
      await Deno.readTextFile(`${cache}/${files.find((n) => n.endsWith(".json"))}`),
    );
    assertEquals(Object.keys(cached).sort(), [
      "accessKeyId",
      "accountId",
      "expiration",
      "secretAccessKey",
      "sessionToken",
    ]);
  });
});

Deno.test("the plan follows the SDK: kinds, cacheability, the SSO login command", async () => {
  await withProfiles("http://127.0.0.1:9", async () => {
    const env = (name: string) => Deno.env.get(name);
    const plan = (profile?: string) => signInPlan({ profile }, env);
    assertEquals((await plan("mfa")).kind, "assume-role");
    assertEquals((await plan("mfa")).cacheable, true);
    assertEquals((await plan("base")).kind, "static");
    assertEquals((await plan("base")).cacheable, false);
    assertEquals((await plan("sso")).ssoLogin, "aws sso login --sso-session corp");
    assertEquals((await plan("via-sso")).ssoLogin, "aws sso login --sso-session corp");
    assertEquals((await plan("nope")).kind, "missing");
    assertEquals((await plan()).profile, "default");
    assertEquals(
      (await signInPlan({}, (n) => ({ AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "S" })[n]))
        .kind,
      "environment",
    );
    assertEquals(profileKind({ sso_start_url: "u", sso_account_id: "1" }), "sso");
    assertEquals(profileKind({ credential_process: "/bin/creds" }), "process");
    assertEquals(profileKind({ role_arn: ROLE, web_identity_token_file: "/t" }), "web-identity");
    assertEquals(profileKind({ role_arn: ROLE, credential_source: "Environment" }), "assume-role");

    const legacy = { ...await plan("sso"), ssoLogin: "aws sso login --profile old" };
    const expired = Object.assign(
      new Error(
        "The SSO session associated with this profile has expired. To refresh this SSO session " +
          "run aws sso login with the corresponding profile.",
      ),
      {
        name: "CredentialsProviderError",
      },
    );
    const mapped = toSignInError(expired, legacy) as SsmsshError;
    assertEquals(mapped.kind, "credentials");
    assertEquals(mapped.message.includes("profile sso"), true);
    assertEquals(mapped.hint, "Run `aws sso login --profile old` and try again");
    const missing = toSignInError(
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
      await plan("nope"),
    ) as SsmsshError;
    assertEquals(
      missing.message,
      "Cannot sign in: profile nope is not in your AWS config or credentials file",
    );
    const unreachable = Object.assign(
      new Error("Error: getaddrinfo ENOTFOUND portal.sso.eu-west-1.amazonaws.com"),
      { name: "CredentialsProviderError" },
    );
    const offline = toSignInError(unreachable, await plan("sso")) as SsmsshError;
    assertEquals(offline.kind, "connection", "a network failure is not an expired SSO session");
    const other = new Error("something else");
    assertEquals(toSignInError(other, await plan("mfa")), other, "left to toSsmsshError");
  });
});
