/**
 * `ssmssh proxy <target>`: the OpenSSH ProxyCommand. StartSession and the key push run side by
 * side, so setup costs one round trip; no byte is forwarded before the key file is in place.
 * stdout carries SSH bytes only; every human message goes to the logger (stderr).
 *
 * @example
 * ```ts
 * const code = await runProxy({ target: "i-0123456789abcdef0", port: 22, ... }, deps);
 * ```
 * @module
 */

import { resumeSession, startSession, terminateSession } from "../aws/session_api.ts";
import { sendSshPublicKey } from "../aws/instance_connect.ts";
import { ProxySession } from "../session/proxy_session.ts";
import { SsmsshError } from "../errors.ts";
import { type PreparedKey, prepareKey, reapExpiredKeys } from "../keys/key_store.ts";
import type { AwsContext, AwsOptions } from "../aws/aws_context.ts";
import type { TransportFactory } from "../transport/websocket_transport.ts";
import type { ByteSink } from "../session/port_session.ts";
import type { Logger } from "../log/logger.ts";
import { parsePort } from "./target.ts";
import {
  awsTargetResolver,
  keyHostFor,
  parseTargetQuery,
  type PickStrategy,
  type ResolvedTarget,
  type TargetCacheSettings,
  targetCacheSettings,
} from "./resolve_target.ts";
import { Command, Option } from "commander";
import type { CommandContext } from "./context.ts";
import { keyDirFor } from "./config_command.ts";
import { defaultSshDir } from "../config/ssh_config_file.ts";

/** Options of `ssmssh proxy`. */
export interface ProxyOptions extends AwsOptions {
  target: string;
  port: number;
  document?: string;
  reason?: string;
  /** OS user for the key push (ssh's %r). */
  user: string;
  /** Push an ephemeral key with EC2 Instance Connect (EC2 targets only). */
  pushKey: boolean;
  /** Per-user key store directory. */
  keyDir: string;
  /** How long a pushed key is valid (the service's 60 s; shorter against a test emulator). */
  keyValidityMs?: number;
  /** Among several instances with the name, take the first online one (by id). */
  pick?: PickStrategy;
  /** Name lookup cache; undefined: every name is looked up. */
  targetCache?: TargetCacheSettings;
}

/** What `proxy` needs from the process. */
export interface ProxyDeps {
  aws(options: AwsOptions): AwsContext;
  connect: TransportFactory;
  stdin: ReadableStream<Uint8Array>;
  stdout: ByteSink;
  logger: Logger;
  signal?: AbortSignal;
  /** Deletes the store's expired keys at `at` (epoch ms), even if this process has ended. */
  scheduleKeyReap(dir: string, at: number): void;
}

/** Runs one proxied SSH connection; resolves 0 on a normal end, throws SsmsshError otherwise. */
export async function runProxy(options: ProxyOptions, deps: ProxyDeps): Promise<number> {
  const query = parseTargetQuery(options.target);
  const aws = deps.aws({ ...options, logger: deps.logger });
  const resolver = awsTargetResolver(aws, options);
  const target = await resolver.resolve(query);
  if (target.source !== "id") {
    deps.logger.debug(`${target.host} is ${target.id} (${target.source})`);
  }
  const [started, key] = await Promise.allSettled([
    startSession(aws.ssm, {
      target: target.id,
      portNumber: options.port,
      documentName: options.document,
      reason: options.reason,
    }),
    pushKey(target, options, aws, deps.logger),
  ]);
  if (key.status === "fulfilled" && key.value && key.value.action !== "reused") {
    deps.scheduleKeyReap(options.keyDir, key.value.expiresAt);
  }
  if (started.status === "rejected") {
    if (target.source === "cache") await resolver.forget(query);
    throw started.reason;
  }
  if (key.status === "rejected") {
    await terminateSession(aws.ssm, started.value.sessionId).catch(() => {});
    throw key.reason;
  }
  deps.logger.debug(
    `started session ${started.value.sessionId} to ${target.id}:${options.port}`,
  );
  void reapExpiredKeys(options.keyDir).catch(() => {});

  const session = new ProxySession({
    ...started.value,
    connect: deps.connect,
    resume: () => resumeSession(aws.ssm, started.value.sessionId),
    input: deps.stdin,
    output: deps.stdout,
    logger: deps.logger,
    signal: deps.signal,
  });
  const outcome = await session.run();
  if (outcome.kind === "channel-closed" && outcome.output) {
    if (session.port.bytesOut === 0) {
      throw new SsmsshError(
        "target",
        `The agent on ${target.id} ended the session: ${outcome.output}`,
        `Check that sshd listens on port ${options.port} on the instance (or pass --port)`,
      );
    }
    deps.logger.info(outcome.output);
  }
  if (outcome.kind === "input-ended" && !outcome.drained) {
    deps.logger.warn("some data sent at the end of the session was not acknowledged");
  }
  return 0;
}

