/**
 * What `ssmssh doctor` knows about instances and IAM: which SSM Agent versions can carry SSH and
 * why, what a Windows target lacks, and the exact policy statements for a missing permission,
 * filled in with the caller's partition, region and account. Pure.
 *
 * @example
 * ```ts
 * agentCheck("2.3.700.0").status; // "warn": the agent ignores the TerminateSession flag
 * startSessionStatement({ partition: "aws", region: "eu-west-1", account: "123456789012" }, target, "AWS-StartSSHSession");
 * // {"Effect":"Allow","Action":"ssm:StartSession","Resource":["arn:aws:ec2:eu-west-1:…"]}
 * ```
 * @module
 */

import type { CheckResult } from "./doctor_result.ts";
import type { ManagedInstance } from "../aws/instances.ts";
import type { Target } from "./target.ts";

/** What ARNs are built from: the caller's partition and account, the run's region. */
export interface ArnScope {
  partition: string;
  region: string;
  account: string;
}

/**
 * Below this the agent has no Port plugin, which AWS-StartSSHSession runs on: SSM Agent release
 * 2.3.672.0 (2019-07-09) "Add Port plugin for SSH/SCP", and the Session Manager guide requires
 * 2.3.672.0 or later for SSH connections and port forwarding.
 */
export const MIN_SSH_AGENT = "2.3.672.0";
/**
 * Up to this the agent ignores the TerminateSession flag (PayloadType 10, value 2) that ssmssh
 * sends to end a session: session-manager-plugin sends the flag only to agents newer than
 * 2.3.722.0 (ssm-data-channel.md §9.4, §11.2), and agent 2.3.756.0's release notes read
 * "Terminate port forwarding session on receiving TerminateSession flag".
 */
export const TERMINATE_FLAG_AGENT = "2.3.722.0";
/**
 * Below this the agent is of the 2.x line, replaced by 3.0 in 2020 and no longer updated;
 * SSH works, but session fixes since then are missing, so doctor recommends a current 3.x.
 */
export const RECOMMENDED_AGENT = "3.0.0.0";

const UPDATE_AGENT = "Update the agent: run the AWS-UpdateSSMAgent document on the instance " +
  "(Systems Manager Run Command), or reinstall the amazon-ssm-agent package";

/** The agent check: fail below {@linkcode MIN_SSH_AGENT}, warn for old 2.x agents. */
export function agentCheck(version: string): CheckResult {
  const check = "agent" as const;
  if (!version) {
    return {
      check,
      status: "warn",
      detail: "SSM Agent version unknown",
      hint: "Check that the SSM Agent is installed and running; SSH needs 2.3.672.0 or later",
    };
  }
  const atLeast = (floor: string) => (compareVersions(version, floor) ?? -1) >= 0;
  if (compareVersions(version, MIN_SSH_AGENT) === undefined) {
    return {
      check,
      status: "warn",
      detail: `SSM Agent ${version}: not a version ssmssh can compare`,
      hint: `SSH needs SSM Agent ${MIN_SSH_AGENT} or later; a current 3.x is recommended`,
    };
  }
  if (!atLeast(MIN_SSH_AGENT)) {
    return {
      check,
      status: "fail",
      kind: "target",
      detail: `SSM Agent ${version} is too old for SSH: the Port plugin that ` +
        `AWS-StartSSHSession runs on came with ${MIN_SSH_AGENT}`,
      hint: UPDATE_AGENT,
    };
  }
  if (!atLeast(bump(TERMINATE_FLAG_AGENT))) {
    return {
      check,
      status: "warn",
      detail: `SSM Agent ${version} ignores the TerminateSession flag (honoured after ` +
        `${TERMINATE_FLAG_AGENT}): ended sessions stay open until they time out`,
      hint: UPDATE_AGENT,
    };
  }
  if (!atLeast(RECOMMENDED_AGENT)) {
    return {
      check,
      status: "warn",
      detail: `SSM Agent ${version} is from the old 2.x line; a current 3.x is recommended`,
      hint: UPDATE_AGENT,
    };
  }
  return { check, status: "ok", detail: `SSM Agent ${version}` };
}

