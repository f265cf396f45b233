/**
 * The checks of `ssmssh doctor`, in order: credentials, region, and for a target its registration
 * with Systems Manager, agent version, platform, the EC2 Instance Connect key push and the
 * permission to start a session. Each check gives ok, warn, fail or skip with a concrete hint;
 * a check whose prerequisite failed is skipped. The AWS side comes in as {@linkcode DoctorProbes},
 * functions that throw SsmsshError, so the checks are tested with fakes.
 *
 * @example
 * ```ts
 * const results = await runChecks({ target: "web-1", user: "ec2-user", ... }, probes);
 * results[0]; // { check: "credentials", status: "ok", detail: "arn:aws:iam::…:user/x (account …)" }
 * ```
 * @module
 */

import type { ManagedInstance } from "../aws/instances.ts";
import type { RegionFacts } from "../aws/region_source.ts";
import type { StartSessionRequest } from "../aws/session_api.ts";
import { generateEd25519KeyPair } from "../keys/ed25519_key.ts";
import {
  type Attempt,
  attempt,
  type CheckName,
  type CheckResult,
  failed,
  ok,
  skip,
  warn,
} from "./doctor_result.ts";
import type { ResolvedTarget } from "./resolve_target.ts";
import {
  agentCheck,
  type ArnScope,
  platformCheck,
  sendSshPublicKeyStatement,
  startSessionStatement,
  terminateSessionHint,
  unreachableHint,
} from "./doctor_hints.ts";

/** What to check. */
export interface DoctorRequest {
  /** As typed: id, name or tag:Key=Value; undefined checks only credentials and region. */
  target?: string;
  /** OS user for the test key push. */
  user: string;
  port: number;
  /** Session document (default AWS-StartSSHSession). */
  document: string;
  pushKey: boolean;
  /** Start and terminate a real session to prove ssm:StartSession. */
  sessionTest: boolean;
}

/** The AWS side of the checks; each throws SsmsshError on failure. */
export interface DoctorProbes {
  /** sts:GetCallerIdentity (needs no permission). */
  callerIdentity(): Promise<{ account: string; arn: string }>;
  region(): Promise<RegionFacts>;
  /** Resolves an id, name or tag to one instance, as `proxy` does. */
  resolveTarget(text: string): Promise<ResolvedTarget>;
  /** ssm:DescribeInstanceInformation for one id; undefined when SSM does not list it. */
  describeInstance(id: string): Promise<ManagedInstance | undefined>;
  /** ec2-instance-connect:SendSSHPublicKey. */
  sendSshPublicKey(instanceId: string, osUser: string, publicKeyLine: string): Promise<void>;
  /** ssm:StartSession; resolves the session id. */
  startSession(request: StartSessionRequest): Promise<string>;
  terminateSession(sessionId: string): Promise<void>;
}

/** Runs every check in order; never throws for an AWS failure (it becomes a fail line). */
export async function runChecks(
  request: DoctorRequest,
  probes: DoctorProbes,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const identity = await attempt(() => probes.callerIdentity());
  results.push(
    identity.ok
      ? ok("credentials", `${identity.value.arn} (account ${identity.value.account})`)
      : failed("credentials", identity.error),
  );
  const region = await probes.region();
  results.push(regionCheck(region));
  const later: CheckName[] = ["target", "agent", "platform", "key-push", "session"];
  if (!request.target) {
    results.push(skip("target", "no target given: `ssmssh doctor <target>` also checks one"));
    return results;
  }
  if (!identity.ok || !region.region) {
    const what = !identity.ok ? "the credentials" : "the region";
    return [...results, ...later.map((check) => skip(check, `not checked: ${what} failed`))];
  }
  const scope: ArnScope = {
    partition: identity.value.arn.split(":")[1] || "aws",
    region: region.region,
    account: identity.value.account,
  };
  const target = await targetChecks(request.target, probes, scope);
  results.push(...target.results);
  if (!target.resolved || !target.reachable) {
    const reason = "not checked: the target check failed";
    return [...results, skip("key-push", reason), skip("session", reason)];
  }
  results.push(await keyPushCheck(request, target.resolved, target.instance, probes, scope));
  results.push(await sessionCheck(request, target.resolved, probes, scope));
  return results;
}

/** Region from --region, AWS_REGION or the profile; fails (usage) when there is none. */
export function regionCheck(facts: RegionFacts): CheckResult {
  const ignored = facts.defaultRegionEnv;
  if (!facts.region) {
    return {
      check: "region",
      status: "fail",
      kind: "usage",
      detail: "no AWS region is configured",
      hint: ignored
        ? `ssmssh does not read AWS_DEFAULT_REGION: set AWS_REGION=${ignored} or pass --region`
        : `Pass --region, set AWS_REGION, or add \`region = …\` to profile ${facts.profile} ` +
          "in ~/.aws/config",
    };
  }
  const from = facts.source === "profile"
    ? `region of profile ${facts.profile}`
    : facts.source ?? "the AWS SDK";
  const detail = `${facts.region} (from ${from})`;
  if (ignored && ignored !== facts.region) {
    return warn(
      "region",
      `${detail}; AWS_DEFAULT_REGION=${ignored} is not used`,
      "ssmssh reads --region, AWS_REGION and the profile's region, like the AWS SDKs; " +
        "make AWS_DEFAULT_REGION match or unset it so the AWS CLI agrees",
    );
  }
  return ok("region", detail);
}

interface TargetOutcome {
  results: CheckResult[];
  resolved?: ResolvedTarget;
  instance?: ManagedInstance;
  /** False when the instance is known not to accept sessions. */
  reachable: boolean;
}

