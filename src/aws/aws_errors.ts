/**
 * Turns AWS SDK errors into SsmsshError: one line saying what failed, one hint saying what to do,
 * with the IAM action that is missing for access errors. Never includes tokens.
 *
 * @example
 * ```ts
 * try { await ssm.send(cmd); } catch (e) { throw toSsmsshError(e, { action: "ssm:StartSession" }); }
 * ```
 * @module
 */

import { SsmsshError } from "../errors.ts";

/** What the failed call was about, for the message and hint. */
export interface AwsCallContext {
  action: string;
  target?: string;
  documentName?: string;
}

const CREDENTIAL_ERRORS = new Set([
  "ExpiredTokenException",
  "ExpiredToken",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
]);

/** Maps any error thrown by an SDK call to an SsmsshError. */
export function toSsmsshError(error: unknown, call: AwsCallContext): SsmsshError {
  if (error instanceof SsmsshError) return error;
  const e = error as { name?: string; message?: string; $metadata?: unknown };
  const name = e?.name ?? "Error";
  const message = causeChain(error);
  const mapped = classify(name, message, call);
  return new SsmsshError(mapped.kind, mapped.message, mapped.hint, { cause: error });
}

function classify(name: string, message: string, call: AwsCallContext): {
  kind: SsmsshError["kind"];
  message: string;
  hint: string;
} {
  const target = call.target ?? "the target";
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    if (/sso/i.test(message) && /(expired|refresh)/i.test(message)) {
      return {
        kind: "credentials",
        message: `The AWS SSO session has expired: ${firstLine(message)}`,
        hint: "Run `aws sso login --profile <your profile>` and try again",
      };
    }
    return {
      kind: "credentials",
      message: "No AWS credentials found",
      hint: "Set AWS_PROFILE (or --profile), run `aws configure` or `aws sso login`, " +
        "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    };
  }
  if (/Region is missing/i.test(message)) {
    return {
      kind: "usage",
      message: "No AWS region is configured",
      hint: "Pass --region, set AWS_REGION, or add `region = …` to your profile",
    };
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return {
      kind: "credentials",
      message: `AWS rejected the credentials (${name}): ${firstLine(message)}`,
      hint: "Refresh them: `aws sso login`, a new session token, or check the system clock",
    };
  }
  if (/AccessDenied|UnauthorizedOperation|AccessDeniedException/.test(name)) {
    return {
      kind: "access-denied",
      message: `Access denied: you are not allowed ${call.action} (${firstLine(message)})`,
      hint: accessHint(call),
    };
  }
  if (name === "TargetNotConnected") {
    return {
      kind: "target",
      message: `${target} is not connected to Session Manager`,
      hint: "Check that the SSM Agent runs on it with an instance profile granting " +
        "AmazonSSMManagedInstanceCore and outbound 443 to ssm/ssmmessages (`ssmssh doctor`)",
    };
  }
  if (name === "AuthException") {
    return {
      kind: "access-denied",
      message: `Access denied: you are not allowed ${call.action} (${firstLine(message)})`,
      hint: accessHint(call),
    };
  }
  if (name === "EC2InstanceNotFoundException") {
    return {
      kind: "target",
      message: `${target} was not found by EC2 Instance Connect`,
      hint: "Check the instance id and the region (--region)",
    };
  }
  if (name === "EC2InstanceStateInvalidException" || name === "EC2InstanceUnavailableException") {
    return {
      kind: "target",
      message: `${target} cannot take a key now: ${firstLine(message)}`,
      hint: "Start the instance, or skip the key push with --no-push-key and use your own key",
    };
  }
  if (name === "InvalidArgsException") {
    return {
      kind: "usage",
      message: `EC2 Instance Connect refused the request: ${firstLine(message)}`,
      hint: "Check the OS user (--user, or the user in `ssh user@host`)",
    };
  }
  if (name === "InvalidDocument") {
    return {
      kind: "usage",
      message: `Session document ${call.documentName ?? ""} cannot be used: ${firstLine(message)}`,
      hint: "Use AWS-StartSSHSession (the default) or a Port session document you own",
    };
  }
  if (name === "InvalidInstanceId" || name === "InvalidTarget" || name === "ValidationException") {
    return {
      kind: "target",
      message: `${target} was refused: ${firstLine(message)}`,
      hint:
        "Check the instance id and the region (--region); `ssmssh list` shows managed instances",
    };
  }
  if (/Throttl|TooManyRequests/.test(name)) {
    return {
      kind: "connection",
      message: `AWS is throttling ${call.action}`,
      hint: "Wait a moment and retry, or spread out parallel connections",
    };
  }
  if (/certificate|UnknownIssuer|tls handshake|InvalidCertificate/i.test(message)) {
    return {
      kind: "connection",
      message: `The TLS certificate of the AWS API was not trusted: ${firstLine(message)}`,
      hint: "If a corporate proxy re-signs TLS, set AWS_CA_BUNDLE to its CA certificate (PEM)",
    };
  }
  if (isNetworkError(name, message)) {
    return {
      kind: "connection",
      message: `Cannot reach the AWS API for ${call.action}: ${firstLine(message)}`,
      hint: "Check the network, the region, and HTTPS_PROXY if you are behind a proxy",
    };
  }
  return {
    kind: "internal",
    message: `${call.action} failed: ${name}: ${firstLine(message)}`,
    hint: "Run again with -v for details; if it persists, report it with that output",
  };
}

function accessHint(call: AwsCallContext): string {
  if (call.action === "ssm:StartSession") {
    const document = call.documentName ?? "AWS-StartSSHSession";
    return `Allow ssm:StartSession on arn:aws:ec2:REGION:ACCOUNT:instance/${call.target ?? "*"} ` +
      `and on arn:aws:ssm:REGION::document/${document}`;
  }
  if (call.action === "ec2-instance-connect:SendSSHPublicKey") {
    return `Allow ec2-instance-connect:SendSSHPublicKey on arn:aws:ec2:REGION:ACCOUNT:instance/${
      call.target ?? "*"
    } (the condition key ec2:osuser limits the OS user)`;
  }
  return `Allow ${call.action} in your IAM policy`;
}

function isNetworkError(name: string, message: string): boolean {
  return name === "TimeoutError" || name === "TypeError" ||
    /ECONNREFUSED|ENOTFOUND|fetch failed|connection refused|dns error|timed out|timeout/i.test(
      message,
    );
}

/** "fetch failed: … : invalid peer certificate" — the error and its causes, deepest last. */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const text = e instanceof Error ? e.message : String(e);
    if (text && !parts.includes(text)) parts.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}

/** The first line of a service or SDK message, trimmed and capped for a one-line error. */
export function firstLine(text: string): string {
  return text.split("\n")[0].trim().slice(0, 300);
}