/** Compares dotted numeric versions; undefined when either is not one. */
export function compareVersions(a: string, b: string): number | undefined {
  const parse = (v: string) => /^\d+(\.\d+)*$/.test(v) ? v.split(".").map(Number) : undefined;
  const [x, y] = [parse(a), parse(b)];
  if (!x || !y) return undefined;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** The next version after `v` in its last component ("newer than 2.3.722.0"). */
function bump(v: string): string {
  const parts = v.split(".").map(Number);
  parts[parts.length - 1]++;
  return parts.join(".");
}

/** The platform check: Windows targets may have no sshd and take no pushed keys. */
export function platformCheck(instance: ManagedInstance): CheckResult {
  const check = "platform" as const;
  const name = [instance.platformName, instance.platformVersion].filter(Boolean).join(" ");
  const detail = instance.platform
    ? `${instance.platform}${name ? ` (${name})` : ""}`
    : "unknown platform";
  if (instance.platform === "Windows") {
    return {
      check,
      status: "warn",
      detail: `${detail}: sshd may not be installed`,
      hint: "Install and start OpenSSH Server on it (PowerShell: Add-WindowsCapability -Online " +
        "-Name OpenSSH.Server~~~~0.0.1.0; Start-Service sshd); EC2 Instance Connect does not " +
        "push keys to Windows, so use --no-push-key and your own key",
    };
  }
  if (!instance.platform) {
    return {
      check,
      status: "warn",
      detail,
      hint: "Systems Manager reports no platform; check the agent on the instance",
    };
  }
  return { check, status: "ok", detail };
}

/** What the instance side needs for Session Manager. */
export function unreachableHint(kind: Target["kind"], scope: ArnScope): string {
  const role = kind === "managed"
    ? "an activation whose service role has AmazonSSMManagedInstanceCore"
    : "an instance profile with AmazonSSMManagedInstanceCore (or Default Host Management)";
  return `Start the instance if it is stopped; check that the SSM Agent runs on it, with ${role}, ` +
    `and that it reaches ssm, ssmmessages and ec2messages.${scope.region}.amazonaws.com on ` +
    "outbound 443 (or VPC endpoints)";
}

/** The instance (or managed node) ARN. */
export function targetArn(scope: ArnScope, target: Target): string {
  return target.kind === "managed"
    ? `arn:${scope.partition}:ssm:${scope.region}:${scope.account}:managed-instance/${target.id}`
    : `arn:${scope.partition}:ec2:${scope.region}:${scope.account}:instance/${target.id}`;
}

/** A document ARN: AWS-owned documents (AWS-…) have no account id. */
export function documentArn(scope: ArnScope, document: string): string {
  const account = document.startsWith("AWS-") ? "" : scope.account;
  return `arn:${scope.partition}:ssm:${scope.region}:${account}:document/${document}`;
}

/** The statement that allows StartSession on `target` with `document`, as one line of JSON. */
export function startSessionStatement(
  scope: ArnScope,
  target: Target,
  document: string,
): string {
  return JSON.stringify({
    Effect: "Allow",
    Action: "ssm:StartSession",
    Resource: [targetArn(scope, target), documentArn(scope, document)],
  });
}

/** The statement that allows pushing a key for `osUser` to `instanceId`, as one line of JSON. */
export function sendSshPublicKeyStatement(
  scope: ArnScope,
  instanceId: string,
  osUser: string,
): string {
  return JSON.stringify({
    Effect: "Allow",
    Action: "ec2-instance-connect:SendSSHPublicKey",
    Resource: targetArn(scope, { id: instanceId, kind: "ec2" }),
    Condition: { StringEquals: { "ec2:osuser": osUser } },
  });
}

/** ResumeSession and TerminateSession, scoped to the caller's own sessions as usual. */
export function terminateSessionHint(scope: ArnScope): string {
  return "ssm:ResumeSession (reconnects) and ssm:TerminateSession on " +
    `arn:${scope.partition}:ssm:${scope.region}:${scope.account}:session/\${aws:username}-*`;
}
