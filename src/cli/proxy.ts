/**
 * `ssmssh proxy <target>`, run: the OpenSSH ProxyCommand. StartSession and the key push run side
 * by side, so setup costs one round trip; no byte is forwarded before the key file is in place.
 * stdout carries SSH bytes only; every human message goes to the logger (stderr). Its command
 * line is read by proxy_args.ts (or, for anything unusual, by commander: proxy_command.ts).
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
import {
  awsTargetResolver,
  keyHostFor,
  parseTargetQuery,
  type PickStrategy,
  type ResolvedTarget,
  type TargetCacheSettings,
} from "./resolve_target.ts";

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
