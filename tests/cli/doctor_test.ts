/**
 * `ssmssh doctor`'s checks over fake probes: order, ok/warn/fail/skip, the hints (policy
 * statements with the caller's partition, region and account), which calls are made and which
 * are not when a prerequisite fails, the exit code, and both output formats.
 */

import { assert, assertEquals, assertStringIncludes } from "../support/assert.ts";
import { SsmsshError } from "../../src/errors.ts";
import { type DoctorProbes, type DoctorRequest, runChecks } from "../../src/cli/doctor.ts";
import {
  type CheckResult,
  doctorExitCode,
  formatJson,
  formatText,
} from "../../src/cli/doctor_result.ts";
import { agentCheck, compareVersions } from "../../src/cli/doctor_hints.ts";
import type { ManagedInstance } from "../../src/aws/instances.ts";
import type { RegionFacts } from "../../src/aws/region_source.ts";
import { parseTarget } from "../../src/cli/target.ts";

const ID = "i-0123456789abcdef0";
const ARN = "arn:aws:iam::123456789012:user/dev";

const REQUEST: DoctorRequest = {
  target: ID,
  user: "ec2-user",
  port: 22,
  document: "AWS-StartSSHSession",
  pushKey: true,
  sessionTest: true,
};

function instance(over: Partial<ManagedInstance> = {}): ManagedInstance {
  return {
    id: ID,
    platform: "Linux",
    platformName: "Amazon Linux",
    platformVersion: "2023",
    agentVersion: "3.3.987.0",
    pingStatus: "Online",
    computerName: "ip-10-0-1-2",
    resourceType: "EC2Instance",
    ...over,
  };
}

const denied = (action: string) =>
  new SsmsshError("access-denied", `Access denied: you are not allowed ${action}`, "Allow it");

/** Fake probes recording every call; `over` replaces any of them. */
function probes(over: Partial<DoctorProbes> & { facts?: RegionFacts } = {}) {
  const calls: string[] = [];
  const pushed: string[] = [];
  const base: DoctorProbes = {
    callerIdentity: () => Promise.resolve({ account: "123456789012", arn: ARN }),
    region: () =>
      Promise.resolve(over.facts ?? { region: "eu-west-1", source: "AWS_REGION", profile: "x" }),
    resolveTarget: (text) => {
      const target = parseTarget(text === "web-1" ? ID : text);
      return Promise.resolve({ ...target, host: text, source: text === "web-1" ? "lookup" : "id" });
    },
    describeInstance: (id) => Promise.resolve(instance({ id })),
    sendSshPublicKey: (_id, _user, line) => {
      pushed.push(line);
      return Promise.resolve();
    },
    startSession: () => Promise.resolve("dev-0123456789abcdef0"),
    terminateSession: () => Promise.resolve(),
  };
  const recorded = {} as DoctorProbes;
  for (const name of Object.keys(base) as Array<keyof DoctorProbes>) {
    const fn = (over[name] ?? base[name]) as (...args: unknown[]) => Promise<unknown>;
    (recorded as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const shown = args.map((a) => typeof a === "string" ? a : JSON.stringify(a));
      calls.push(name === "region" ? name : `${name}(${shown.join(",")})`);
      return fn(...args);
    };
  }
  return { probes: recorded, calls, pushed };
}

function byCheck(results: CheckResult[]): Record<string, CheckResult> {
  return Object.fromEntries(results.map((r) => [r.check, r]));
}

function statuses(results: CheckResult[]): string[] {
  return results.map((r) => `${r.status} ${r.check}`);
}

