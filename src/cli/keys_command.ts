/**
 * `ssmssh keys reap`: deletes ephemeral keys whose push has expired. A finished proxy starts it
 * detached, so keys do not outlive their 60 seconds even when the connection was shorter.
 * @module
 */

import { Command } from "commander";
import type { CommandContext } from "./context.ts";
import { keyDirFor } from "./key_dir.ts";
import { defaultSshDir } from "../config/ssh_config_file.ts";
import { reapExpiredKeys } from "../keys/key_store.ts";

/** `ssmssh keys …`. */
export function keysCommand(ctx: CommandContext): Command {
  const keys = new Command("keys").description("manage the ephemeral key store");
  keys.command("reap")
    .description("delete keys whose push has expired")
    .option("--key-dir <dir>", "key store (default ~/.ssh/ssmssh/keys)")
    .option("--wait-until <epochMs>", "first wait until this time")
    .action(async (opts) => {
      const until = Number(opts.waitUntil ?? 0);
      if (until > Date.now()) await ctx.deps.sleep(until - Date.now());
      await reapExpiredKeys(opts.keyDir ?? keyDirFor(defaultSshDir()));
    });
  return keys;
}
