/**
 * `ssmssh proxy <target>`: the OpenSSH ProxyCommand. stdout carries SSH bytes only; every
 * human message goes to the logger (stderr).
 *
 * @example
 * ```ts
 * const code = await runProxy({ target: "i-0123456789abcdef0", port: 22 }, deps);
 * ```
 * @module
 */

import { resumeSession, startSession } from "../aws/session_api.ts";
import { ProxySession } from "../session/proxy_session.ts";
import { SsmsshError } from "../errors.ts";
import type { AwsContext, AwsOptions } from "../aws/aws_context.ts";
import type { TransportFactory } from "../transport/websocket_transport.ts";
import type { ByteSink } from "../session/port_session.ts";
import type { Logger } from "../log/logger.ts";
import { parseTarget } from "./target.ts";

/** Options of `ssmssh proxy`. */
export interface ProxyOptions extends AwsOptions {
  target: string;
  port: number;
  document?: string;
  reason?: string;
}

/** What `proxy` needs from the process. */
export interface ProxyDeps {
  aws(options: AwsOptions): AwsContext;
  connect: TransportFactory;
  stdin: ReadableStream<Uint8Array>;
  stdout: ByteSink;
  logger: Logger;
  signal?: AbortSignal;
}

/** Runs one proxied SSH connection; resolves 0 on a normal end, throws SsmsshError otherwise. */
export async function runProxy(options: ProxyOptions, deps: ProxyDeps): Promise<number> {
  const target = parseTarget(options.target);
  const aws = deps.aws(options);
  const started = await startSession(aws.ssm, {
    target: target.id,
    portNumber: options.port,
    documentName: options.document,
    reason: options.reason,
  });
  deps.logger.debug(`started session ${started.sessionId} to ${target.id}:${options.port}`);
  const session = new ProxySession({
    ...started,
    connect: deps.connect,
    resume: () => resumeSession(aws.ssm, started.sessionId),
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