Deno.test("all ok: seven checks in order, a throwaway key pushed, the test session terminated", async () => {
  const fake = probes();
  const results = await runChecks(REQUEST, fake.probes);
  assertEquals(statuses(results), [
    "ok credentials",
    "ok region",
    "ok target",
    "ok agent",
    "ok platform",
    "ok key-push",
    "ok session",
  ]);
  assertEquals(doctorExitCode(results), 0);
  const r = byCheck(results);
  assertEquals(r.credentials.detail, `${ARN} (account 123456789012)`);
  assertEquals(r.region.detail, "eu-west-1 (from AWS_REGION)");
  assertStringIncludes(r.session.detail, "dev-0123456789abcdef0 was started and terminated");
  assertEquals(fake.pushed.length, 1);
  assert(/^ssh-ed25519 [A-Za-z0-9+/=]+ ssmssh-doctor$/.test(fake.pushed[0]), fake.pushed[0]);
  assertEquals(fake.calls.slice(-2).map((c) => c.split("(")[0]), [
    "startSession",
    "terminateSession",
  ]);
  assertEquals(fake.calls.at(-1), "terminateSession(dev-0123456789abcdef0)");
  assertEquals(results.every((x) => x.hint === undefined), true);
});

Deno.test("the test session asks for the document, port and a reason saying what it is", async () => {
  const requests: unknown[] = [];
  const fake = probes({
    startSession: (request) => {
      requests.push(request);
      return Promise.resolve("s-1");
    },
  });
  await runChecks(
    { ...REQUEST, port: 2222, document: "AWS-StartPortForwardingSession" },
    fake.probes,
  );
  assertEquals(requests, [{
    target: ID,
    portNumber: 2222,
    documentName: "AWS-StartPortForwardingSession",
    reason: "ssmssh doctor: permission test, terminated at once",
  }]);
});

Deno.test("without a target only credentials and region are checked", async () => {
  const fake = probes();
  const results = await runChecks({ ...REQUEST, target: undefined }, fake.probes);
  assertEquals(statuses(results), ["ok credentials", "ok region", "skip target"]);
  assertEquals(fake.calls, ["callerIdentity()", "region"]);
  assertEquals(doctorExitCode(results), 0);
});

Deno.test("no credentials: fail (exit 3), region still checked, the rest skipped with no calls", async () => {
  const fake = probes({
    callerIdentity: () =>
      Promise.reject(new SsmsshError("credentials", "No AWS credentials found", "aws configure")),
  });
  const results = await runChecks(REQUEST, fake.probes);
  assertEquals(statuses(results), [
    "fail credentials",
    "ok region",
    "skip target",
    "skip agent",
    "skip platform",
    "skip key-push",
    "skip session",
  ]);
  assertEquals(byCheck(results).credentials.hint, "aws configure");
  assertEquals(byCheck(results).target.detail, "not checked: the credentials failed");
  assertEquals(fake.calls, ["callerIdentity()", "region"]);
  assertEquals(doctorExitCode(results), 3);
});

Deno.test("no region: fail (exit 2) with the fix; AWS_DEFAULT_REGION alone is named", async () => {
  const none = await runChecks(
    REQUEST,
    probes({ facts: { profile: "dev" } }).probes,
  );
  const region = byCheck(none).region;
  assertEquals([region.status, region.kind], ["fail", "usage"]);
  assertStringIncludes(region.hint!, "add `region = …` to profile dev");
  assertEquals(doctorExitCode(none), 2);
  assertEquals(byCheck(none).session.status, "skip");

  const cli = byCheck(
    await runChecks(
      REQUEST,
      probes({ facts: { profile: "x", defaultRegionEnv: "eu-north-1" } }).probes,
    ),
  ).region;
  assertStringIncludes(cli.hint!, "does not read AWS_DEFAULT_REGION: set AWS_REGION=eu-north-1");
});

Deno.test("region: where it came from, and a warning when AWS_DEFAULT_REGION disagrees", async () => {
  const from = async (facts: RegionFacts) =>
    byCheck(await runChecks({ ...REQUEST, target: undefined }, probes({ facts }).probes)).region;
  assertEquals(
    (await from({ region: "eu-west-1", source: "--region", profile: "x" })).detail,
    "eu-west-1 (from --region)",
  );
  assertEquals(
    (await from({ region: "ap-south-1", source: "profile", profile: "dev" })).detail,
    "ap-south-1 (from region of profile dev)",
  );
  const mismatch = await from({
    region: "eu-west-1",
    source: "AWS_REGION",
    profile: "x",
    defaultRegionEnv: "us-west-2",
  });
  assertEquals(mismatch.status, "warn");
  assertStringIncludes(mismatch.detail, "AWS_DEFAULT_REGION=us-west-2 is not used");
  const same = await from({
    region: "eu-west-1",
    source: "AWS_REGION",
    profile: "x",
    defaultRegionEnv: "eu-west-1",
  });
  assertEquals(same.status, "ok");
});