async function pushKey(
  target: ResolvedTarget,
  options: ProxyOptions,
  aws: AwsContext,
  logger: Logger,
): Promise<PreparedKey | undefined> {
  if (!options.pushKey) return undefined;
  if (target.kind === "managed") {
    logger.info(
      `${target.id} is a managed node without EC2 Instance Connect: no key pushed, ` +
        `ssh uses your own keys`,
    );
    return undefined;
  }
  const key = await prepareKey({
    dir: options.keyDir,
    user: options.user,
    target: keyHostFor(target),
    validityMs: options.keyValidityMs,
    push: (line) => sendSshPublicKey(aws.ec2InstanceConnect, target.id, options.user, line),
  });
  logger.debug(
    `key ${key.path}: ${key.action}, valid until ${new Date(key.expiresAt).toISOString()}`,
  );
  return key;
}

/** `ssmssh proxy <target>`. */
export function proxyCommand(ctx: CommandContext): Command {
  return new Command("proxy")
    .description("act as an OpenSSH ProxyCommand: ssmssh proxy %h --port %p --user %r")
    .argument("<target>", "instance id (i-…, mi-…), Name tag (web-1) or tag:Key=Value")
    .option("-p, --port <port>", "port sshd listens on, on the instance", "22")
    .option("--user <name>", "OS user the pushed key is for (pass %r)", "ec2-user")
    .option("--no-push-key", "do not push an ephemeral key with EC2 Instance Connect")
    .option("--key-dir <dir>", "ephemeral key store (default ~/.ssh/ssmssh/keys)")
    .option("--region <region>", "AWS region (default: AWS_REGION or the profile's)")
    .option("--profile <profile>", "AWS profile (default: AWS_PROFILE or default)")
    .option("--document <name>", "Session document", "AWS-StartSSHSession")
    .option("--reason <text>", "reason recorded with the session, for audit trails")
    .addOption(
      new Option("--pick <which>", "several instances with the name: take the first online one")
        .choices(["first"]),
    )
    .option("-v, --verbose", "write diagnostics to stderr")
    .action(async (target: string, opts) => {
      const { deps } = ctx;
      const validity = Number(deps.env("SSMSSH_PUSH_VALIDITY_SECONDS"));
      ctx.setExitCode(
        await runProxy({
          target,
          port: parsePort(opts.port),
          user: opts.user,
          pushKey: opts.pushKey,
          keyDir: opts.keyDir ?? keyDirFor(defaultSshDir()),
          keyValidityMs: validity > 0 ? validity * 1000 : undefined,
          region: opts.region,
          profile: opts.profile,
          caBundle: deps.env("AWS_CA_BUNDLE") || undefined,
          document: opts.document,
          reason: opts.reason,
          pick: opts.pick,
          targetCache: targetCacheSettings(deps.env),
        }, { ...deps, logger: ctx.logger(opts.verbose) }),
      );
    });
}
