/**
 * `ssmssh list`: the SSM-managed instances of a region with their names, ids, platforms, agent
 * versions and ping status, as an aligned table or, with `--json`, a JSON array for scripts.
 * Names of EC2 instances come from their Name tags (tag:GetResources); if that is not allowed,
 * the list still works with computer names and one warning line on stderr.
 *
 * @example
 * ```ts
 * await runList({ json: false, region: "eu-west-1" }, { aws: createAwsContext, writeOut, logger });
 * // NAME   INSTANCE ID          PLATFORM           AGENT      PING
 * // web-1  i-0123456789abcdef0  Amazon Linux 2023  3.3.987.0  Online
 * ```
 * @module
 */

import { Command } from "commander";
import type { AwsContext, AwsOptions } from "../aws/aws_context.ts";
import { describeManagedInstances, ec2NameTags, type ManagedInstance } from "../aws/instances.ts";
import type { Logger } from "../log/logger.ts";
import type { CommandContext } from "./context.ts";

/** Options of `ssmssh list`. */
export interface ListOptions extends AwsOptions {
  json: boolean;
}

/** What `list` needs from the process. */
export interface ListDeps {
  aws(options: AwsOptions): AwsContext;
  writeOut(text: string): void;
  logger: Logger;
}

/** One row of `ssmssh list --json`: a managed instance whose missing name is null. */
export type ListedInstance = Omit<ManagedInstance, "name"> & { name: string | null };

/** Lists the managed instances on stdout; resolves 0, throws SsmsshError on failure. */
export async function runList(options: ListOptions, deps: ListDeps): Promise<number> {
  const aws = deps.aws(options);
  const [instances, tags] = await Promise.allSettled([
    describeManagedInstances(aws.ssm),
    ec2NameTags(aws.config),
  ]);
  if (instances.status === "rejected") throw instances.reason;
  let names = new Map<string, string>();
  if (tags.status === "fulfilled") {
    names = tags.value;
  } else {
    const reason = tags.reason as { kind?: string; message?: string };
    deps.logger.warn(
      reason.kind === "access-denied"
        ? "no Name tags: tag:GetResources is not allowed; showing computer names " +
          "(allow tag:GetResources to see Name tags)"
        : `no Name tags (${reason.message}); showing computer names`,
    );
  }
  const rows = instances.value
    .map((instance) => listed(instance, names, tags.status === "rejected"))
    .sort(byNameThenId);
  deps.writeOut(options.json ? JSON.stringify(rows, null, 2) + "\n" : table(rows));
  return 0;
}

function listed(
  instance: ManagedInstance,
  names: Map<string, string>,
  fallback: boolean,
): ListedInstance {
  const name = names.get(instance.id) ?? instance.name ??
    (fallback && instance.computerName ? instance.computerName : undefined);
  return {
    name: name ?? null,
    id: instance.id,
    platform: instance.platform,
    platformName: instance.platformName,
    platformVersion: instance.platformVersion,
    agentVersion: instance.agentVersion,
    pingStatus: instance.pingStatus,
    computerName: instance.computerName,
    resourceType: instance.resourceType,
  };
}

/** Named instances first, by name, then by id. */
function byNameThenId(a: ListedInstance, b: ListedInstance): number {
  if ((a.name === null) !== (b.name === null)) return a.name === null ? 1 : -1;
  const [x, y] = [`${a.name ?? ""}\0${a.id}`, `${b.name ?? ""}\0${b.id}`];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** An aligned plain-text table (no trailing spaces), or a note when there is nothing. */
function table(rows: ListedInstance[]): string {
  const header = ["NAME", "INSTANCE ID", "PLATFORM", "AGENT", "PING"];
  const cells = rows.map((r) => [
    r.name ?? "-",
    r.id,
    [r.platformName, r.platformVersion].filter(Boolean).join(" ") || r.platform || "-",
    r.agentVersion || "-",
    r.pingStatus || "-",
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const lines = all.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
  );
  return lines.join("\n") + "\n";
}

/** `ssmssh list`. */
export function listCommand(ctx: CommandContext): Command {
  return new Command("list")
    .description("list the SSM-managed instances: name, id, platform, agent version, ping status")
    .option("--json", "print a JSON array instead of a table")
    .option("--region <region>", "AWS region (default: AWS_REGION or the profile's)")
    .option("--profile <profile>", "AWS profile (default: AWS_PROFILE or default)")
    .option("-v, --verbose", "write diagnostics to stderr")
    .action(async (opts) => {
      const { deps } = ctx;
      ctx.setExitCode(
        await runList({
          json: Boolean(opts.json),
          region: opts.region,
          profile: opts.profile,
          caBundle: deps.env("AWS_CA_BUNDLE") || undefined,
        }, { aws: deps.aws, writeOut: deps.writeOut, logger: ctx.logger(opts.verbose) }),
      );
    });
}