Deno.test("an offline target fails (exit 5) with the agent hint; no push, no session", async () => {
  for (const ping of ["ConnectionLost", "Inactive"]) {
    const fake = probes({
      describeInstance: () => Promise.resolve(instance({ pingStatus: ping })),
    });
    const results = await runChecks(REQUEST, fake.probes);
    const target = byCheck(results).target;
    assertEquals([target.status, target.kind], ["fail", "target"]);
    assertStringIncludes(target.detail, `ping status ${ping}`);
    for (const words of ["SSM Agent", "AmazonSSMManagedInstanceCore", "443", "ssmmessages"]) {
      assertStringIncludes(target.hint!, words);
    }
    assertStringIncludes(target.hint!, "ec2messages.eu-west-1.amazonaws.com");
    assertEquals(statuses(results).slice(3), [
      "ok agent",
      "ok platform",
      "skip key-push",
      "skip session",
    ]);
    assertEquals(fake.calls.some((c) => /sendSsh|startSession/.test(c)), false);
    assertEquals(doctorExitCode(results), 5);
  }
});

Deno.test("an id SSM does not list is a target failure that names the region", async () => {
  const results = await runChecks(
    REQUEST,
    probes({ describeInstance: () => Promise.resolve(undefined) }).probes,
  );
  const target = byCheck(results).target;
  assertEquals(target.detail, `${ID} is not registered with Systems Manager in eu-west-1`);
  assertStringIncludes(target.hint!, "Check the id and the region (--region).");
  assertEquals(doctorExitCode(results), 5);
});

Deno.test("a name is resolved first and shown with its id", async () => {
  const fake = probes();
  const results = await runChecks({ ...REQUEST, target: "web-1" }, fake.probes);
  assertEquals(byCheck(results).target.detail, `web-1 is ${ID}, ping status Online`);
  assertEquals(fake.calls.slice(2, 4), ["resolveTarget(web-1)", `describeInstance(${ID})`]);
});

Deno.test("a name that resolves to nothing fails with the resolver's error and hint", async () => {
  const results = await runChecks(
    { ...REQUEST, target: "nope" },
    probes({
      resolveTarget: () =>
        Promise.reject(new SsmsshError("target", "No instance is named nope", "ssmssh list")),
    }).probes,
  );
  assertEquals(byCheck(results).target.hint, "ssmssh list");
  assertEquals(statuses(results).slice(2).map((s) => s.split(" ")[0]), [
    "fail",
    "skip",
    "skip",
    "skip",
    "skip",
  ]);
  assertEquals(doctorExitCode(results), 5);
});

Deno.test("DescribeInstanceInformation denied: a warning for an id, and the permission checks go on", async () => {
  const fake = probes({
    describeInstance: () => Promise.reject(denied("ssm:DescribeInstanceInformation")),
  });
  const results = await runChecks(REQUEST, fake.probes);
  assertEquals(statuses(results).slice(2), [
    "warn target",
    "skip agent",
    "skip platform",
    "ok key-push",
    "ok session",
  ]);
  assertStringIncludes(byCheck(results).target.hint!, "ssm:DescribeInstanceInformation");
  assertEquals(doctorExitCode(results), 0);
});

