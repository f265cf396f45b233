/**
 * `ssmssh ssh <target> [-- ssh args…]`: runs the system `ssh` with ssmssh as its ProxyCommand
 * and the ephemeral key, for people who have not run `ssmssh config` and for CI steps.
 *
 * @example
 * ```ts
 * const argv = sshArgv({ target: "ec2-user@i-0123456789abcdef0", sshArgs: ["uptime"], ... });
 * ```
 * @module
 */

import { joinPath } from "../config/ssh_config_file.ts";
import { selfArgv } from "./self_command.ts";
import { buildProxyCommand } from "../config/proxy_command.ts";
import { Command } from "commander";
import type { CommandContext } from "./context.ts";
import { keyDirFor } from "./key_dir.ts";
import { defaultSshDir } from "../config/ssh_config_file.ts";

/** Options of `ssmssh ssh`. */
export interface SshOptions {
  /** `[user@]target`, passed to ssh as given; without a user, `ec2-user`. */
  destination: string;
  sshArgs: string[];
  keyDir: string;
  pushKey: boolean;
  region?: string;
  profile?: string;
}

/** The argv (without the leading `ssh`) for the system ssh. */
export function sshArgv(options: SshOptions): string[] {
  const proxy = [...selfArgv(), "proxy", "%h", "--port", "%p", "--user", "%r"];
  if (options.pushKey) proxy.push("--key-dir", options.keyDir);
  else proxy.push("--no-push-key");
  if (options.region) proxy.push("--region", options.region);
  if (options.profile) proxy.push("--profile", options.profile);
  const args = ["-o", `ProxyCommand=${buildProxyCommand(proxy)}`];
  if (options.pushKey) {
    args.push(
      "-o",
      `IdentityFile=${joinPath(options.keyDir, "%r@%h")}`,
      "-o",
      "IdentitiesOnly=yes",
    );
  }
  const [user, host] = options.destination.includes("@")
    ? options.destination.split("@", 2)
    : [undefined, options.destination];
  if (!user) args.push("-l", "ec2-user");
  return [...args, ...(user ? [`${user}@${host}`] : [host]), ...options.sshArgs];
}

/** `ssmssh ssh <destination> [-- ssh args…]`. */
export function sshCommand(ctx: CommandContext): Command {
  return new Command("ssh")
    .description("run ssh through ssmssh without any ssh config: ssmssh ssh i-… -- uptime")
    .argument("<destination>", "[user@]instance id (user defaults to ec2-user)")
    .argument("[ssh-args...]", "arguments for ssh, after --")
    .option("--no-push-key", "do not push an ephemeral key")
    .option("--key-dir <dir>", "ephemeral key store (default ~/.ssh/ssmssh/keys)")
    .option("--region <region>", "AWS region")
    .option("--profile <profile>", "AWS profile")
    .action(async (destination: string, sshArgs: string[], opts) => {
      ctx.setExitCode(
        await ctx.deps.runSsh(sshArgv({
          destination,
          sshArgs,
          keyDir: opts.keyDir ?? keyDirFor(defaultSshDir()),
          pushKey: opts.pushKey,
          region: opts.region,
          profile: opts.profile,
        })),
      );
    });
}