async function targetChecks(
  text: string,
  probes: DoctorProbes,
  scope: ArnScope,
): Promise<TargetOutcome> {
  const resolved = await attempt(() => probes.resolveTarget(text));
  if (!resolved.ok) {
    return {
      results: [failed("target", resolved.error), ...unchecked("not checked: no instance")],
      reachable: false,
    };
  }
  const target = resolved.value;
  const described = await attempt(() => probes.describeInstance(target.id));
  return { resolved: target, ...registrationChecks(target, described, scope) };
}

/** The target, agent and platform lines from what DescribeInstanceInformation said. */
function registrationChecks(
  target: ResolvedTarget,
  described: Attempt<ManagedInstance | undefined>,
  scope: ArnScope,
): Omit<TargetOutcome, "resolved"> {
  const named = target.host === target.id ? target.id : `${target.host} is ${target.id}`;
  if (!described.ok && described.error.kind === "access-denied") {
    // Connecting by id needs no DescribeInstanceInformation: go on to the permission checks.
    const detail = `${named}; its registration is unknown: ` +
      "ssm:DescribeInstanceInformation is not allowed";
    const hint = "Allow ssm:DescribeInstanceInformation (Resource *) to check the agent and " +
      "ping status; connecting by id works without it";
    return {
      results: [warn("target", detail, hint), ...unchecked("not checked: registration unknown")],
      reachable: true,
    };
  }
  if (!described.ok) {
    return {
      results: [failed("target", described.error), ...unchecked("not checked: no registration")],
      reachable: false,
    };
  }
  const instance = described.value;
  if (!instance) {
    const which = target.host === target.id ? target.id : `${named}, which`;
    return {
      results: [{
        check: "target",
        status: "fail",
        kind: "target",
        detail: `${which} is not registered with Systems Manager in ${scope.region}`,
        hint: `Check the id and the region (--region). ${unreachableHint(target.kind, scope)}`,
      }, ...unchecked("not checked: not registered")],
      reachable: false,
    };
  }
  const details = [agentCheck(instance.agentVersion), platformCheck(instance)];
  if (instance.pingStatus === "Online") {
    return {
      results: [ok("target", `${named}, ping status Online`), ...details],
      instance,
      reachable: true,
    };
  }
  const offline: CheckResult = {
    check: "target",
    status: "fail",
    kind: "target",
    detail: `${named}, ping status ${instance.pingStatus || "unknown"}: ` +
      "its SSM Agent is not connected to Session Manager",
    hint: unreachableHint(target.kind, scope),
  };
  return { results: [offline, ...details], instance, reachable: false };
}

function unchecked(reason: string): CheckResult[] {
  return [skip("agent", reason), skip("platform", reason)];
}

async function keyPushCheck(
  request: DoctorRequest,
  target: ResolvedTarget,
  instance: ManagedInstance | undefined,
  probes: DoctorProbes,
  scope: ArnScope,
): Promise<CheckResult> {
  if (!request.pushKey) return skip("key-push", "not checked (--no-push-key): ssh uses your keys");
  if (target.kind === "managed") {
    return skip("key-push", `${target.id} is a managed node: no EC2 Instance Connect key push`);
  }
  if (instance?.platform === "Windows") {
    return skip("key-push", "EC2 Instance Connect does not push keys to Windows instances");
  }
  // A throwaway key: valid 60 s on the instance and useless without the private half, which
  // is never written anywhere and dropped here.
  const { publicKeyLine } = await generateEd25519KeyPair("ssmssh-doctor");
  const pushed = await attempt(() =>
    probes.sendSshPublicKey(target.id, request.user, publicKeyLine)
  );
  if (!pushed.ok) {
    return failed(
      "key-push",
      pushed.error,
      pushed.error.kind === "access-denied"
        ? `Allow ec2-instance-connect:SendSSHPublicKey for OS user ${request.user} (condition ` +
          `key ec2:osuser): ${sendSshPublicKeyStatement(scope, target.id, request.user)}; ` +
          "or use --no-push-key and your own key"
        : undefined,
    );
  }
  return ok(
    "key-push",
    `EC2 Instance Connect took a throwaway key for ${request.user} (60 s; private key discarded)`,
  );
}

async function sessionCheck(
  request: DoctorRequest,
  target: ResolvedTarget,
  probes: DoctorProbes,
  scope: ArnScope,
): Promise<CheckResult> {
  if (!request.sessionTest) {
    return skip("session", "not checked (--no-session-test): ssm:StartSession is untested");
  }
  const started = await attempt(() =>
    probes.startSession({
      target: target.id,
      portNumber: request.port,
      documentName: request.document,
      reason: "ssmssh doctor: permission test, terminated at once",
    })
  );
  if (!started.ok) {
    return failed(
      "session",
      started.error,
      started.error.kind === "access-denied"
        ? "Allow ssm:StartSession on the instance and on the document: " +
          `${startSessionStatement(scope, target, request.document)}; ` +
          `also allow ${terminateSessionHint(scope)}`
        : undefined,
    );
  }
  const id = started.value;
  const what = `ssm:StartSession allowed (${request.document}, port ${request.port})`;
  const ended = await attempt(() => probes.terminateSession(id));
  if (!ended.ok) {
    return warn(
      "session",
      `${what}; test session ${id} started, but terminating it failed: ${ended.error.message}; ` +
        "it ends when Session Manager times it out",
      ended.error.kind === "access-denied"
        ? `Allow ${terminateSessionHint(scope)}`
        : ended.error.hint,
    );
  }
  return ok(
    "session",
    `${what}; test session ${id} was started and terminated (audit trails show it)`,
  );
}