Deno.test("agent versions: too old for SSH fails, old 2.x warns, 3.x is ok", () => {
  const cases: Array<[string, string]> = [
    ["2.3.50.0", "fail"],
    ["2.3.671.9", "fail"],
    ["2.3.672.0", "warn"],
    ["2.3.722.0", "warn"],
    ["2.3.723.0", "warn"],
    ["2.3.1644.0", "warn"],
    ["3.0.0.0", "ok"],
    ["3.3.987.0", "ok"],
    ["", "warn"],
    ["latest", "warn"],
  ];
  for (const [version, status] of cases) assertEquals(agentCheck(version).status, status, version);
  assertStringIncludes(agentCheck("2.3.700.0").detail, "TerminateSession");
  assertStringIncludes(agentCheck("2.3.800.0").detail, "2.x");
  assertStringIncludes(agentCheck("2.3.600.0").detail, "2.3.672.0");
  assertEquals(agentCheck("2.3.600.0").kind, "target");
  assertStringIncludes(agentCheck("2.3.600.0").hint!, "AWS-UpdateSSMAgent");
  assertEquals(compareVersions("3.10.0.0", "3.9.1.0"), 1);
  assertEquals(compareVersions("3.0", "3.0.0.0"), 0);
  assertEquals(compareVersions("3.0.x", "3.0.0.0"), undefined);
});

Deno.test("an old agent warns; warnings alone exit 0", async () => {
  const results = await runChecks(
    REQUEST,
    probes({ describeInstance: () => Promise.resolve(instance({ agentVersion: "2.3.700.0" })) })
      .probes,
  );
  assertEquals(byCheck(results).agent.status, "warn");
  assertEquals(byCheck(results).session.status, "ok");
  assertEquals(doctorExitCode(results), 0);
});

Deno.test("a Windows target warns about sshd and skips the key push", async () => {
  const fake = probes({
    describeInstance: () =>
      Promise.resolve(
        instance({
          platform: "Windows",
          platformName: "Microsoft Windows Server 2022 Datacenter",
          platformVersion: "10.0.20348",
        }),
      ),
  });
  const r = byCheck(await runChecks(REQUEST, fake.probes));
  assertEquals(r.platform.status, "warn");
  assertStringIncludes(r.platform.detail, "sshd may not be installed");
  assertStringIncludes(r.platform.hint!, "OpenSSH.Server");
  assertEquals(r["key-push"].status, "skip");
  assertEquals(fake.pushed, []);
});

Deno.test("a managed node: no key push; StartSession's statement names the managed-instance ARN", async () => {
  const mi = "mi-0123456789abcdef0";
  const fake = probes({ startSession: () => Promise.reject(denied("ssm:StartSession")) });
  const r = byCheck(await runChecks({ ...REQUEST, target: mi }, fake.probes));
  assertEquals(r["key-push"].status, "skip");
  assertStringIncludes(
    r.session.hint!,
    `arn:aws:ssm:eu-west-1:123456789012:managed-instance/${mi}`,
  );
});

Deno.test("SendSSHPublicKey denied: fail (exit 4) naming the action, the OS user and ec2:osuser", async () => {
  const fake = probes({
    sendSshPublicKey: () => Promise.reject(denied("ec2-instance-connect:SendSSHPublicKey")),
  });
  const results = await runChecks({ ...REQUEST, user: "ubuntu" }, fake.probes);
  const push = byCheck(results)["key-push"];
  assertEquals([push.status, push.kind], ["fail", "access-denied"]);
  assertStringIncludes(
    push.hint!,
    "Allow ec2-instance-connect:SendSSHPublicKey for OS user ubuntu",
  );
  assertStringIncludes(
    push.hint!,
    `"Resource":"arn:aws:ec2:eu-west-1:123456789012:instance/${ID}","Condition":{"StringEquals":{"ec2:osuser":"ubuntu"}}`,
  );
  assertEquals(byCheck(results).session.status, "ok", "the session check does not depend on it");
  assertEquals(doctorExitCode(results), 4);
});

