/**
 * ssm:StartSession, ssm:ResumeSession and ssm:TerminateSession (spec §1), with SDK errors turned
 * into one-line causes and hints.
 *
 * @example
 * ```ts
 * const started = await startSession(aws.ssm, { target: "i-0123456789abcdef0", portNumber: 22 });
 * ```
 * @module
 */

import {
  ResumeSessionCommand,
  type SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { toSsmsshError } from "./aws_errors.ts";

/** The three values StartSession and ResumeSession return. */
export interface StartedSession {
  sessionId: string;
  streamUrl: string;
  tokenValue: string;
}

/** StartSession input for a Port document. */
export interface StartSessionRequest {
  target: string;
  portNumber: number;
  documentName?: string;
  reason?: string;
}

/** Calls ssm:StartSession with a Port document (AWS-StartSSHSession by default). */
export async function startSession(
  ssm: SSMClient,
  request: StartSessionRequest,
): Promise<StartedSession> {
  const documentName = request.documentName ?? "AWS-StartSSHSession";
  try {
    const out = await ssm.send(
      new StartSessionCommand({
        Target: request.target,
        DocumentName: documentName,
        Parameters: { portNumber: [String(request.portNumber)] },
        Reason: request.reason || undefined,
      }),
    );
    if (!out.SessionId || !out.StreamUrl || !out.TokenValue) {
      throw new Error("StartSession returned no SessionId, StreamUrl or TokenValue");
    }
    return { sessionId: out.SessionId, streamUrl: out.StreamUrl, tokenValue: out.TokenValue };
  } catch (error) {
    throw toSsmsshError(error, {
      action: "ssm:StartSession",
      target: request.target,
      documentName,
    });
  }
}

/** Calls ssm:ResumeSession; resolves the new TokenValue, or undefined if there is none. */
export async function resumeSession(
  ssm: SSMClient,
  sessionId: string,
): Promise<string | undefined> {
  try {
    const out = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    return out.TokenValue || undefined;
  } catch (error) {
    throw toSsmsshError(error, { action: "ssm:ResumeSession" });
  }
}

/** Calls ssm:TerminateSession. */
export async function terminateSession(ssm: SSMClient, sessionId: string): Promise<void> {
  try {
    await ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
  } catch (error) {
    throw toSsmsshError(error, { action: "ssm:TerminateSession" });
  }
}
