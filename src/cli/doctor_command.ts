/**
 * `ssmssh doctor [target]`: checks credentials, region and, for a target, its registration,
 * agent, platform, the key push and the permission to start a session (by starting a test
 * session and terminating it at once). One line per check on stdout, or JSON with `--json`.
 * The STS client is imported on first use, so `proxy` does not load it.
 *
 * @example
 * ```ts
 * const code = await runDoctor({ target: "web-1", user: "ec2-user", ... }, deps);
 * // ok   credentials  arn:aws:iam::123456789012:user/dev (account 123456789012)
 * // ok   region       eu-west-1 (from AWS_REGION)
 * // …
 * ```
 * @module
 */

import { Command, Option } from "commander";
import type { AwsContext, AwsOptions } from "../aws/aws_context.ts";
import { toSsmsshError } from "../aws/aws_errors.ts";
import { describeManagedInstances } from "../aws/instances.ts";
import { sendSshPublicKey } from "../aws/instance_connect.ts";
import { type RegionFacts, regionFacts } from "../aws/region_source.ts";
import { startSession, terminateSession } from "../aws/session_api.ts";
import type { Logger } from "../log/logger.ts";
import type { CommandContext } from "./context.ts";
import { type DoctorProbes, type DoctorRequest, runChecks } from "./doctor.ts";
import { doctorExitCode, formatJson, formatText } from "./doctor_result.ts";
import { awsTargetResolver, parseTargetQuery, type PickStrategy } from "./resolve_target.ts";
import { parsePort } from "./target.ts";

/** Options of `ssmssh doctor`. */
export interface DoctorOptions extends AwsOptions, DoctorRequest {
  json: boolean;
  pick?: PickStrategy;
}

/** What `doctor` needs from the process. */
export interface DoctorDeps {
  aws(options: AwsOptions): AwsContext;
  env(name: string): string | undefined;
  writeOut(text: string): void;
  logger: Logger;
}

/** Runs the checks, prints them, and resolves the exit code (see {@linkcode doctorExitCode}). */
export async function runDoctor(options: DoctorOptions, deps: DoctorDeps): Promise<number> {
  if (options.target) parseTargetQuery(options.target); // a malformed target is a usage error
  const region = await regionFacts(options, deps.env);
  const aws = deps.aws({ ...options, region: region.region, logger: deps.logger });
  const results = await runChecks(options, awsProbes(aws, options, region));
  deps.writeOut(options.json ? formatJson(results) : formatText(results));
  return doctorExitCode(results);
}

/** The probes over real AWS clients, the same calls `proxy` makes. */
function awsProbes(
  aws: AwsContext,
  options: DoctorOptions,
  region: RegionFacts,
): DoctorProbes {
  // No lookup cache: doctor reports what AWS says now.
  const resolver = awsTargetResolver(aws, { pick: options.pick, profile: options.profile });
  return {
    callerIdentity: async () => {
      const { GetCallerIdentityCommand, STSClient } = await import("@aws-sdk/client-sts");
      // STS answers in any region; us-east-1 lets the credentials be checked without one.
      const sts = new STSClient({ ...aws.config, region: region.region ?? "us-east-1" });
      try {
        const out = await sts.send(new GetCallerIdentityCommand({}));
        return { account: out.Account ?? "?", arn: out.Arn ?? "?" };
      } catch (error) {
        throw toSsmsshError(error, { action: "sts:GetCallerIdentity" });
      } finally {
        sts.destroy();
      }
    },
    region: () => Promise.resolve(region),
    resolveTarget: (text) => resolver.resolve(parseTargetQuery(text)),
    describeInstance: async (id) =>
      (await describeManagedInstances(aws.ssm, [{ Key: "InstanceIds", Values: [id] }]))
        .find((instance) => instance.id === id),
    sendSshPublicKey: (id, user, line) => sendSshPublicKey(aws.ec2InstanceConnect, id, user, line),
    startSession: async (request) => (await startSession(aws.ssm, request)).sessionId,
    terminateSession: (id) => terminateSession(aws.ssm, id),
  };
}

const HELP_AFTER = `
Checks, in order: credentials (sts:GetCallerIdentity), region, and with a target: its
registration and ping status (ssm:DescribeInstanceInformation), SSM Agent version, platform,
an EC2 Instance Connect push of a throwaway key, and ssm:StartSession. There is no dry run for
StartSession: doctor starts a test session and terminates it at once; audit trails (CloudTrail,
session history) show it. --no-session-test skips that check.

Exit codes: 0 every check ok or warn; else the code of the first failed check:
2 no region, 3 credentials, 4 access denied, 5 target, 6 network, 1 unexpected error.`;

/** `ssmssh doctor [target]`. */
export function doctorCommand(ctx: CommandContext): Command {
  return new Command("doctor")
    .description("check credentials, region, an instance and your permissions, with hints")
    .argument("[target]", "instance id (i-…, mi-…), Name tag (web-1) or tag:Key=Value")
    .option("--user <name>", "OS user for the test key push", "ec2-user")
    .option("-p, --port <port>", "port for the test session", "22")
    .option("--document <name>", "Session document for the test session", "AWS-StartSSHSession")
    .option("--no-push-key", "do not test the EC2 Instance Connect key push")
    .option("--no-session-test", "do not start (and terminate) a test session")
    .option("--json", "print a JSON array of {check, status, detail, hint}")
    .option("--region <region>", "AWS region (default: AWS_REGION or the profile's)")
    .option("--profile <profile>", "AWS profile (default: AWS_PROFILE or default)")
    .addOption(
      new Option("--pick <which>", "several instances with the name: take the first online one")
        .choices(["first"]),
    )
    .option("-v, --verbose", "write diagnostics to stderr")
    .addHelpText("after", HELP_AFTER)
    .action(async (target: string | undefined, opts) => {
      const { deps } = ctx;
      ctx.setExitCode(
        await runDoctor({
          target,
          user: opts.user,
          port: parsePort(opts.port),
          document: opts.document,
          pushKey: opts.pushKey,
          sessionTest: opts.sessionTest,
          json: Boolean(opts.json),
          region: opts.region,
          profile: opts.profile,
          caBundle: deps.env("AWS_CA_BUNDLE") || undefined,
          pick: opts.pick,
        }, {
          aws: deps.aws,
          env: deps.env,
          writeOut: deps.writeOut,
          logger: ctx.logger(opts.verbose),
        }),
      );
    });
}