Deno.test("StartSession denied: fail (exit 4) with the statement for both resources", async () => {
  const fake = probes({
    callerIdentity: () =>
      Promise.resolve({
        account: "210987654321",
        arn: "arn:aws-cn:sts::210987654321:assumed-role/r/s",
      }),
    facts: { region: "cn-north-1", source: "AWS_REGION", profile: "x" },
    startSession: () => Promise.reject(denied("ssm:StartSession")),
  });
  const results = await runChecks(REQUEST, fake.probes);
  const session = byCheck(results).session;
  assertEquals([session.status, session.kind], ["fail", "access-denied"]);
  const statement = JSON.stringify({
    Effect: "Allow",
    Action: "ssm:StartSession",
    Resource: [
      `arn:aws-cn:ec2:cn-north-1:210987654321:instance/${ID}`,
      "arn:aws-cn:ssm:cn-north-1::document/AWS-StartSSHSession",
    ],
  });
  assertStringIncludes(session.hint!, statement);
  assertStringIncludes(session.hint!, "ssm:ResumeSession");
  assertStringIncludes(session.hint!, "ssm:TerminateSession");
  assertEquals(fake.calls.some((c) => c.startsWith("terminateSession")), false);
  assertEquals(doctorExitCode(results), 4);
});

Deno.test("a document of your own is an ARN with your account", async () => {
  const fake = probes({ startSession: () => Promise.reject(denied("ssm:StartSession")) });
  const r = byCheck(await runChecks({ ...REQUEST, document: "Team-SSH" }, fake.probes));
  assertStringIncludes(r.session.hint!, "arn:aws:ssm:eu-west-1:123456789012:document/Team-SSH");
});

Deno.test("TerminateSession failing after a started session is a warning that says so", async () => {
  const fake = probes({ terminateSession: () => Promise.reject(denied("ssm:TerminateSession")) });
  const results = await runChecks(REQUEST, fake.probes);
  const session = byCheck(results).session;
  assertEquals(session.status, "warn");
  assertStringIncludes(session.detail, "test session dev-0123456789abcdef0 started");
  assertStringIncludes(
    session.hint!,
    "ssm:TerminateSession on arn:aws:ssm:eu-west-1:123456789012:session/",
  );
  assertEquals(doctorExitCode(results), 0);
});

Deno.test("--no-push-key and --no-session-test skip those checks and their calls", async () => {
  const fake = probes();
  const results = await runChecks({ ...REQUEST, pushKey: false, sessionTest: false }, fake.probes);
  assertEquals(statuses(results).slice(-2), ["skip key-push", "skip session"]);
  assertEquals(fake.calls.some((c) => /sendSsh|startSession|terminate/.test(c)), false);
});

Deno.test("an unexpected error is a failure of kind internal (exit 1), not a crash", async () => {
  const results = await runChecks(
    REQUEST,
    probes({ sendSshPublicKey: () => Promise.reject(new TypeError("boom")) }).probes,
  );
  const push = byCheck(results)["key-push"];
  assertEquals([push.status, push.kind, push.detail], [
    "fail",
    "internal",
    "Unexpected error: boom",
  ]);
  assertEquals(doctorExitCode(results), 1);
});

Deno.test("the exit code is the first failure's, whatever follows", () => {
  const results: CheckResult[] = [
    { check: "credentials", status: "ok", detail: "" },
    { check: "target", status: "warn", detail: "", hint: "h" },
    { check: "key-push", status: "fail", kind: "access-denied", detail: "", hint: "h" },
    { check: "session", status: "fail", kind: "target", detail: "", hint: "h" },
  ];
  assertEquals(doctorExitCode(results), 4);
  assertEquals(doctorExitCode(results.slice(0, 2)), 0);
});

Deno.test("text: aligned lines, an indented hint under warn and fail; JSON: hint null when none", () => {
  const results: CheckResult[] = [
    { check: "credentials", status: "ok", detail: `${ARN} (account 123456789012)` },
    { check: "agent", status: "warn", detail: "SSM Agent 2.3.700.0", hint: "update it" },
    { check: "session", status: "skip", detail: "not checked" },
  ];
  assertEquals(
    formatText(results),
    `ok   credentials  ${ARN} (account 123456789012)\n` +
      "warn agent        SSM Agent 2.3.700.0\n" +
      "     hint: update it\n" +
      "skip session      not checked\n",
  );
  assertEquals(JSON.parse(formatJson(results)), [
    { check: "credentials", status: "ok", detail: `${ARN} (account 123456789012)`, hint: null },
    { check: "agent", status: "warn", detail: "SSM Agent 2.3.700.0", hint: "update it" },
    { check: "session", status: "skip", detail: "not checked", hint: null },
  ]);
});
