/**
 * The command line: parses arguments with commander and dispatches to the commands. Returns an
 * exit code; never exits the process itself.
 *
 * @example
 * ```ts
 * Deno.exit(await run(Deno.args, processDeps()));
 * ```
 * @module
 */

import { Command, CommanderError } from "commander";
import { type LogLevel, stderrLogger } from "../log/logger.ts";
import { ExitCode, reportError } from "./report.ts";
import { type ProxyDeps, runProxy } from "./proxy_command.ts";
import { keyDirFor, runConfig } from "./config_command.ts";
import { sshArgv } from "./ssh_command.ts";
import { parsePort } from "./target.ts";
import { CLIENT_VERSION } from "../session/handshake.ts";
import { defaultSshDir } from "../config/ssh_config_file.ts";
import { reapExpiredKeys } from "../keys/key_store.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** Process-level dependencies of every command. */
export interface CliDeps extends Omit<ProxyDeps, "logger"> {
  env(name: string): string | undefined;
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** Runs the system ssh with stdio inherited; resolves its exit code. */
  runSsh(args: string[]): Promise<number>;
  sleep(ms: number): Promise<void>;
}

/** The version line printed by `--version`. */
export const VERSION_LINE =
  `ssmssh ${denoJson.version} (Session Manager client version ${CLIENT_VERSION})`;

/** Runs the command line `args` and resolves the exit code. */
export async function run(args: string[], deps: CliDeps): Promise<number> {
  let exitCode = 0;
  const defaultKeyDir = () => keyDirFor(defaultSshDir());
  const program = new Command("ssmssh")
    .description("SSH to AWS instances through Session Manager, with no plugin and no keys")
    .version(VERSION_LINE, "-V, --version")
    .exitOverride()
    .configureOutput({ writeOut: deps.writeOut, writeErr: deps.writeErr })
    .showHelpAfterError("(run `ssmssh --help` for usage)");

  program.command("proxy")
    .description("act as an OpenSSH ProxyCommand: ssmssh proxy %h --port %p --user %r")
    .argument("<target>", "instance id (i-…) or managed node id (mi-…)")
    .option("-p, --port <port>", "port sshd listens on, on the instance", "22")
    .option("--user <name>", "OS user the pushed key is for (pass %r)", "ec2-user")
    .option("--no-push-key", "do not push an ephemeral key with EC2 Instance Connect")
    .option("--key-dir <dir>", "ephemeral key store (default ~/.ssh/ssmssh/keys)")
    .option("--region <region>", "AWS region (default: AWS_REGION or the profile's)")
    .option("--profile <profile>", "AWS profile (default: AWS_PROFILE or default)")
    .option("--document <name>", "Session document", "AWS-StartSSHSession")
    .option("--reason <text>", "reason recorded with the session, for audit trails")
    .option("-v, --verbose", "write diagnostics to stderr")
    .action(async (target: string, opts) => {
      const logger = stderrLogger(logLevel(opts.verbose, deps), deps.writeErr);
      const validity = Number(deps.env("SSMSSH_PUSH_VALIDITY_SECONDS"));
      exitCode = await runProxy({
        target,
        port: parsePort(opts.port),
        user: opts.user,
        pushKey: opts.pushKey,
        keyDir: opts.keyDir ?? defaultKeyDir(),
        keyValidityMs: validity > 0 ? validity * 1000 : undefined,
        region: opts.region,
        profile: opts.profile,
        caBundle: deps.env("AWS_CA_BUNDLE") || undefined,
        document: opts.document,
        reason: opts.reason,
      }, { ...deps, logger });
    });

  program.command("config")
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
      exitCode = await runConfig({
        patterns,
        user: opts.user,
        region: opts.region,
        profile: opts.profile,
        file: opts.file,
        pushKey: opts.pushKey,
        dryRun: Boolean(opts.dryRun),
        remove: Boolean(opts.remove),
      }, deps.writeOut);
    });

  program.command("ssh")
    .description("run ssh through ssmssh without any ssh config: ssmssh ssh i-… -- uptime")
    .argument("<destination>", "[user@]instance id (user defaults to ec2-user)")
    .argument("[ssh-args...]", "arguments for ssh, after --")
    .option("--no-push-key", "do not push an ephemeral key")
    .option("--key-dir <dir>", "ephemeral key store (default ~/.ssh/ssmssh/keys)")
    .option("--region <region>", "AWS region")
    .option("--profile <profile>", "AWS profile")
    .action(async (destination: string, sshArgs: string[], opts) => {
      exitCode = await deps.runSsh(sshArgv({
        destination,
        sshArgs,
        keyDir: opts.keyDir ?? defaultKeyDir(),
        pushKey: opts.pushKey,
        region: opts.region,
        profile: opts.profile,
      }));
    });

  const keys = program.command("keys").description("manage the ephemeral key store");
  keys.command("reap")
    .description("delete keys whose push has expired")
    .option("--key-dir <dir>", "key store (default ~/.ssh/ssmssh/keys)")
    .option("--wait-until <epochMs>", "first wait until this time")
    .action(async (opts) => {
      const until = Number(opts.waitUntil ?? 0);
      if (until > Date.now()) await deps.sleep(until - Date.now());
      await reapExpiredKeys(opts.keyDir ?? defaultKeyDir());
    });

  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return reportError(error, (line) => deps.writeErr(`${line}\n`));
  }
}

function logLevel(verbose: boolean | undefined, deps: CliDeps): LogLevel {
  if (verbose) return "debug";
  const fromEnv = deps.env("SSMSSH_LOG");
  if (fromEnv && ["debug", "info", "warn", "error", "silent"].includes(fromEnv)) {
    return fromEnv as LogLevel;
  }
  return "info";
}
