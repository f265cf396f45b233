/**
 * `ssmssh config`: makes plain `ssh user@i-…` work by writing an ssmssh-owned file next to the
 * user's ssh config and adding one managed Include block to it (see src/config). Idempotent,
 * `--dry-run` shows the exact diff, `--remove` restores the original byte for byte.
 *
 * @example
 * ```ts
 * await runConfig({ patterns: [], pushKey: true, dryRun: true, remove: false }, deps);
 * ```
 * @module
 */

import { buildProxyCommand, ProxyCommandError } from "../config/proxy_command.ts";
import { ManagedBlockError } from "../config/ssh_config_plan.ts";
import {
  type ConfigReport,
  installSshConfig,
  joinPath,
  removeSshConfig,
  sshConfigPaths,
} from "../config/ssh_config_file.ts";
import { SsmsshError } from "../errors.ts";
import { selfArgv } from "./self_command.ts";
import { Command } from "commander";
import type { CommandContext } from "./context.ts";
import { keyDirFor } from "./key_dir.ts";

/** Options of `ssmssh config`. */
export interface ConfigOptions {
  patterns: string[];
  user?: string;
  region?: string;
  profile?: string;
  /** The ssh config file to patch (default ~/.ssh/config). */
  file?: string;
  pushKey: boolean;
  dryRun: boolean;
  remove: boolean;
}

/** Runs `ssmssh config`; writes the report to `writeOut`. */
export async function runConfig(
  options: ConfigOptions,
  writeOut: (text: string) => void,
): Promise<number> {
  try {
    const report = options.remove
      ? await removeSshConfig({ configFile: options.file, dryRun: options.dryRun })
      : await installSshConfig({
        configFile: options.file,
        dryRun: options.dryRun,
        owned: ownedConfig(options),
      });
    writeOut(describe(report, options));
    return 0;
  } catch (error) {
    if (error instanceof ManagedBlockError) {
      const [cause, hint] = error.message.split("\nHint: ");
      throw new SsmsshError("config", cause, hint ?? "Fix the file by hand, then run again");
    }
    if (error instanceof ProxyCommandError) {
      throw new SsmsshError("config", error.message, "Install ssmssh in a plain path and rerun");
    }
    throw error;
  }
}

function ownedConfig(options: ConfigOptions) {
  const { sshDir } = sshConfigPaths(undefined, options.file);
  const keyDir = keyDirFor(sshDir);
  const argv = [...selfArgv(), "proxy", "%h", "--port", "%p", "--user", "%r"];
  if (options.pushKey) argv.push("--key-dir", keyDir);
  else argv.push("--no-push-key");
  if (options.region) argv.push("--region", options.region);
  if (options.profile) argv.push("--profile", options.profile);
  return {
    hostPatterns: options.patterns,
    proxyCommand: buildProxyCommand(argv),
    user: options.user,
    identityFile: options.pushKey ? joinPath(keyDir, "%r@%h") : undefined,
    extraOptions: options.pushKey ? [["IdentitiesOnly", "yes"]] as [string, string][] : [],
  };
}

function describe(report: ConfigReport, options: ConfigOptions): string {
  const { configPath, ownedPath } = report.paths;
  const lines: string[] = [];
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  if (options.dryRun) {
    const diff = report.ownedDiff + report.configDiff;
    lines.push(diff === "" ? "No changes." : diff.trimEnd());
    lines.push("(dry run: nothing was written)");
    return lines.join("\n") + "\n";
  }
  if (!report.configChanged && !report.ownedChanged) {
    lines.push(`${configPath} is already set up; nothing changed.`);
  } else if (options.remove) {
    lines.push(
      report.configDeleted
        ? `Removed ${configPath} (ssmssh had created it) and ${ownedPath}.`
        : `Removed the ssmssh block from ${configPath} and deleted ${ownedPath}.`,
    );
  } else {
    lines.push(`Wrote ${ownedPath}.`);
    if (report.configChanged) lines.push(`Added an Include of it at the top of ${configPath}.`);
    lines.push(`Try: ssh ${options.user ? "" : "ec2-user@"}i-0123456789abcdef0`);
  }
  if (report.backupPath) lines.push(`Backup of the previous file: ${report.backupPath}`);
  return lines.join("\n") + "\n";
}

/** `ssmssh config [patterns…]`. */
export function configCommand(ctx: CommandContext): Command {
  return new Command("config")
    .description("set up ~/.ssh/config so `ssh ec2-user@i-…` goes through ssmssh")
    .argument("[patterns...]", "host patterns to route through ssmssh", ["i-*", "mi-*"])
    .option("--user <name>", "default remote user for these hosts (e.g. ec2-user)")
    .option("--region <region>", "AWS region to use for these hosts")
    .option("--profile <profile>", "AWS profile to use for these hosts")
    .option("--file <path>", "ssh config file to patch (default ~/.ssh/config)")
    .option("--no-push-key", "use your own keys instead of ephemeral pushed keys")
    .option("--dry-run", "show the exact changes without writing anything")
    .option("--remove", "undo: remove the ssmssh block and file")
    .action(async (patterns: string[], opts) => {
      ctx.setExitCode(
        await runConfig({
          patterns,
          user: opts.user,
          region: opts.region,
          profile: opts.profile,
          file: opts.file,
          pushKey: opts.pushKey,
          dryRun: Boolean(opts.dryRun),
          remove: Boolean(opts.remove),
        }, ctx.deps.writeOut),
      );
    });
}
